import type { HealthRegistry } from './health.ts';
import type { Logger } from './logger.ts';
import type { GracefulShutdown } from './shutdown.ts';

/**
 * What a process does when its own code fails where nothing can handle the failure (docs/operations.md, "Process
 * failure policy"):
 *
 * - **An uncaught exception** (a synchronous throw inside an event handler, a timer, a stream callback…) unwound a
 *   stack in the middle of whatever it was doing, so the process's state may be corrupt: Node's own guidance is
 *   that it is not safe to carry on. The process logs it once with its context (the log context of the work that
 *   threw: tool, call id, reconcile…), fails readiness at once so no new work arrives, drains the work in flight
 *   through its ordinary graceful shutdown (bounded by the shutdown grace: nothing runs on in a bad state for
 *   long) and exits with {@link EXIT_UNCAUGHT_EXCEPTION}, so the orchestrator restarts it and the restart counts.
 *   Draining instead of exiting at once: one bug in one handler should not fail every other caller's call, and the
 *   calls in flight rarely share the state the throw left half-updated. A further uncaught exception while draining
 *   is logged (the first few) and does not shorten the drain; the grace bounds it.
 * - **An unhandled promise rejection** is logged and the process keeps serving (issue 9: no request may crash the
 *   process). A rejected promise nobody awaited unwinds nothing: its work had already stopped where it failed.
 *
 * Before `drainWith` is called (while the process starts) an uncaught exception exits at once: there is nothing to
 * drain yet.
 */

/** Exit code after an uncaught exception (sysexits EX_SOFTWARE): distinct from 1 (shutdown failed) and 2 (bad configuration). */
export const EXIT_UNCAUGHT_EXCEPTION = 70;

/** How many further uncaught exceptions are logged one by one while the process drains. */
const MAX_LOGGED_AFTER_FIRST = 10;

/** Where the policy listens and how it ends the process (tests pass their own). */
export interface ProcessFailurePolicyOptions {
  logger: Logger;
  /** Default `process`. */
  events?: NodeJS.EventEmitter;
  /** How to end the process when there is nothing to drain; default `process.exit`. */
  exit?: (code: number) => void;
}

/** The fields an error is logged with: an Error whole (name, message, stack), anything else as text. */
function errorFields(error: unknown): Record<string, unknown> {
  return { error: error instanceof Error ? error : String(error) };
}

/** A process's answer to failures nothing else handles; one per process (see the module comment). */
export class ProcessFailurePolicy {
  private readonly logger: Logger;
  private readonly events: NodeJS.EventEmitter;
  private readonly exit: (code: number) => void;
  private drain: { shutdown: GracefulShutdown; health: HealthRegistry | undefined } | undefined;
  private failures = 0;
  private readonly onUncaught = (error: unknown, origin: string) => this.uncaught(error, origin);
  private readonly onRejection = (reason: unknown) => {
    this.logger.error('Unhandled promise rejection', errorFields(reason));
  };

  constructor(options: ProcessFailurePolicyOptions) {
    this.logger = options.logger;
    this.events = options.events ?? process;
    this.exit = options.exit ?? ((code) => process.exit(code));
  }

  /** Starts listening for uncaught exceptions and unhandled rejections. */
  install(): this {
    this.events.on('uncaughtException', this.onUncaught);
    this.events.on('unhandledRejection', this.onRejection);
    return this;
  }

  /** Stops listening (tests). */
  uninstall(): void {
    this.events.off('uncaughtException', this.onUncaught);
    this.events.off('unhandledRejection', this.onRejection);
  }

  /**
   * From now on an uncaught exception fails `health`'s readiness and runs `shutdown` (its steps drain the work in
   * flight), which then exits with {@link EXIT_UNCAUGHT_EXCEPTION}.
   */
  drainWith(shutdown: GracefulShutdown, health?: HealthRegistry): void {
    this.drain = { shutdown, health };
  }

  /** Uncaught exceptions seen so far. */
  get uncaughtExceptions(): number {
    return this.failures;
  }

  private uncaught(error: unknown, origin: string): void {
    this.failures += 1;
    try {
      if (this.failures > 1) {
        if (this.failures <= MAX_LOGGED_AFTER_FIRST + 1) this.logger.error('Uncaught exception while draining after an earlier one', { ...errorFields(error), origin, uncaughtExceptions: this.failures });
        return;
      }
      const drain = this.drain;
      this.logger.error('Uncaught exception: the process state may be corrupt; failing readiness, draining in-flight work and exiting', {
        ...errorFields(error),
        origin,
        exitCode: EXIT_UNCAUGHT_EXCEPTION,
        draining: drain !== undefined,
      });
      if (!drain) {
        this.exit(EXIT_UNCAUGHT_EXCEPTION);
        return;
      }
      drain.health?.setFailed(`uncaught exception (${error instanceof Error ? error.name : typeof error}): the process is draining and will exit`);
      void drain.shutdown.shutdown('uncaught exception', { exitCode: EXIT_UNCAUGHT_EXCEPTION });
    } catch {
      // Logging or the shutdown itself failed: nothing is left to trust.
      this.exit(EXIT_UNCAUGHT_EXCEPTION);
    }
  }
}
