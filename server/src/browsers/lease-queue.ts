/** Why a waiter left the queue without being granted. */
export type QueueExitReason = 'full' | 'timeout' | 'aborted' | 'closed';

/** Options of a {@link LeaseQueue}. */
export interface LeaseQueueOptions {
  /** Most waiters held at once; one more is refused at once. */
  maxDepth: number;
  /** How long a waiter may wait before it is refused. */
  timeoutMs: number;
  /** Builds the error a refused waiter is rejected with (called at the moment of refusal). */
  refuse: (reason: QueueExitReason, waitedMs: number) => Error;
}

interface Waiter<T> {
  resolve: (value: T) => void;
  reject: (error: Error) => void;
  enqueuedAt: number;
  timer: NodeJS.Timeout;
  cleanup: () => void;
  context: unknown;
}

/**
 * A bounded first-in-first-out queue of callers waiting for a lease slot. Waiters are granted in arrival order,
 * refused when the queue is full, when their deadline passes, or when their AbortSignal fires; a refused waiter
 * never receives a grant afterwards.
 */
export class LeaseQueue<T> {
  private readonly waiters: Waiter<T>[] = [];
  private readonly options: LeaseQueueOptions;

  constructor(options: LeaseQueueOptions) {
    this.options = options;
  }

  /** Waiters in the queue now. */
  get depth(): number {
    return this.waiters.length;
  }

  /**
   * Waits for a grant. Rejects with `refuse('full')` at once when the queue is full, `refuse('aborted')` when
   * `signal` aborts, `refuse('timeout')` after the deadline. `context` is handed back to the granting side.
   */
  wait(signal?: AbortSignal, context?: unknown): Promise<T> {
    const { maxDepth, timeoutMs, refuse } = this.options;
    if (signal?.aborted) return Promise.reject(refuse('aborted', 0));
    if (this.waiters.length >= maxDepth) return Promise.reject(refuse('full', 0));
    return new Promise<T>((resolve, reject) => {
      const enqueuedAt = performance.now();
      const leave = (reason: QueueExitReason): void => {
        if (!this.remove(waiter)) return;
        reject(refuse(reason, performance.now() - enqueuedAt));
      };
      const onAbort = (): void => leave('aborted');
      const waiter: Waiter<T> = {
        resolve,
        reject,
        enqueuedAt,
        context,
        timer: setTimeout(() => leave('timeout'), timeoutMs),
        cleanup: () => {
          clearTimeout(waiter.timer);
          signal?.removeEventListener('abort', onAbort);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  /** The `context` of the waiter at the head of the queue (undefined when empty). */
  peekContext(): unknown {
    return this.waiters[0]?.context;
  }

  /** Grants `value` to the waiter at the head; returns false when the queue is empty. */
  grantNext(value: T): boolean {
    const waiter = this.waiters.shift();
    if (waiter === undefined) return false;
    waiter.cleanup();
    waiter.resolve(value);
    return true;
  }

  /** Refuses every waiter with `refuse('closed')`. */
  close(): void {
    for (const waiter of this.waiters.splice(0)) {
      waiter.cleanup();
      waiter.reject(this.options.refuse('closed', performance.now() - waiter.enqueuedAt));
    }
  }

  private remove(waiter: Waiter<T>): boolean {
    const index = this.waiters.indexOf(waiter);
    if (index < 0) return false;
    this.waiters.splice(index, 1);
    waiter.cleanup();
    return true;
  }
}

/** Inputs of the retry-after estimate. */
export interface RetryAfterInput {
  /** Recent lease hold times in milliseconds (any order). */
  recentHoldMs: readonly number[];
  /** Waiters ahead of the caller. */
  queueDepth: number;
  /** Sessions the healthy browsers can hold at once (0 when none is healthy). */
  capacity: number;
  /** Used when no hold time has been observed yet (default 5 s). */
  defaultHoldMs?: number;
}

/**
 * Seconds after which a refused caller should retry: the median observed hold time times the number of "rounds"
 * of leases ahead of it (`(queueDepth + 1) / capacity`, at least one), rounded up and kept within 1..300. Pure.
 */
export function estimateRetryAfterSeconds(input: RetryAfterInput): number {
  const holds = input.recentHoldMs.toSorted((a, b) => a - b);
  const median = holds.length > 0 ? holds[Math.floor(holds.length / 2)]! : (input.defaultHoldMs ?? 5000);
  const rounds = Math.max(1, Math.ceil((input.queueDepth + 1) / Math.max(1, input.capacity)));
  const seconds = Math.ceil((median * rounds) / 1000);
  return Math.min(300, Math.max(1, seconds));
}

/** Keeps the last `size` samples (a ring); used for observed hold times. */
export class RecentSamples {
  private readonly samples: number[] = [];
  private next = 0;
  private readonly size: number;

  constructor(size = 100) {
    this.size = size;
  }

  /** Records one sample, dropping the oldest when full. */
  add(value: number): void {
    if (this.samples.length < this.size) this.samples.push(value);
    else this.samples[this.next] = value;
    this.next = (this.next + 1) % this.size;
  }

  /** The samples held now (unordered copy). */
  values(): number[] {
    return [...this.samples];
  }
}
