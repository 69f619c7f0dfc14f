import type { PathSegment } from './json-path.ts';

/** Deepest nesting the validator walks; deeper documents are rejected before any other check. */
export const MAX_DEPTH = 64;

/** The nesting depth of a JSON value, computed without recursion; stops counting past `limit`. */
export function jsonDepth(value: unknown, limit = MAX_DEPTH): number {
  let max = 0;
  const stack: { value: unknown; depth: number }[] = [{ value, depth: 0 }];
  while (stack.length > 0) {
    const { value: current, depth } = stack.pop() as { value: unknown; depth: number };
    if (depth > max) max = depth;
    if (max > limit) return max;
    if (typeof current === 'object' && current !== null) {
      for (const child of Object.values(current)) stack.push({ value: child, depth: depth + 1 });
    }
  }
  return max;
}

/** Calls `visit` for every string in a JSON value with its path (keys are not visited). Depth-bounded by the caller. */
export function forEachString(value: unknown, path: PathSegment[], visit: (text: string, path: PathSegment[]) => void): void {
  if (typeof value === 'string') visit(value, path);
  else if (Array.isArray(value)) value.forEach((item, i) => forEachString(item, [...path, i], visit));
  else if (typeof value === 'object' && value !== null) {
    for (const [key, child] of Object.entries(value)) forEachString(child, [...path, key], visit);
  }
}

/** Calls `visit` for every object that has an `id` property (string) with the path of that id. */
export function forEachId(value: unknown, path: PathSegment[], visit: (id: string, path: PathSegment[]) => void): void {
  if (Array.isArray(value)) value.forEach((item, i) => forEachId(item, [...path, i], visit));
  else if (typeof value === 'object' && value !== null) {
    for (const [key, child] of Object.entries(value)) {
      if (key === 'id' && typeof child === 'string') visit(child, [...path, key]);
      else forEachId(child, [...path, key], visit);
    }
  }
}

/** Calls `visit` for every object key in a JSON value with the path of its member. Depth-bounded by the caller. */
export function forEachKey(value: unknown, path: PathSegment[], visit: (key: string, path: PathSegment[]) => void): void {
  if (Array.isArray(value)) value.forEach((item, i) => forEachKey(item, [...path, i], visit));
  else if (typeof value === 'object' && value !== null) {
    for (const [key, child] of Object.entries(value)) {
      visit(key, [...path, key]);
      forEachKey(child, [...path, key], visit);
    }
  }
}
