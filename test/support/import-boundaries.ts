/** One import: repository-relative file paths. */
export interface ImportEdge {
  from: string;
  to: string;
}

/** The edges `allowed(from, to)` refuses, as `from -> to`, deduplicated and sorted. */
export function boundaryViolations(edges: readonly ImportEdge[], allowed: (from: string, to: string) => boolean): string[] {
  return [...new Set(edges.filter((e) => !allowed(e.from, e.to)).map((e) => `${e.from} -> ${e.to}`))].toSorted();
}

/** A server file's area: its first directory under `server/src` (`server/src/composer`), or the file without `.ts`. */
export function areaOf(file: string): string {
  return file.split('/').slice(0, 3).join('/').replace(/\.ts$/, '');
}

/** Every import cycle (depth-first; each as its files in import order, the first repeated at the end). */
export function findCycles(edges: readonly ImportEdge[]): string[][] {
  const next = new Map<string, string[]>();
  for (const { from, to } of edges) next.set(from, [...(next.get(from) ?? []), to]);
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const cycles: string[][] = [];
  const visit = (file: string): void => {
    state.set(file, 'open');
    stack.push(file);
    for (const target of next.get(file) ?? []) {
      if (state.get(target) === 'open') cycles.push([...stack.slice(stack.indexOf(target)), target]);
      else if (state.get(target) === undefined) visit(target);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of [...next.keys()].toSorted()) if (state.get(file) === undefined) visit(file);
  return cycles;
}
