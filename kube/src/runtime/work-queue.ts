import { realClock, type Cancel, type Clock } from './clock.ts';
import { defaultControllerRateLimiter, type ControllerRateLimiterOptions, type RateLimiter } from './rate-limiter.ts';

/** Hooks the queue calls so metrics can be recorded without the queue knowing the metrics library. */
export interface WorkQueueMetrics {
  /** A key was accepted by `add` (after dedup it may still be a no-op for the queue itself). */
  onAdd?(key: string): void;
  /** The number of keys waiting to be handed out changed. */
  onDepth?(depth: number): void;
  /** A key was handed out after waiting `ms` in the queue. */
  onLatency?(ms: number): void;
  /** A key's processing (get → done) took `ms`. */
  onWorkDuration?(ms: number): void;
  /** `addRateLimited` was called for a key (a retry). */
  onRetry?(key: string): void;
}

/** Options of {@link WorkQueue}. */
export interface WorkQueueOptions {
  /** Time source (default the wall clock). */
  clock?: Clock;
  /** Limiter for `addRateLimited` (default: per-key 5 ms..1000 s backoff, max'd with a 10 qps / 100 burst bucket). */
  rateLimiter?: RateLimiter;
  /** Tunes the default limiter when `rateLimiter` is not given. */
  rateLimits?: ControllerRateLimiterOptions;
  /** Metrics hooks. */
  metrics?: WorkQueueMetrics;
}

/** Options of {@link WorkQueue.shutDown}. */
export interface ShutDownOptions {
  /** Drop keys that are queued but not yet handed out (default false: they are still handed out). */
  discardQueued?: boolean;
}

/**
 * A rate-limited, delaying work queue of string keys with client-go semantics:
 * - a key waiting in the queue is held once, however often it is added;
 * - a key being processed (between `get` and `done`) is never handed out again until `done`; adds in the
 *   meantime mark it dirty and it is queued again on `done`;
 * - `addAfter` delays a key (the earliest pending delay wins); `addRateLimited` delays it by the rate limiter
 *   (per-key exponential backoff, max'd with an overall token bucket); `forget` clears its backoff;
 * - `shutDown` stops accepting keys, cancels pending delays, still hands out keys already queued (unless told
 *   to discard them), then answers `get` with `undefined`; it resolves once no handed-out key is left un-`done`.
 */
export class WorkQueue {
  readonly #clock: Clock;
  readonly #limiter: RateLimiter;
  readonly #metrics: WorkQueueMetrics;
  readonly #queue: string[] = [];
  readonly #dirty = new Set<string>();
  readonly #processing = new Map<string, number>();
  readonly #queuedAt = new Map<string, number>();
  readonly #waiting = new Map<string, { due: number; cancel: Cancel }>();
  readonly #getters: Array<(key: string | undefined) => void> = [];
  #shuttingDown = false;
  #discard = false;
  #drained: Array<() => void> = [];

  constructor(options: WorkQueueOptions = {}) {
    this.#clock = options.clock ?? realClock;
    this.#limiter = options.rateLimiter ?? defaultControllerRateLimiter(this.#clock, options.rateLimits);
    this.#metrics = options.metrics ?? {};
  }

