import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { allSpecifiers, readImportMap, resolveSpecifier, type ImportMap } from '#support/import-graph.ts';
import { areaOf, boundaryViolations, findCycles, type ImportEdge } from '#support/import-boundaries.ts';

const root = path.resolve(import.meta.dirname, '..', '..', '..');

/** The production packages: each may import only itself and the packages listed (docs/architecture.md, "Layers"). */
const PACKAGES: Record<string, string[]> = {
  'common/src': [],
  'kube/src': ['common/src'],
  'browser/src': ['common/src'],
  'operator/src': ['common/src', 'kube/src'],
  'server/src': ['common/src', 'kube/src', 'browser/src'],
};

/**
 * Inside the server, dependencies point one way: domain (composer) ← tools ← transport (mcp, http, auth) ← the
 * composition root (main, services-factory). The browser leasing layer (browsers) sits below the domain.
 */
const SERVER_FORBIDDEN: Record<string, string[]> = {
  'server/src/composer': ['server/src/tools', 'server/src/browsers', 'server/src/mcp', 'server/src/http', 'server/src/auth', 'server/src/main', 'server/src/services-factory'],
  'server/src/browsers': ['server/src/composer', 'server/src/tools', 'server/src/mcp', 'server/src/http', 'server/src/auth', 'server/src/main', 'server/src/services-factory'],
  'server/src/tools': ['server/src/mcp', 'server/src/http', 'server/src/auth', 'server/src/main', 'server/src/services-factory'],
  'server/src/mcp': ['server/src/http', 'server/src/auth', 'server/src/main', 'server/src/services-factory'],
};

function sourceFiles(dir: string): string[] {
  return readdirSync(path.join(root, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => path.relative(root, path.join(e.parentPath, e.name)));
}

function edgesOf(files: string[], importMap: ImportMap): ImportEdge[] {
  return files.flatMap((from) => allSpecifiers(readFileSync(path.join(root, from), 'utf8'))
    .map((specifier) => resolveSpecifier(specifier, path.join(root, from), importMap))
    .filter((target): target is string => target !== undefined)
    .map((target) => ({ from, to: path.relative(root, target) })));
}

describe('import boundaries (the architecture, checked on every file and every import, type-only ones too)', () => {
  const importMap = readImportMap(root);
  const production = Object.keys(PACKAGES).flatMap(sourceFiles);
  const edges = edgesOf(production, importMap);

  it('finds the production sources and their imports', () => {
    expect(production.length).to.be.greaterThan(100);
    expect(edges.some((e) => e.from.startsWith('operator/src/') && e.to.startsWith('kube/src/'))).to.equal(true);
  });

  it('each package imports only itself and the packages below it (the server never imports the operator; nothing imports tests)', () => {
    const violations = boundaryViolations(edges, (from, to) => {
      const fromPackage = Object.keys(PACKAGES).find((p) => from.startsWith(`${p}/`))!;
      return to.startsWith(`${fromPackage}/`) || PACKAGES[fromPackage]!.some((p) => to.startsWith(`${p}/`)) || to === 'package.json';
    });
    expect(violations, 'imports that cross a package boundary the wrong way').to.deep.equal([]);
  });

  it('inside the server, dependencies point from transport to tools to the domain, never back', () => {
    const serverEdges = edges.filter((e) => e.from.startsWith('server/src/') && e.to.startsWith('server/src/'));
    const crossings = new Set(serverEdges.map((e) => `${areaOf(e.from)} -> ${areaOf(e.to)}`));
    const forbidden = [...crossings].filter((pair) => {
      const [from, to] = pair.split(' -> ') as [string, string];
      return SERVER_FORBIDDEN[from]?.includes(to) ?? false;
    });
    expect(forbidden, 'layer violations (see SERVER_FORBIDDEN)').to.deep.equal([]);
  });

  it('errors become tool results in one place: only the tools layer\'s tool-errors.ts knows the browser pool\'s errors and the domain\'s error type', () => {
    const importers = (target: string) => [...new Set(edges.filter((e) => e.to === target && !e.from.startsWith(target.slice(0, target.lastIndexOf('/') + 1))).map((e) => e.from))].toSorted();
    // The browser pool's errors outside the pool itself: only the one mapping (and the composition root, which builds the pool).
    expect(importers('server/src/browsers/errors.ts').filter((f) => !f.startsWith('server/src/services-factory'))).to.deep.equal(['server/src/tools/tool-errors.ts']);
    // Outside the domain, the domain's error type is read only by the mapping (tool-definition.ts takes its codes' type).
    expect(importers('server/src/composer/composer-error.ts').filter((f) => !f.startsWith('server/src/composer/'))).to.deep.equal(['server/src/tools/tool-definition.ts', 'server/src/tools/tool-errors.ts']);
  });

  it('has no import cycle among the production sources and the test support code', () => {
    const support = sourceFiles('test/support');
    const cycles = findCycles([...edges, ...edgesOf(support, importMap)]);
    expect(cycles.map((c) => c.join(' -> ')), 'import cycles').to.deep.equal([]);
  });
});

describe('import boundary helpers', () => {
  it('reports every edge the rule refuses, once, sorted', () => {
    const edges = [
      { from: 'server/src/a.ts', to: 'operator/src/b.ts' },
      { from: 'server/src/a.ts', to: 'kube/src/c.ts' },
      { from: 'server/src/a.ts', to: 'operator/src/b.ts' },
    ];
    expect(boundaryViolations(edges, (_from, to) => !to.startsWith('operator/'))).to.deep.equal(['server/src/a.ts -> operator/src/b.ts']);
  });

  it('finds a cycle and names its files in order', () => {
    const cycles = findCycles([
      { from: 'a.ts', to: 'b.ts' }, { from: 'b.ts', to: 'c.ts' }, { from: 'c.ts', to: 'a.ts' }, { from: 'c.ts', to: 'd.ts' },
    ]);
    expect(cycles).to.deep.equal([['a.ts', 'b.ts', 'c.ts', 'a.ts']]);
    expect(findCycles([{ from: 'a.ts', to: 'b.ts' }, { from: 'a.ts', to: 'c.ts' }, { from: 'b.ts', to: 'c.ts' }])).to.deep.equal([]);
  });

  it('names the server area of a file: its first directory under server/src, or the file itself', () => {
    expect(areaOf('server/src/composer/session/browser-work.ts')).to.equal('server/src/composer');
    expect(areaOf('server/src/main.ts')).to.equal('server/src/main');
  });
});
