import type { SendError, SendResponse } from './http-sender.ts';

/**
 * What one upload attempt did, as far as the client can know. Only `refused` with `retry` may be repeated under
 * the same key; `unknown` must never be repeated without finding out first (composer.md documents no way to ask the
 * platform whether an upload arrived: no listing, no search, no idempotency header).
 */
export type UploadAttempt =
  | { kind: 'stored'; uid: string }
  /** The platform did not act on it (it said so, or the request never left): safe to repeat when `retry`. */
  | { kind: 'refused'; retry: boolean; status?: number; body?: string; redirect?: string; reason: string }
  /** Sent, and no usable answer: it may or may not have been stored. */
  | { kind: 'unknown'; status?: number; reason: string };

/**
 * Classifies an answer of the upload route (pure). 2xx with a uid: stored; 2xx without one: unknown (it was
 * accepted, its uid is lost). 307/308: refused (not acted on, by definition; never followed: the request carries
 * the token and Project-Key). Other 3xx: unknown (a 303 after a POST usually means "done, look there"). 408 and
 * 429: refused, retry. Other 4xx: refused. 502 and 504: unknown (a gateway forwarded the upload and lost the
 * answer). Other 5xx: refused, retry (the platform answered that it failed).
 */
export function classifyUploadAnswer(response: Pick<SendResponse, 'status' | 'body' | 'location'>): UploadAttempt {
  const { status, body } = response;
  if (status >= 200 && status <= 299) {
    let uid: unknown;
    try {
      uid = (JSON.parse(body) as { uid?: unknown }).uid;
    } catch {
      uid = undefined;
    }
    return typeof uid === 'string' && uid.length > 0 ? { kind: 'stored', uid } : { kind: 'unknown', status, reason: `HTTP ${status} without a composition uid in the answer` };
  }
  if (status >= 300 && status <= 399) {
    const redirect = response.location ?? '';
    if (status === 307 || status === 308) return { kind: 'refused', retry: false, status, redirect, reason: `a redirect (HTTP ${status}), not followed` };
    return { kind: 'unknown', status, reason: `a redirect (HTTP ${status}) after the upload was sent, not followed` };
  }
  if (status === 408 || status === 429) return { kind: 'refused', retry: true, status, body, reason: `HTTP ${status}` };
  if (status >= 400 && status <= 499) return { kind: 'refused', retry: false, status, body, reason: `HTTP ${status}` };
  if (status === 502 || status === 504) return { kind: 'unknown', status, reason: `HTTP ${status} from a gateway in front of the platform` };
  return { kind: 'refused', retry: status >= 500, status, body, reason: `HTTP ${status}` };
}

/** Classifies an upload that got no answer (pure): never sent → refused (retry unless cancelled); sent → unknown. */
export function classifyUploadFailure(error: Pick<SendError, 'phase' | 'reason' | 'message'>): UploadAttempt {
  if (error.phase === 'not-sent') return { kind: 'refused', retry: error.reason !== 'cancelled', reason: `not sent (${error.message})` };
  return { kind: 'unknown', reason: error.reason === 'timeout' ? `sent, no answer (${error.message})` : error.reason === 'cancelled' ? 'sent, then the call was cancelled before the answer came' : `sent, then the connection failed (${error.message})` };
}

/** The origin of a redirect target, for messages (its path and query may carry anything). */
export function redirectOrigin(location: string | undefined, base: string): string {
  if (!location) return 'an unnamed location';
  try {
    return new URL(location, base).origin;
  } catch {
    return 'an invalid location';
  }
}
