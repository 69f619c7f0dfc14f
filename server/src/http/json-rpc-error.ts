import type { Response } from 'express';

/** Answers an HTTP request with a JSON-RPC error object (id null: the request was refused before it was read). */
export function sendJsonRpcError(res: Response, status: number, code: number, message: string): void {
  if (res.headersSent) return;
  res.status(status).json({ jsonrpc: '2.0', error: { code, message }, id: null });
}
