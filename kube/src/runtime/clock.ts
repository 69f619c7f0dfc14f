/** Cancels a timer; calling it again, or after the timer fired, does nothing. */
export type Cancel = () => void;

/**
 * The source of time for every time-dependent piece of the runtime (queue delays, backoff, leader election),
 * so tests can drive time by hand (test/support/fake-clock.ts).
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Calls `fn` once after `ms` milliseconds (0 or less: on the next turn of the clock); returns its cancel. */
  setTimeout(fn: () => void, ms: number): Cancel;
  /** Resolves after `ms`; resolves early (never rejects) when `signal` aborts. Resolves `true` if the full time passed. */
  sleep(ms: number, signal?: AbortSignal): Promise<boolean>;
}

/** `Clock.sleep` on top of a clock's `setTimeout` (for clocks other than the wall clock). */
export function sleepOn(clock: Pick<Clock, 'setTimeout'>, ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = (): void => {
      cancel();
      resolve(false);
    };
    const cancel = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The wall clock: `Date.now()` and Node's timers. */
export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const timer = setTimeout(fn, Math.max(0, ms));
    return () => clearTimeout(timer);
  },
  sleep(ms, signal) {
    return sleepOn(realClock, ms, signal);
  },
};
