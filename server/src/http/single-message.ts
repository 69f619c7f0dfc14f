import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { sendJsonRpcError } from './json-rpc-error.ts';

/**
 * Refuses JSON-RPC batches (a JSON array body) with 400: MCP has none since 2025-06-18, and a batch would slip many
 * calls past the per-request rate limit and the browser lease queue in one POST. One message per POST.
 */
export function refuseBatches(): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    if (!Array.isArray(req.body)) return next();
    sendJsonRpcError(res, 400, -32600, 'JSON-RPC batches are not accepted: send each message in its own POST (MCP has no batches since revision 2025-06-18).');
  };
}
