import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Logger } from '#common/logger.ts';
import type { RunningCalls } from '#server/mcp/running-calls.ts';
import { callerOf } from './caller-identity.ts';
import { viewOf } from './json-rpc-message.ts';

/**
 * Serves a 2025-era `notifications/cancelled` POST. Over stateless HTTP it arrives in its own request, at an instance
 * that never saw the call, so the edge routes it to the process-wide registry, scoped to the caller (subject or caller
 * nonce): a caller reaches only its own calls, and an anonymous caller without a nonce reaches none. Answered 202 like
 * any notification. (A 2026-07-28 client cancels by closing the request's stream instead.)
 */
export function legacyCancellation(runningCalls: RunningCalls | undefined, logger: Logger): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const view = viewOf(req.body);
    if (!view || view.method !== 'notifications/cancelled' || view.isRequest || view.envelopeVersion !== undefined) return next();
    const requestId = view.params?.['requestId'];
    const reason = typeof view.params?.['reason'] === 'string' ? view.params['reason'] : 'no reason given';
    const caller = callerOf((req as Request & { auth?: { clientId?: string } }).auth?.clientId, req.headers['mcp-session-id']);
    if (typeof requestId !== 'string' && typeof requestId !== 'number') {
      logger.info('Ignored cancellation', { reason: 'no requestId' });
    } else if (caller === undefined || !runningCalls) {
      logger.info('Refused cancellation', { requestId: String(requestId), reason: 'the caller cannot be told apart from other anonymous callers (no Mcp-Session-Id of an initialize answer)' });
    } else {
      const outcome = runningCalls.cancel(caller, requestId, reason);
      logger.info('Received cancellation', { requestId: String(requestId), outcome });
    }
    res.status(202).end();
  };
}
