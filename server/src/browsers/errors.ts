/**
 * Errors the browser router reports. Each carries a stable `code` (matching the tool error codes) and a message
 * that says what happened and what the caller can do.
 */

/** Every browser in the pool stayed busy past the queue deadline (or the queue was full); retry after the hint. */
export class BrowserBusyError extends Error {
  /** Stable machine-readable code. */
  readonly code = 'BROWSER_BUSY';
  /** Seconds after which a retry is likely to find a free browser (estimated from observed lease hold times). */
  readonly retryAfterSeconds: number;

  constructor(message: string, retryAfterSeconds: number) {
    super(message);
    this.name = 'BrowserBusyError';
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/**
 * A browser's gateway refused a new context: the browser already holds its cap over all servers (another replica
 * took the last slot first). The router places the lease elsewhere or waits; it surfaces only when that keeps failing.
 */
export class BrowserAtCapacityError extends BrowserBusyError {
  /** Id of the browser that refused. */
  readonly browserId: string;

  constructor(browserId: string, options?: { cause?: unknown }) {
    super(`Browser ${browserId} is at its session cap (its gateway refused a new context); retry in a moment`, 1);
    this.name = 'BrowserAtCapacityError';
    this.browserId = browserId;
    if (options?.cause !== undefined) this.cause = options.cause;
  }
}

/** No healthy browser was available (none configured, all down, or the router is stopped). */
export class BrowserUnavailableError extends Error {
  /** Stable machine-readable code. */
  readonly code = 'BROWSER_UNAVAILABLE';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BrowserUnavailableError';
  }
}

/** Where a browser failure hit a lease: before the caller's work started ("setup") or while it ran ("work"). */
export type FailurePhase = 'setup' | 'work';

/** The browser holding a lease died or became unreachable; the lease's work did not complete there. */
export class BrowserFailedError extends Error {
  /** Stable machine-readable code. */
  readonly code = 'BROWSER_FAILED';
  /** Id of the browser that failed. */
  readonly browserId: string;
  /** Whether the caller's work had started when the browser failed. */
  readonly phase: FailurePhase;
  /** What happened to the browser ("disconnected", "health check failed", ...). */
  readonly reason: string;

  constructor(browserId: string, phase: FailurePhase, reason: string, options?: { cause?: unknown }) {
    super(
      phase === 'setup'
        ? `Browser ${browserId} failed while preparing the lease (${reason}); the work did not start`
        : `Browser ${browserId} failed during the lease (${reason}); the work did not complete and may be retried`,
      options,
    );
    this.name = 'BrowserFailedError';
    this.browserId = browserId;
    this.phase = phase;
    this.reason = reason;
  }
}

/**
 * A lease's work ran past the lease deadline; the router closed its context (which ends a page that spins in
 * `while (true) {}` too, where Playwright calls would wait forever) and freed its slot.
 */
export class LeaseDeadlineError extends Error {
  /** Stable machine-readable code. */
  readonly code = 'LEASE_DEADLINE';
  /** Id of the browser the lease ran on. */
  readonly browserId: string;
  /** The deadline that passed, in milliseconds. */
  readonly deadlineMs: number;

  constructor(browserId: string, deadlineMs: number) {
    super(`The lease on browser ${browserId} ran past its deadline of ${deadlineMs} ms; its context was closed`);
    this.name = 'LeaseDeadlineError';
    this.browserId = browserId;
    this.deadlineMs = deadlineMs;
  }
}
