import { createHash } from 'node:crypto';

/**
 * The canonical JSON of a value: object keys sorted at every depth, no whitespace, `undefined` members dropped.
 * Two documents that differ only in key order or formatting have the same canonical JSON.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    const text = JSON.stringify(value);
    return text === undefined ? 'null' : text;
  }
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v === undefined ? null : v)).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined && typeof v !== 'function')
    .toSorted(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** The idempotency key of a composition when the caller gives none: `sha256:` + hex SHA-256 of its canonical JSON. */
export function contentIdempotencyKey(composition: unknown): string {
  return `sha256:${createHash('sha256').update(canonicalJson(composition)).digest('hex')}`;
}

/** A short, file-name-safe digest of an idempotency key (used in the uploaded file's name). */
export function keyDigest(key: string): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 32);
}
