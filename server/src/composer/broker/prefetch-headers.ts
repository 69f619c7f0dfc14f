/**
 * Which headers of a page's sign-in check or read the broker keeps to make the next lease's same calls before its
 * page asks (lease-credentials.ts, prefetch). A page is hostile and the next lease is someone else's call: only the
 * plain headers every page of the app sends alike are kept — `accept`, `accept-language` and an `origin` that is the
 * app's own — short and printable, and nothing is kept from a call that carries a conditional or cache header (a
 * page must not choose what the next lease's platform call asks). A prefetched answer is used only when the page asks
 * with exactly the same passed-on headers. Pure.
 */

/** The calls that are prefetched. */
export type PrefetchKind = 'sign-in' | 'read';

/** The headers that may be kept. */
const KEPT = new Set(['accept', 'accept-language', 'origin']);
/** Longest value kept. */
const MAX_VALUE_CHARS = 256;

/**
 * The passed-on headers (names in lower case) of a page's GET, when they may be prefetched with: only `accept`,
 * `accept-language` and `origin`, the origin the app's own, every value short and printable ASCII. Undefined otherwise.
 */
export function prefetchableHeaders(method: string, headers: Record<string, string>, appOrigin: string | undefined): Record<string, string> | undefined {
  if (method.toUpperCase() !== 'GET' || appOrigin === undefined) return undefined;
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!KEPT.has(name)) return undefined;
    if (value.length > MAX_VALUE_CHARS || !/^[\x20-\x7e]*$/.test(value)) return undefined;
    kept[name] = value;
  }
  if (kept['origin'] !== appOrigin) return undefined;
  return kept;
}

/** A key of a header set that does not depend on the order of its names (pure). */
export function prefetchKey(headers: Record<string, string>): string {
  return JSON.stringify(Object.entries(headers).toSorted(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
