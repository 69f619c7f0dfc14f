import { BrowserFailedError } from './errors.ts';

/** What the retry decision looks at. */
export interface RetryInput {
  /** The error the attempt ended with. */
  error: unknown;
  /** The caller marked its work safe to run twice. */
  idempotent: boolean;
  /** 1 for the first attempt. */
  attempt: number;
  /** Upper bound on attempts (default 2: the first try and one retry). */
  maxAttempts?: number;
}

/**
 * Whether a lease should be tried again on another browser. Only a browser failure qualifies, never an error of
 * the work itself; a failure before the work started (setup) is always safe to retry, a failure during the work
 * only when the work is idempotent; and at most `maxAttempts` attempts are made. Pure.
 */
export function shouldRetryLease(input: RetryInput): boolean {
  const maxAttempts = input.maxAttempts ?? 2;
  if (input.attempt >= maxAttempts) return false;
  if (!(input.error instanceof BrowserFailedError)) return false;
  return input.error.phase === 'setup' || input.idempotent;
}
