import type { NextFunction, Request, RequestHandler, Response } from 'express';

/** Request headers a browser MCP client sends. */
const ALLOWED_HEADERS = 'Content-Type, Authorization, Accept, Mcp-Protocol-Version, Mcp-Session-Id, Last-Event-ID';
/** Response headers a browser MCP client needs to read. */
const EXPOSED_HEADERS = 'WWW-Authenticate, Retry-After, Mcp-Protocol-Version, Mcp-Session-Id, RateLimit, RateLimit-Policy';

/**
 * CORS for browser clients on the origins listed in `http.allowedOrigins`: their requests get
 * `Access-Control-Allow-Origin` and the headers they must read, and preflights (OPTIONS) are answered 204. Other
 * origins get no CORS headers (and the origin guard refuses their actual requests).
 */
export function corsForAllowedOrigins(allowedOrigins: string[]): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const origin = req.headers.origin;
    if (origin && allowedOrigins.includes(origin)) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Access-Control-Expose-Headers', EXPOSED_HEADERS);
      res.setHeader('Vary', 'Origin');
      if (req.method === 'OPTIONS') {
        res.setHeader('Access-Control-Allow-Methods', 'POST, GET, DELETE, OPTIONS');
        res.setHeader('Access-Control-Allow-Headers', ALLOWED_HEADERS);
        res.setHeader('Access-Control-Max-Age', '600');
        res.status(204).end();
        return;
      }
    }
    next();
  };
}
