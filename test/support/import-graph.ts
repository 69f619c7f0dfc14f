import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** Package.json `imports` patterns of the form `#name/*` → `./dir/*`, as [prefix, directory] pairs. */
export type ImportMap = ReadonlyArray<readonly [prefix: string, directory: string]>;

/** Reads the `#x/*` → `./y/*` subpath import patterns of `<root>/package.json`. */
export function readImportMap(root: string): ImportMap {
  const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { imports?: Record<string, string> };
  return Object.entries(manifest.imports ?? {})
    .filter(([key, target]) => key.endsWith('/*') && typeof target === 'string' && target.endsWith('/*'))
    .map(([key, target]) => [key.slice(0, -1), path.join(root, target.slice(0, -1))] as const);
}

/** Removes comments from TypeScript source, leaving string and template literals intact. */
export function stripComments(source: string): string {
  return source.replace(
    /("(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'|`(?:\\.|[^`\\])*`)|\/\*[\s\S]*?\*\/|\/\/[^\n]*/g,
    (match, literal: string | undefined) => literal ?? (match.startsWith('/*') ? ' ' : ''),
  );
}

/**
 * The module specifiers a TypeScript file loads at run time: static `import … from '…'`, `export … from '…'`,
 * side-effect `import '…'` and dynamic `import('…')` with a literal specifier. `import type` and `export type`
 * are erased by type stripping and so left out; `import { type X } from` still loads the module and is kept.
 */
export function runtimeSpecifiers(source: string): string[] {
  return specifiers(source, false);
}

/** Every module specifier a TypeScript file names: {@link runtimeSpecifiers} plus `import type` / `export type`. */
export function allSpecifiers(source: string): string[] {
  return specifiers(source, true);
}

function specifiers(source: string, withTypeOnly: boolean): string[] {
  const code = stripComments(source);
  const found: string[] = [];
  for (const m of code.matchAll(/(?:^|[;\n}])\s*(import|export)\s+(type\s+)?([^'"`;]*?)\bfrom\s*(['"])([^'"]+)\4/g)) {
    if (withTypeOnly || m[2] === undefined) found.push(m[5]!);
  }
  for (const m of code.matchAll(/(?:^|[;\n}])\s*import\s*(['"])([^'"]+)\1/g)) found.push(m[2]!);
  for (const m of code.matchAll(/\bimport\s*\(\s*(['"])([^'"]+)\1\s*\)/g)) found.push(m[2]!);
  return found;
}

/**
 * The absolute path a specifier names inside the project, or undefined for a bare package name or `node:` builtin.
 * Throws when a `#` specifier matches no import pattern.
 */
export function resolveSpecifier(specifier: string, fromFile: string, importMap: ImportMap): string | undefined {
  if (specifier.startsWith('./') || specifier.startsWith('../')) return path.resolve(path.dirname(fromFile), specifier);
  if (specifier.startsWith('#')) {
    const entry = importMap.find(([prefix]) => specifier.startsWith(prefix));
    if (entry === undefined) throw new Error(`${fromFile}: ${specifier} matches no package.json "imports" pattern`);
    return path.join(entry[1], specifier.slice(entry[0].length));
  }
  return undefined;
}

/** Every project file reached from `entry` through run-time imports (including `entry`), as absolute paths, sorted. */
export function transitiveImports(entry: string, importMap: ImportMap): string[] {
  const seen = new Set<string>();
  const pending = [path.resolve(entry)];
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (seen.has(file)) continue;
    if (!existsSync(file)) throw new Error(`imported file does not exist: ${file}`);
    seen.add(file);
    for (const specifier of runtimeSpecifiers(readFileSync(file, 'utf8'))) {
      const target = resolveSpecifier(specifier, file, importMap);
      if (target !== undefined && !seen.has(target)) pending.push(target);
    }
  }
  return [...seen].toSorted();
}
