import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { AuthInfo } from '@modelcontextprotocol/server';
import type { Logger } from '#common/logger.ts';
import { sendJsonRpcError } from '#server/http/json-rpc-error.ts';
import { InvalidTokenError, type BearerVerifier } from './bearer-verifier.ts';
import { metadataUrlFor, resourceUrlFor, wwwAuthenticate } from './protected-resource.ts';

/** JSON-RPC error code used for authentication failures (server-defined range). */
export const UNAUTHORIZED_CODE = -32001;

/** The bearer token of an Authorization header, undefined when absent or not a bearer credential. */
export function bearerTokenOf(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
}

/**
 * Requires a valid bearer token. On success the request carries `auth` (SDK AuthInfo; `clientId` is the subject), so
 * tools see the subject. On failure: 401, `WWW-Authenticate` pointing at the protected-resource metadata, and a
 * JSON-RPC error body saying what was wrong.
 */
export function bearerAuth(options: { verifier: BearerVerifier; resourceUrl: string | undefined; logger: Logger }): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const reject = (description: string): void => {
      const metadataUrl = metadataUrlFor(resourceUrlFor(req, options.resourceUrl));
      res.setHeader('WWW-Authenticate', wwwAuthenticate(metadataUrl, description));
      sendJsonRpcError(res, 401, UNAUTHORIZED_CODE, `Unauthorized: ${description}`);
    };
    const token = bearerTokenOf(req.headers.authorization);
    if (!token) {
      reject('Missing bearer token; send "Authorization: Bearer <token>".');
      return;
    }
    void verifyAndContinue(token);
    async function verifyAndContinue(value: string): Promise<void> {
      let verified;
      try {
        verified = await options.verifier.verify(value);
      } catch (error) {
        const description = error instanceof InvalidTokenError ? error.description : 'The token could not be verified.';
        options.logger.info('Rejected bearer token', { reason: description, ip: req.ip });
        try {
          reject(description);
        } catch (failure) {
          // Answering must never become an unhandled rejection: hand the failure to Express's error handler.
          next(failure);
        }
        return;
      }
      const auth: AuthInfo = { token: value, clientId: verified.subject, scopes: verified.scopes, extra: { subject: verified.subject, clientId: verified.clientId } };
      if (verified.expiresAt !== undefined) auth.expiresAt = verified.expiresAt;
      (req as Request & { auth?: AuthInfo }).auth = auth;
      next();
    }
  };
}
