import type { Request, RequestHandler } from 'express';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import type { AuthInfo } from '@modelcontextprotocol/server';
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

/** The client-address key of a request (IPv6 grouped by /56), for limits that apply before anyone is authenticated. */
export function addressKey(req: Request): string {
  return `ip:${ipKeyGenerator(req.ip ?? 'unknown')}`;
}

/**
 * Limits failed authentications per client address, and runs before the verifier: once an address has caused
 * `maxFailures` 401s in the window, its requests get 429 with `Retry-After` without their token being verified (so a
 * flood of bad tokens costs no signature checks or JWKS fetches). Only 401 answers count.
 */
export function failedAuthenticationLimit(options: { windowSeconds: number; maxFailures: number }): RequestHandler {
  return rateLimit({
    windowMs: options.windowSeconds * 1000,
    limit: options.maxFailures,
    standardHeaders: false,
    legacyHeaders: false,
    requestPropertyName: 'failedAuthenticationLimit',
    keyGenerator: addressKey,
    skipSuccessfulRequests: true,
    requestWasSuccessful: (_req, res) => res.statusCode !== 401,
    validate: { keyGeneratorIpFallback: false },
    handler: (req, res) => {
      const info = (req as Request & { failedAuthenticationLimit?: { resetTime?: Date } }).failedAuthenticationLimit;
      const seconds = retryAfterSeconds(info?.resetTime, Date.now(), options.windowSeconds);
      res.setHeader('Retry-After', String(seconds));
      sendJsonRpcError(res, 429, RATE_LIMITED_CODE, `Too many failed authentications from this address: the limit is ${options.maxFailures} per ${options.windowSeconds} s; retry after ${seconds} s with a valid token.`);
    },
  });
}