  /** Queues `key` now (no-op if already queued, or after shutdown; deferred to `done` if being processed). */
  add(key: string): void {
    if (this.#shuttingDown) return;
    this.#metrics.onAdd?.(key);
    if (this.#dirty.has(key)) return;
    this.#dirty.add(key);
    if (this.#processing.has(key)) return;
    this.#enqueue(key);
  }

  /** Queues `key` after `ms` (now if `ms` ≤ 0). A later call with an earlier time wins; a later time is ignored. */
  addAfter(key: string, ms: number): void {
    if (this.#shuttingDown) return;
    if (!(ms > 0)) {
      this.add(key);
      return;
    }
    const due = this.#clock.now() + ms;
    const existing = this.#waiting.get(key);
    if (existing && existing.due <= due) return;
    existing?.cancel();
    const cancel = this.#clock.setTimeout(() => {
      this.#waiting.delete(key);
      this.add(key);
    }, ms);
    this.#waiting.set(key, { due, cancel });
  }

  /** Queues `key` after the rate limiter's delay for it (one more retry of it). */
  addRateLimited(key: string): void {
    if (this.#shuttingDown) return;
    this.#metrics.onRetry?.(key);
    this.addAfter(key, this.#limiter.when(key));
  }

  /** Clears `key`'s retry history so its next failure starts the backoff from the beginning. */
  forget(key: string): void {
    this.#limiter.forget(key);
  }

  /** How many times `key` was retried since it was last forgotten. */
  numRequeues(key: string): number {
    return this.#limiter.numRequeues(key);
  }

  /**
   * The next key to process, waiting for one if the queue is empty; `undefined` once the queue is shut down
   * (and drained). The caller must call `done(key)` when finished with it.
   */
  get(): Promise<string | undefined> {
    const key = this.#take();
    if (key !== undefined || this.#shuttingDown) return Promise.resolve(key);
    return new Promise((resolve) => this.#getters.push(resolve));
  }

  /** Marks `key` finished; if it was added again while processing, it goes back in the queue. */
  done(key: string): void {
    const started = this.#processing.get(key);
    if (started === undefined) return;
    this.#processing.delete(key);
    this.#metrics.onWorkDuration?.(this.#clock.now() - started);
    if (this.#dirty.has(key)) {
      if (this.#shuttingDown && this.#discard) this.#dirty.delete(key);
      else this.#enqueue(key);
    }
    this.#checkDrained();
  }

  /** Keys waiting to be handed out (not counting delayed or in-flight keys). */
  len(): number {
    return this.#queue.length;
  }

  /** Keys handed out and not yet `done`. */
  inFlight(): number {
    return this.#processing.size;
  }

  /** Whether `shutDown` was called. */
  isShuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /** Stops the queue (see class doc). Resolves when no handed-out key is left un-`done`. */
  shutDown(options: ShutDownOptions = {}): Promise<void> {
    this.#shuttingDown = true;
    if (options.discardQueued) {
      this.#discard = true;
      for (const key of this.#queue) {
        this.#dirty.delete(key);
        this.#queuedAt.delete(key);
      }
      this.#queue.length = 0;
      this.#metrics.onDepth?.(0);
    }
    for (const { cancel } of this.#waiting.values()) cancel();
    this.#waiting.clear();
    if (this.#queue.length === 0) {
      for (const getter of this.#getters.splice(0)) getter(undefined);
    }
    return new Promise((resolve) => {
      this.#drained.push(resolve);
      this.#checkDrained();
    });
  }

  #enqueue(key: string): void {
    const getter = this.#getters.shift();
    if (getter) {
      this.#dirty.delete(key);
      this.#processing.set(key, this.#clock.now());
      this.#metrics.onLatency?.(0);
      getter(key);
      return;
    }
    this.#queue.push(key);
    this.#queuedAt.set(key, this.#clock.now());
    this.#metrics.onDepth?.(this.#queue.length);
  }

  #take(): string | undefined {
    const key = this.#queue.shift();
    if (key === undefined) return undefined;
    this.#dirty.delete(key);
    const now = this.#clock.now();
    this.#processing.set(key, now);
    this.#metrics.onLatency?.(now - (this.#queuedAt.get(key) ?? now));
    this.#queuedAt.delete(key);
    this.#metrics.onDepth?.(this.#queue.length);
    if (this.#shuttingDown && this.#queue.length === 0) {
      for (const getter of this.#getters.splice(0)) getter(undefined);
    }
    return key;
  }

  #checkDrained(): void {
    if (!this.#shuttingDown || this.#processing.size > 0) return;
    if (this.#queue.length === 0) for (const getter of this.#getters.splice(0)) getter(undefined);
    for (const resolve of this.#drained.splice(0)) resolve();
  }
}
