import { BrowserBusyError, BrowserFailedError, BrowserUnavailableError, LeaseDeadlineError } from '#server/browsers/errors.ts';
import { ComposerError } from '#server/composer/composer-error.ts';
import { ToolError } from './tool-definition.ts';

/**
 * The one place where errors become tool errors: what a tool handler throws — a ToolError of the tool layer, a
 * ComposerError of the domain, or an error of the browser pool that passed through the domain unchanged — becomes
 * the ToolError its `isError` result is made from (`runToolCall`, for direct calls and tasks alike). A domain error
 * keeps its code, message, fix, details and retry hint; the browser pool's errors get theirs here. Anything else is
 * undefined: a bug, answered INTERNAL by the caller.
 */
export function toolErrorFrom(error: unknown): ToolError | undefined {
  if (error instanceof ToolError) return error;
  if (error instanceof ComposerError) {
    return new ToolError(error.code, error.message, error.fix, { ...(error.details ? { details: error.details } : {}), ...(error.retryAfterSeconds !== undefined ? { retryAfterSeconds: error.retryAfterSeconds } : {}), cause: error });
  }
  return browserPoolError(error);
}

/** The tool error of a browser pool failure (busy, no browser, a browser that died, the lease deadline), or undefined. */
function browserPoolError(error: unknown): ToolError | undefined {
  if (error instanceof BrowserBusyError) {
    return new ToolError('BROWSER_BUSY', error.message, `Every browser is busy; call again in about ${error.retryAfterSeconds} s.`, { retryAfterSeconds: error.retryAfterSeconds, cause: error });
  }
  if (error instanceof BrowserUnavailableError) {
    return new ToolError('BROWSER_FAILED', error.message, 'No healthy browser is available; check the browser pool (composer_status shows it) and try again.', { cause: error });
  }
  if (error instanceof BrowserFailedError) {
    return new ToolError('BROWSER_FAILED', error.message, 'The browser died during the call; call the tool again (another browser will take it).', { cause: error });
  }
  if (error instanceof LeaseDeadlineError) {
    return new ToolError('UPSTREAM_TIMEOUT', `The browser work passed its deadline of ${error.deadlineMs} ms and was stopped: its page was closed and its browser slot freed.`, 'The page kept running (a script that never ends, or content too heavy to render in time). Check the composition; if the Composer is only slow, raise browsers.leaseDeadlineMs.', { cause: error, details: { deadlineMs: error.deadlineMs } });
  }
  return undefined;
}
