import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';

/**
 * The header that carries an anonymous caller's nonce. A 2025-era client echoes the `Mcp-Session-Id` of its
 * `initialize` answer on every later request (the spec requires it), so the server hands out a random one there:
 * not a session (nothing is kept under it, any replica accepts any value, GET and DELETE stay 405) but a name for the
 * caller that another client cannot guess.
 */
export const CALLER_NONCE_HEADER = 'mcp-session-id';

const NONCE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** True for a JSON-RPC `initialize` request body. */
export function isInitializeRequest(body: unknown): boolean {
  return typeof body === 'object' && body !== null && !Array.isArray(body) && (body as { method?: unknown }).method === 'initialize' && 'id' in body;
}

/** Gives every `initialize` answer a fresh caller nonce (see CALLER_NONCE_HEADER). Mount after the body parser. */
export function issueCallerNonce(): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    if (isInitializeRequest(req.body)) res.setHeader('Mcp-Session-Id', randomUUID());
    next();
  };
}

/**
 * Who is calling, for deciding who may cancel a call: the authenticated subject when there is one, else the caller
 * nonce the client echoes, else undefined (an anonymous caller without a nonce cannot cancel across requests: any
 * other client could name its request ids).
 */
export function callerOf(subject: string | undefined, nonceHeader: string | string[] | undefined): string | undefined {
  if (subject) return `sub:${subject}`;
  const nonce = typeof nonceHeader === 'string' ? nonceHeader.trim().toLowerCase() : undefined;
  return nonce && NONCE.test(nonce) ? `nonce:${nonce}` : undefined;
}
