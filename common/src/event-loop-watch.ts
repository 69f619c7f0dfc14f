import type { CheckResult, HealthCheck } from './health.ts';

/** Options of {@link EventLoopWatch}. */
export interface EventLoopWatchOptions {
  /** How often the watch ticks (default 100 ms); a tick that comes late measures how long the loop was blocked. */
  intervalMs?: number;
  /** How far back a block still counts (default 30 s: three liveness probes at the chart's 10 s period). */
  windowMs?: number;
  /** A block longer than this fails liveness (default 5 s). */
  maxBlockMs?: number;
  /** Time source (default `performance.now`). */
  now?: () => number;
}

/** A block of the event loop: when it ended and how long it lasted (ms). */
export interface LoopBlock {
  endedAt: number;
  durationMs: number;
}

/**
 * Live = no block of the event loop longer than `maxBlockMs` ended within the last `windowMs`. Pure. (A loop
 * blocked right now cannot answer the probe at all: the probe's own timeout covers that case.)
 */
export function decideEventLoopLiveness(blocks: readonly LoopBlock[], now: number, windowMs: number, maxBlockMs: number): CheckResult {
  const recent = blocks.filter((b) => now - b.endedAt <= windowMs);
  const worst = recent.reduce((max, b) => Math.max(max, b.durationMs), 0);
  if (worst > maxBlockMs) {
    return { ok: false, detail: `event loop blocked for ${Math.round(worst)} ms within the last ${Math.round(windowMs / 1000)} s (limit ${maxBlockMs} ms)` };
  }
  return { ok: true, detail: `longest block in the last ${Math.round(windowMs / 1000)} s: ${Math.round(worst)} ms` };
}

/**
 * Measures how long the event loop stays blocked: an unref'd timer ticks every `intervalMs`; a gap between ticks
 * longer than two intervals records a block of that length. Keeps only the blocks within the window.
 */
export class EventLoopWatch {
  readonly #interval: number;
  readonly #window: number;
  readonly #maxBlock: number;
  readonly #now: () => number;
  readonly #blocks: LoopBlock[] = [];
  #timer: NodeJS.Timeout | undefined;
  #last = 0;

  constructor(options: EventLoopWatchOptions = {}) {
    this.#interval = options.intervalMs ?? 100;
    this.#window = options.windowMs ?? 30_000;
    this.#maxBlock = options.maxBlockMs ?? 5000;
    this.#now = options.now ?? (() => performance.now());
  }

  /** Starts ticking (idempotent); the timer never keeps the process alive. */
  start(): this {
    if (this.#timer) return this;
    this.#last = this.#now();
    this.#timer = setInterval(() => this.#tick(), this.#interval);
    this.#timer.unref();
    return this;
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** The liveness check (see {@link decideEventLoopLiveness}). */
  check = (): CheckResult => {
    this.#tick();
    return decideEventLoopLiveness(this.#blocks, this.#now(), this.#window, this.#maxBlock);
  };

  #tick(): void {
    const now = this.#now();
    const gap = now - this.#last;
    this.#last = now;
    // A gap up to two intervals is ordinary timer jitter, not a block.
    if (gap > 2 * this.#interval) this.#blocks.push({ endedAt: now, durationMs: gap });
    while (this.#blocks.length > 0 && now - this.#blocks[0]!.endedAt > this.#window) this.#blocks.shift();
  }
}

/**
 * A liveness check that fails after the event loop was blocked longer than `maxBlockMs` (default 5 s) within the
 * last `windowMs` (default 30 s). One line in a process's entry point:
 * `health.addLivenessCheck('event-loop', eventLoopLivenessCheck())`.
 */
export function eventLoopLivenessCheck(options: EventLoopWatchOptions = {}): HealthCheck {
  return new EventLoopWatch(options).start().check;
}
