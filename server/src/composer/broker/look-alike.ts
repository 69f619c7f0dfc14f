import { randomBytes, randomInt } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader } from 'jose';

/**
 * Look-alike credentials: what a page gets instead of the real Composer token and project key. A look-alike has
 * the shape of the real value (an app that decodes the JWT sees the same header and claims) but is worthless
 * anywhere else: its signature is random, so no API accepts it, and it is unique per lease, so it names the lease
 * whose page sent it. Pure apart from the random source.
 */

/** True when `token` is a compact JWS whose header and claims decode (the signature is not checked). */
export function isDecodableJwt(token: string): boolean {
  if (token.split('.').length !== 3) return false;
  try {
    decodeProtectedHeader(token);
    decodeJwt(token);
    return true;
  } catch {
    return false;
  }
}

const DIGITS = '0123456789';
const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** A character of the same class (digit, lower- or upper-case letter) drawn at random; anything else is kept. */
function sameClass(char: string, random: (max: number) => number): string {
  for (const alphabet of [DIGITS, LOWER, UPPER]) if (alphabet.includes(char)) return alphabet[random(alphabet.length)]!;
  return char;
}

/**
 * An opaque value of the same shape as `value`: same length, each letter or digit replaced by a random one of its
 * class, separators (`-`, `_`, `.`, …) kept in place. A UUID stays a UUID, hex stays hex-like.
 */
export function sameShapeRandom(value: string, random: (max: number) => number = randomInt): string {
  return Array.from(value, (char) => sameClass(char, random)).join('');
}

/**
 * The look-alike of an access token: for a JWT, the same header and payload segments byte for byte and a random
 * signature of the same length (base64url); for anything else, a same-shape random value.
 */
export function lookAlikeToken(token: string, random: (max: number) => number = randomInt): string {
  if (!isDecodableJwt(token)) return sameShapeRandom(token, random);
  const [header, payload, signature] = token.split('.') as [string, string, string];
  const bytes = Math.max(1, Math.floor((signature.length * 6) / 8));
  const fake = randomBytes(bytes).toString('base64url').slice(0, signature.length).padEnd(signature.length, 'A');
  return `${header}.${payload}.${fake}`;
}

/** The look-alike of a project key (or any opaque secret): a same-shape random value. */
export function lookAlikeKey(key: string, random: (max: number) => number = randomInt): string {
  return sameShapeRandom(key, random);
}

/**
 * A look-alike that differs from the real value and from every value in `taken` (retries the draw; a secret with
 * no letters or digits to randomise gets random letters appended, so it still differs).
 */
export function uniqueLookAlike(real: string, make: (real: string) => string, taken: (candidate: string) => boolean): string {
  for (let attempt = 0; attempt < 16; attempt++) {
    const candidate = make(real);
    if (candidate !== real && !taken(candidate)) return candidate;
  }
  for (;;) {
    const candidate = `${real}${randomBytes(12).toString('hex')}`;
    if (!taken(candidate)) return candidate;
  }
}
