/**
 * Where the time of one open or preview went: named moments (ms since the call's browser work began) and summed
 * durations (e.g. every relay of the broker for the lease), written as one debug log line per call ("Visit phases")
 * and read by the benchmarks. Measuring costs a clock read per mark: it is always on.
 */
export class VisitPhases {
  private readonly origin: number;
  /** First time each named moment happened, ms since the origin. */
  readonly at: Record<string, number> = {};
  /** Summed durations, ms. */
  readonly spent: Record<string, number> = {};
  /** How many durations each sum holds. */
  readonly count: Record<string, number> = {};

  constructor(origin = performance.now()) {
    this.origin = origin;
  }

  /** Notes that `name` happened now (the first time only). */
  mark(name: string, when = performance.now()): void {
    this.at[name] ??= round(when - this.origin);
  }

  /** Adds `ms` to the duration `name`. */
  add(name: string, ms: number): void {
    this.spent[name] = round((this.spent[name] ?? 0) + ms);
    this.count[name] = (this.count[name] ?? 0) + 1;
  }

  /** Times `work` into the duration `name`. */
  async time<T>(name: string, work: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await work();
    } finally {
      this.add(name, performance.now() - started);
    }
  }

  /** The log fields. */
  toJSON(): { at: Record<string, number>; spent: Record<string, number>; count: Record<string, number> } {
    return { at: { ...this.at }, spent: { ...this.spent }, count: { ...this.count } };
  }
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
