/**
 * The one error type of the Composer domain (`server/src/composer`): what went wrong with a stable code, a message
 * that says what happened, a fix that says what to do, and optional details. The domain knows nothing of MCP; the
 * tools layer maps a ComposerError (and the browser layer's errors) to a tool result in one place
 * (`server/src/tools/tool-errors.ts`), keeping code, message, fix and details as they are.
 */

/** Stable machine-readable codes of domain errors (tool results carry them unchanged). */
export type ComposerErrorCode =
  | 'INVALID_INPUT'
  | 'INVALID_COMPOSITION'
  | 'NOT_CONFIGURED'
  | 'NOT_FOUND'
  | 'UPSTREAM_ERROR'
  | 'UPSTREAM_TIMEOUT'
  | 'SAVE_OUTCOME_UNKNOWN'
  | 'IDEMPOTENCY_STORE_FULL'
  | 'UNAUTHORIZED'
  | 'BROWSER_FAILED'
  | 'NAVIGATION_BLOCKED'
  | 'CAPTURE_TOO_LARGE'
  | 'CANCELLED';

/** What else a ComposerError carries. */
export interface ComposerErrorOptions {
  /** Facts a program can act on (JSON-serialisable; they reach the caller). */
  details?: Record<string, unknown>;
  /** Seconds after which a retry may succeed. */
  retryAfterSeconds?: number;
  cause?: unknown;
}

/** An error of the Composer domain: a code, what went wrong, and what to do about it. */
export class ComposerError extends Error {
  readonly code: ComposerErrorCode;
  readonly fix: string;
  readonly details: Record<string, unknown> | undefined;
  readonly retryAfterSeconds: number | undefined;

  constructor(code: ComposerErrorCode, message: string, fix: string, options: ComposerErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = 'ComposerError';
    this.code = code;
    this.fix = fix;
    this.details = options.details;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }

  /** The same error with `details` instead of its own (code, message, fix, retry hint and cause kept). */
  withDetails(details: Record<string, unknown>): ComposerError {
    return new ComposerError(this.code, this.message, this.fix, { details, ...(this.retryAfterSeconds !== undefined ? { retryAfterSeconds: this.retryAfterSeconds } : {}), cause: this.cause });
  }
}
