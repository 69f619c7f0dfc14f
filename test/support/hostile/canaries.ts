import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import { encodedForms } from '#common/secret-encodings.ts';

/** Canary credentials: a real, accepted JWT (about the 3.3 KB of the real token) and a project key, both unique per run. */
export interface Canaries {
  token: string;
  projectKey: string;
}

/** Makes canaries the stand-in accepts (the token is signed with its HS256 secret). */
export async function makeCanaries(jwtSecret: string): Promise<Canaries> {
  const token = await new SignJWT({ name: 'Canary', pad: 'c'.repeat(2400), nonce: randomBytes(8).toString('hex') })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject('canary-subject')
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(jwtSecret));
  return { token, projectKey: `canary-project-key-${randomBytes(10).toString('hex')}` };
}

/**
 * Every form of the canaries that must never appear outside the server: each value raw, URL-encoded, base64 and
 * base64url at every alignment, and the token's signature alone (its header and claims are not secret: the page's
 * look-alike has them too).
 */
export function canaryForms(canaries: Canaries): string[] {
  const signature = canaries.token.split('.')[2]!;
  return [canaries.token, signature, canaries.projectKey].flatMap((value) => [value, ...encodedForms(value)]);
}

/** The canary forms found in `text` (shortened, so a failure message does not print a whole token). */
export function canaryLeaks(text: string, canaries: Canaries): string[] {
  return canaryForms(canaries)
    .filter((form) => text.includes(form))
    .map((form) => `${form.slice(0, 24)}… (${form.length} chars)`);
}
