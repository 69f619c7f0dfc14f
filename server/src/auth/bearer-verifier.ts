import { createRemoteJWKSet, errors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { secretRedactor } from '#common/redaction.ts';
import { readSecretFile } from '#server/config.ts';

/** Why a bearer token was refused; `description` is safe to send to the client (it never contains the token). */
export class InvalidTokenError extends Error {
  readonly description: string;
  constructor(description: string, options: { cause?: unknown } = {}) {
    super(description, { cause: options.cause });
    this.name = 'InvalidTokenError';
    this.description = description;
  }
}

/** The identity a valid token carries. */
export interface VerifiedToken {
  subject: string;
  /** `client_id` / `azp` claim when present, else the subject. */
  clientId: string;
  scopes: string[];
  /** Expiry in seconds since the epoch. */
  expiresAt: number | undefined;
}

/** Checks bearer tokens: signature, issuer, audience, expiry (with clock tolerance). */
export interface BearerVerifier {
  /** Resolves the token's identity or throws InvalidTokenError saying what was wrong. */
  verify(token: string): Promise<VerifiedToken>;
}

/** What the verifier checks against. Exactly one of `hs256Secret` or `jwksUrl`. */
export interface BearerVerifierOptions {
  issuer: string;
  audience: string;
  hs256Secret?: Uint8Array;
  jwksUrl?: string;
  clockToleranceSeconds: number;
}

/** The `WWW-Authenticate`-safe description of a jose verification failure. */
export function describeJoseError(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'The token has expired; get a new one from the authorization server.';
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'aud') return 'The token was issued for another audience; request a token for this server.';
    if (error.claim === 'iss') return 'The token was issued by an untrusted issuer.';
    if (error.claim === 'nbf') return 'The token is not valid yet.';
    return `The token's "${error.claim}" claim is invalid.`;
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'The token signature is invalid.';
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid) return 'The token is malformed (not a signed JWT).';
  if (error instanceof errors.JOSEAlgNotAllowed) return 'The token is signed with an algorithm this server does not accept.';
  if (error instanceof errors.JWKSNoMatchingKey) return 'No key of the authorization server matches the token.';
  if (error instanceof errors.JWKSTimeout) return 'The authorization server keys could not be fetched in time; retry.';
  return 'The token could not be verified.';
}

/** Builds a verifier from explicit options (HS256 secret or a remote JWKS). */
export function createBearerVerifier(options: BearerVerifierOptions): BearerVerifier {
  const key: Uint8Array | JWTVerifyGetKey | undefined = options.hs256Secret ?? (options.jwksUrl ? createRemoteJWKSet(new URL(options.jwksUrl)) : undefined);
  if (!key) throw new Error('A bearer verifier needs an HS256 secret or a JWKS URL.');
  const algorithms = options.hs256Secret ? ['HS256'] : ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];
  return {
    async verify(token) {
      try {
        const { payload } = await jwtVerify(token, key as never, {
          issuer: options.issuer,
          audience: options.audience,
          algorithms,
          clockTolerance: options.clockToleranceSeconds,
          requiredClaims: ['exp', 'sub'],
        });
        const subject = payload.sub?.trim() ?? '';
        if (!subject) throw new InvalidTokenError('The token has an empty subject ("sub" claim); the authorization server must name who the token is for.');
        const clientId = typeof payload['client_id'] === 'string' ? payload['client_id'] : typeof payload['azp'] === 'string' ? payload['azp'] : subject;
        const scope = typeof payload['scope'] === 'string' ? payload['scope'] : '';
        return { subject, clientId, scopes: scope.split(' ').filter(Boolean), expiresAt: payload.exp };
      } catch (error) {
        if (error instanceof InvalidTokenError) throw error;
        throw new InvalidTokenError(describeJoseError(error), { cause: error });
      }
    },
  };
}

/** Builds the verifier the auth config asks for, reading and registering the HS256 secret (never logged). */
export function bearerVerifierFromConfig(auth: {
  issuer?: string | undefined;
  audience?: string | undefined;
  hs256SecretFile?: string | undefined;
  jwksUrl?: string | undefined;
  clockToleranceSeconds: number;
}): BearerVerifier {
  if (!auth.issuer || !auth.audience) throw new Error('auth.issuer and auth.audience are required when auth.mode is "jwt".');
  let hs256Secret: Uint8Array | undefined;
  if (auth.hs256SecretFile) {
    const secret = readSecretFile(auth.hs256SecretFile, 'auth.hs256SecretFile');
    secretRedactor.add(secret);
    hs256Secret = new TextEncoder().encode(secret);
  }
  return createBearerVerifier({
    issuer: auth.issuer,
    audience: auth.audience,
    clockToleranceSeconds: auth.clockToleranceSeconds,
    ...(hs256Secret ? { hs256Secret } : {}),
    ...(auth.jwksUrl ? { jwksUrl: auth.jwksUrl } : {}),
  });
}
