import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { finalStageContextCopies, isCopied } from './dockerfile-copies.ts';
import { readImportMap, resolveSpecifier, runtimeSpecifiers, transitiveImports } from '#support/import-graph.ts';

const root = path.resolve(import.meta.dirname, '..', '..', '..');

/** Each image: its Dockerfile and the entry point its CMD runs. */
const images = [
  { name: 'server', dockerfile: 'server/Dockerfile', entry: 'server/src/main.ts' },
  { name: 'operator', dockerfile: 'operator/Dockerfile', entry: 'operator/src/main.ts' },
  { name: 'browser', dockerfile: 'browser/Dockerfile', entry: 'browser/src/gateway-main.ts' },
] as const;

describe('image Dockerfiles copy every file their entry point imports', () => {
  const importMap = readImportMap(root);

  for (const image of images) {
    it(`${image.name} image (${image.dockerfile}) holds every project file ${image.entry} loads`, () => {
      const dockerfile = readFileSync(path.join(root, image.dockerfile), 'utf8');
      expect(dockerfile, `${image.dockerfile} CMD`).to.include(`"${image.entry}"`);
      const copied = finalStageContextCopies(dockerfile);
      const files = transitiveImports(path.join(root, image.entry), importMap).map((f) => path.relative(root, f));
      expect(files.length, 'import graph found').to.be.greaterThan(1);
      const missing = files.filter((f) => !isCopied(f, copied));
      expect(missing, `files ${image.entry} imports that ${image.dockerfile} does not COPY (copies: ${copied.join(', ')})`)
        .to.deep.equal([]);
    });
  }
});

describe('import graph parsing (used by the Dockerfile check)', () => {
  it('finds static, re-export, side-effect and dynamic imports, and skips type-only ones and comments', () => {
    const source = [
      "import { a, type B } from './a.ts';",
      "import type { C } from './c.ts';",
      "export { d } from '#common/d.ts';",
      "export type { E } from './e.ts';",
      "export * from './f.ts';",
      "import './g.ts';",
      "const h = await import('./h.ts');",
      "import {\n  i,\n  j,\n} from '#kube/runtime/i.ts';",
      "// import { k } from './k.ts';",
      "/** import { l } from './l.ts'; */",
      "const url = 'http://x/'; import m from 'node:fs';",
    ].join('\n');
    expect(runtimeSpecifiers(source)).to.have.members([
      './a.ts', '#common/d.ts', './f.ts', './g.ts', './h.ts', '#kube/runtime/i.ts', 'node:fs',
    ]);
  });

  it('resolves # imports through package.json and relative paths, and ignores packages', () => {
    const map = readImportMap(root);
    const from = path.join(root, 'server/src/browsers/x.ts');
    expect(resolveSpecifier('#kube/runtime/informer.ts', from, map)).to.equal(path.join(root, 'kube/src/runtime/informer.ts'));
    expect(resolveSpecifier('../y.ts', from, map)).to.equal(path.join(root, 'server/src/y.ts'));
    expect(resolveSpecifier('@kubernetes/client-node', from, map)).to.equal(undefined);
    expect(() => resolveSpecifier('#nope/z.ts', from, map)).to.throw(/matches no package.json "imports" pattern/);
  });

  it('reads the final stage context COPY sources, and context files reached through a --from copy', () => {
    const dockerfile = [
      'FROM node AS build', 'WORKDIR /app', 'COPY package.json package-lock.json ./', 'COPY tsconfig.json ./',
      'FROM node', 'WORKDIR /app',
      'COPY --from=build /app/node_modules/ node_modules/', 'COPY --from=build /app/package.json ./',
      'COPY --chown=0:0 common/src/ common/src/', 'COPY a.ts \\\n  ./b/ dest/',
    ].join('\n');
    const copies = finalStageContextCopies(dockerfile);
    expect(copies).to.deep.equal(['common/src', 'a.ts', 'b', 'package.json']);
    expect(isCopied('common/src/x.ts', copies)).to.equal(true);
    expect(isCopied('common/srcx/x.ts', copies)).to.equal(false);
    expect(isCopied('tsconfig.json', copies)).to.equal(false);
  });
});
