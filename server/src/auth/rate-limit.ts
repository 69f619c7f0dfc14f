import type { Request, RequestHandler } from 'express';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import { sendJsonRpcError } from '#server/http/json-rpc-error.ts';

/** JSON-RPC error code of a rate-limited request (server-defined range). */
export const RATE_LIMITED_CODE = -32029;

/** The rate-limit key of a request: the authenticated subject, else the client IP (IPv6 grouped by /56). */
export function rateLimitKey(req: Request): string {
  const subject = (req as Request & { auth?: AuthInfo }).auth?.clientId;
  return subject ? `sub:${subject}` : `ip:${ipKeyGenerator(req.ip ?? 'unknown')}`;
}

/** Seconds until a window resets, at least 1. */
export function retryAfterSeconds(resetTime: Date | undefined, now: number, windowSeconds: number): number {
  if (!resetTime) return windowSeconds;
  return Math.max(1, Math.ceil((resetTime.getTime() - now) / 1000));
}

/**
 * Per-client rate limiting (run after authentication so it is keyed by subject): over the limit, 429 with
 * `Retry-After` and a JSON-RPC error saying when to retry.
 */
export function perClientRateLimit(options: { windowSeconds: number; maxRequests: number }): RequestHandler {
  return rateLimit({
    windowMs: options.windowSeconds * 1000,
    limit: options.maxRequests,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    keyGenerator: rateLimitKey,
    validate: { keyGeneratorIpFallback: false },
    handler: (req, res) => {
      const info = (req as Request & { rateLimit?: { resetTime?: Date } }).rateLimit;
      const seconds = retryAfterSeconds(info?.resetTime, Date.now(), options.windowSeconds);
      res.setHeader('Retry-After', String(seconds));
      sendJsonRpcError(res, 429, RATE_LIMITED_CODE, `Too many requests: the limit is ${options.maxRequests} per ${options.windowSeconds} s per client; retry after ${seconds} s.`);
    },
  });
}
