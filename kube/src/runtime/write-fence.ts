import { realClock, type Clock } from './clock.ts';
import { withRequestSignal } from './api-client.ts';

/** A write refused because the leadership term it belonged to is over (or its Lease may have lapsed). */
export class TermEndedError extends Error {
  constructor(what: string, why: string) {
    super(`Refused ${what}: ${why}`);
    this.name = 'TermEndedError';
  }
}

/** Whether `err` is a {@link TermEndedError}. */
export function isTermEnded(err: unknown): boolean {
  return err instanceof TermEndedError;
}

/** Options of {@link WriteFence}. */
export interface WriteFenceOptions {
  /** Aborts when the term ends: from then on every write is refused. */
  signal: AbortSignal;
  /**
   * Until when (epoch ms) this process is sure no other leader can exist (the elector's `leaseValidUntil`).
   * Checked at each write, so a leader whose timers run late (a blocked event loop) still stops in time.
   * Default: no limit (no leader election).
   */
  validUntil?: () => number;
  /** Longest a write may take before its requests are aborted (default 5 s). */
  writeTimeoutMs?: number;
  clock?: Clock;
}

/**
 * Fences a leadership term's writes: a write starts only while the term is on and the Lease surely held, every
 * write's requests are aborted after `writeTimeoutMs`, and `settled()` tells when no write of the term is in
 * flight any more, so the Lease is released only after the last write of this leader has landed or failed.
 */
export class WriteFence {
  readonly #options: WriteFenceOptions;
  readonly #clock: Clock;
  readonly #idle = new Set<() => void>();
  #inFlight = 0;
  #refused = 0;

  constructor(options: WriteFenceOptions) {
    this.#options = options;
    this.#clock = options.clock ?? realClock;
  }

  /** The term's signal (aborts when the term ends). */
  get signal(): AbortSignal {
    return this.#options.signal;
  }

  /** Writes in flight now. */
  inFlight(): number {
    return this.#inFlight;
  }

  /** Writes refused so far (the term had ended). */
  refused(): number {
    return this.#refused;
  }

  /** Throws {@link TermEndedError} when a write may no longer start. */
  check(what: string): void {
    if (this.#options.signal.aborted) this.#refuse(what, 'this leadership term has ended');
    const validUntil = this.#options.validUntil?.() ?? Number.POSITIVE_INFINITY;
    if (this.#clock.now() >= validUntil) this.#refuse(what, 'the Lease may have lapsed (not renewed within the renew deadline)');
  }

  /** Runs `write` if the term is on (see {@link check}); its API requests abort after the write timeout. */
  async run<T>(what: string, write: () => Promise<T>): Promise<T> {
    this.check(what);
    this.#inFlight++;
    try {
      return await withRequestSignal(AbortSignal.timeout(this.#options.writeTimeoutMs ?? 5000), write);
    } finally {
      this.#inFlight--;
      if (this.#inFlight === 0) for (const wake of this.#idle) wake();
    }
  }

  /** Resolves `true` once no write is in flight, `false` if `timeoutMs` (default: none) passes first. */
  async settled(timeoutMs?: number): Promise<boolean> {
    if (this.#inFlight === 0) return true;
    const cancel = new AbortController();
    let wake = (): void => undefined;
    const idle = new Promise<true>((resolve) => {
      wake = () => resolve(true);
      this.#idle.add(wake);
    });
    const waits: Array<Promise<boolean>> = [idle];
    if (timeoutMs !== undefined) waits.push(this.#clock.sleep(timeoutMs, cancel.signal).then(() => false));
    const result = await Promise.race(waits);
    cancel.abort();
    this.#idle.delete(wake);
    return result;
  }

  #refuse(what: string, why: string): never {
    this.#refused++;
    throw new TermEndedError(what, why);
  }
}
