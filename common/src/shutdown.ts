import type { Logger } from './logger.ts';

/** Work to do at shutdown, in registration order: stop accepting, wait for in-flight work, close connections. */
export type ShutdownStep = (signal: AbortSignal) => Promise<void> | void;

/** Counts work in flight so shutdown can wait for it to finish. */
export class InFlightTracker {
  private active = 0;
  private waiters: Array<() => void> = [];
  /** When work last began or ended (ms, `now()`); 0 before any. */
  private lastActivityAt = 0;
  private readonly now: () => number;

  constructor(options: { now?: () => number } = {}) {
    this.now = options.now ?? Date.now;
  }

  /** Marks one piece of work as started; call the returned function exactly once when it ends. */
  begin(): () => void {
    this.active++;
    this.lastActivityAt = this.now();
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.active--;
      this.lastActivityAt = this.now();
      if (this.active === 0) for (const wake of this.waiters.splice(0)) wake();
    };
  }

  /** Work in flight now. */
  get count(): number {
    return this.active;
  }

  /**
   * Resolves true once nothing has been in flight for `quietMs` on end (no work began or ended in that window), or
   * false when `timeoutMs` passes first. A server waits for this before it closes its listener: work that still
   * arrives (a load balancer that has not yet dropped it) is served and starts the quiet period again.
   */
  async quiet(quietMs: number, timeoutMs: number): Promise<boolean> {
    const deadline = this.now() + timeoutMs;
    for (;;) {
      const left = deadline - this.now();
      if (this.active > 0) {
        if (left <= 0 || !(await this.idle(left))) return false;
        continue;
      }
      const quietFor = this.now() - this.lastActivityAt;
      if (quietFor >= quietMs) return true;
      if (left <= 0) return false;
      await new Promise((resolve) => setTimeout(resolve, Math.min(quietMs - quietFor, left)));
    }
  }

  /** Resolves true when nothing is in flight, or false when `timeoutMs` passes first. */
  idle(timeoutMs: number): Promise<boolean> {
    if (this.active === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => { this.waiters = this.waiters.filter((w) => w !== wake); resolve(false); }, timeoutMs);
      const wake = (): void => { clearTimeout(timer); resolve(true); };
      this.waiters.push(wake);
    });
  }
}

/** How a process shuts down. */
export interface GracefulShutdownOptions {
  /** How long the steps may take in all before the process exits anyway (exit code 1). */
  graceMs: number;
  logger: Logger;
  /** How to end the process; default `process.exit`. Tests pass their own. */
  exit?: (code: number) => void;
}

/**
 * Runs registered steps once on SIGTERM/SIGINT (or `shutdown()`), within a deadline: steps run in order, the
 * process exits 0 when they finish, 1 when the deadline passes or a step fails, or the failure's code given to
 * `shutdown()` (at least). A second signal exits at once.
 */
export class GracefulShutdown {
  private readonly steps: Array<{ name: string; step: ShutdownStep }> = [];
  private readonly controller = new AbortController();
  private running: Promise<void> | undefined;
  /** The least exit code the process ends with (a failure that started or joined the shutdown raises it). */
  private minimumExitCode = 0;
  private readonly options: GracefulShutdownOptions;
  private readonly exit: (code: number) => void;

  constructor(options: GracefulShutdownOptions) {
    this.options = options;
    this.exit = options.exit ?? ((code) => process.exit(code));
  }

  /** Aborted when shutdown begins: long-running loops watch it to stop taking new work. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** True once shutdown has begun. */
  isShuttingDown(): boolean {
    return this.controller.signal.aborted;
  }

  /** Adds a step; steps run in the order added. */
  onShutdown(name: string, step: ShutdownStep): void {
    this.steps.push({ name, step });
  }

  /** Listens for SIGTERM and SIGINT. */
  install(signals: NodeJS.Signals[] = ['SIGTERM', 'SIGINT']): void {
    for (const sig of signals) {
      process.on(sig, () => {
        if (this.running) {
          this.options.logger.warn('Received second signal, exiting now', { signal: sig });
          this.exit(1);
          return;
        }
        void this.shutdown(sig);
      });
    }
  }

  /**
   * Runs the steps once (later calls return the same promise), then exits. `exitCode` (a failure's, e.g. after an
   * uncaught exception) is the least code the process exits with, whichever call started the shutdown.
   */
  shutdown(reason: string, options: { exitCode?: number } = {}): Promise<void> {
    this.minimumExitCode = Math.max(this.minimumExitCode, options.exitCode ?? 0);
    this.running ??= this.run(reason);
    return this.running;
  }

  private async run(reason: string): Promise<void> {
    const { logger, graceMs } = this.options;
    const started = Date.now();
    logger.info('Started graceful shutdown', { reason, graceMs });
    this.controller.abort(new Error(`shutting down: ${reason}`));
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'deadline'>((resolve) => { timer = setTimeout(() => resolve('deadline'), graceMs); });
    let code = 0;
    for (const { name, step } of this.steps) {
      const remaining = graceMs - (Date.now() - started);
      try {
        const outcome = await Promise.race([Promise.resolve().then(() => step(this.signal)), deadline]);
        if (outcome === 'deadline' || remaining <= 0) {
          logger.error('Shutdown deadline passed', { step: name, graceMs });
          code = 1;
          break;
        }
      } catch (error) {
        logger.error('Shutdown step failed', { step: name, error: (error as Error).message });
        code = 1;
      }
    }
    clearTimeout(timer);
    code = Math.max(code, this.minimumExitCode);
    logger.info('Finished graceful shutdown', { durationMs: Date.now() - started, exitCode: code });
    this.exit(code);
  }
}
