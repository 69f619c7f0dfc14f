import { createHash, timingSafeEqual } from 'node:crypto';

/** Why a request was refused; `undefined` from {@link checkBearer} means it was let through. */
export type AuthFailure = 'missing' | 'malformed' | 'invalid' | 'no-token-configured';

/** Extracts the token of an `Authorization: Bearer <token>` header; undefined when absent or not a bearer header. */
export function parseBearer(header: string | string[] | undefined): string | undefined {
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer[ \t]+([^\s]+)[ \t]*$/i.exec(header);
  return match?.[1];
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** Compares two secrets in time that does not depend on where they differ or on their lengths (both are hashed first). */
export function secretsEqual(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

/**
 * Decides whether an `Authorization` header carries one of the accepted tokens. Every accepted token is compared
 * (no early exit), so timing does not reveal which one matched. No accepted tokens refuses everything.
 */
export function checkBearer(header: string | string[] | undefined, accepted: readonly string[]): AuthFailure | undefined {
  if (accepted.length === 0) return 'no-token-configured';
  if (header === undefined) return 'missing';
  const presented = parseBearer(header);
  if (presented === undefined) return 'malformed';
  let ok = false;
  for (const token of accepted) ok = secretsEqual(presented, token) || ok;
  return ok ? undefined : 'invalid';
}

/** The tokens a token file holds: every non-empty line, trimmed (several lines let a rotation overlap). */
export function parseTokenFile(text: string): string[] {
  return text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length > 0);
}
