import type { Clock } from './clock.ts';

/** Decides how long a key must wait before it is retried (client-go's `RateLimiter`). */
export interface RateLimiter {
  /** The delay (ms) before `key` may be processed again; calling it counts one more retry of `key`. */
  when(key: string): number;
  /** Forgets the retry history of `key` (call after it succeeded). */
  forget(key: string): void;
  /** How many times `key` has been retried since it was last forgotten. */
  numRequeues(key: string): number;
}

/** Per-key exponential backoff: base·2^failures, capped at a ceiling. */
export class ExponentialBackoffRateLimiter implements RateLimiter {
  readonly #baseMs: number;
  readonly #maxMs: number;
  readonly #failures = new Map<string, number>();

  /** Defaults are client-go's: 5 ms base, 1000 s ceiling. */
  constructor(options: { baseMs?: number; maxMs?: number } = {}) {
    this.#baseMs = options.baseMs ?? 5;
    this.#maxMs = options.maxMs ?? 1_000_000;
    if (!(this.#baseMs > 0) || !(this.#maxMs >= this.#baseMs)) {
      throw new RangeError(`Invalid backoff: baseMs (${this.#baseMs}) must be > 0 and maxMs (${this.#maxMs}) >= baseMs`);
    }
  }

  when(key: string): number {
    const failures = this.#failures.get(key) ?? 0;
    this.#failures.set(key, failures + 1);
    return Math.min(this.#maxMs, this.#baseMs * 2 ** failures);
  }

  forget(key: string): void {
    this.#failures.delete(key);
  }

  numRequeues(key: string): number {
    return this.#failures.get(key) ?? 0;
  }
}

/**
 * An overall token bucket shared by all keys (client-go's `BucketRateLimiter`): `burst` immediate retries,
 * then `qps` per second. Each call reserves a token and returns how long until it is available.
 */
export class TokenBucketRateLimiter implements RateLimiter {
  readonly #qps: number;
  readonly #burst: number;
  readonly #clock: Clock;
  #tokens: number;
  #last: number;

  /** Defaults are client-go's: 10 qps, burst 100. */
  constructor(clock: Clock, options: { qps?: number; burst?: number } = {}) {
    this.#qps = options.qps ?? 10;
    this.#burst = options.burst ?? 100;
    if (!(this.#qps > 0) || !(this.#burst >= 1)) {
      throw new RangeError(`Invalid token bucket: qps (${this.#qps}) must be > 0 and burst (${this.#burst}) >= 1`);
    }
    this.#clock = clock;
    this.#tokens = this.#burst;
    this.#last = clock.now();
  }

  when(_key: string): number {
    const now = this.#clock.now();
    this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#last) * this.#qps) / 1000);
    this.#last = now;
    this.#tokens -= 1;
    return this.#tokens >= 0 ? 0 : Math.ceil((-this.#tokens * 1000) / this.#qps);
  }

  forget(_key: string): void {}

  numRequeues(_key: string): number {
    return 0;
  }
}

/** Combines limiters: the delay is the longest any of them asks for (client-go's `MaxOfRateLimiter`). */
export class MaxOfRateLimiter implements RateLimiter {
  readonly #limiters: RateLimiter[];

  constructor(...limiters: RateLimiter[]) {
    this.#limiters = limiters;
  }

  when(key: string): number {
    let delay = 0;
    for (const limiter of this.#limiters) delay = Math.max(delay, limiter.when(key));
    return delay;
  }

  forget(key: string): void {
    for (const limiter of this.#limiters) limiter.forget(key);
  }

  numRequeues(key: string): number {
    let n = 0;
    for (const limiter of this.#limiters) n = Math.max(n, limiter.numRequeues(key));
    return n;
  }
}

/** Options of {@link defaultControllerRateLimiter}. */
export interface ControllerRateLimiterOptions {
  /** First per-key retry delay (default 5 ms). */
  baseDelayMs?: number;
  /** Per-key retry ceiling (default 1000 s). */
  maxDelayMs?: number;
  /** Overall retries per second (default 10). */
  qps?: number;
  /** Overall burst (default 100). */
  burst?: number;
}

/** client-go's default controller limiter: max of per-key exponential backoff and an overall token bucket. */
export function defaultControllerRateLimiter(clock: Clock, options: ControllerRateLimiterOptions = {}): RateLimiter {
  const backoff: { baseMs?: number; maxMs?: number } = {};
  if (options.baseDelayMs !== undefined) backoff.baseMs = options.baseDelayMs;
  if (options.maxDelayMs !== undefined) backoff.maxMs = options.maxDelayMs;
  const bucket: { qps?: number; burst?: number } = {};
  if (options.qps !== undefined) bucket.qps = options.qps;
  if (options.burst !== undefined) bucket.burst = options.burst;
  return new MaxOfRateLimiter(new ExponentialBackoffRateLimiter(backoff), new TokenBucketRateLimiter(clock, bucket));
}
