import type { Logger } from '#common/logger.ts';

/**
 * Keeps a repeated warning from flooding the log: the first occurrence of a key is logged at once, later ones at most
 * once per interval, carrying `suppressed` (how many were not logged since the last line). Counters in /metrics still
 * count every event; this only limits log volume (a dead browser under load, or a scanner without a token).
 */
export class LogThrottle {
  private readonly logger: Logger;
  private readonly intervalMs: number;
  private readonly now: () => number;
  private readonly state = new Map<string, { lastLoggedAt: number; suppressed: number }>();

  constructor(logger: Logger, options: { intervalMs?: number; now?: () => number } = {}) {
    this.logger = logger;
    this.intervalMs = options.intervalMs ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  /** Logs `message` at warn level unless a line with the same key was logged less than an interval ago. */
  warn(key: string, message: string, fields: Record<string, unknown>): void {
    const now = this.now();
    const entry = this.state.get(key);
    if (entry && now - entry.lastLoggedAt < this.intervalMs) {
      entry.suppressed++;
      return;
    }
    const suppressed = entry?.suppressed ?? 0;
    this.state.set(key, { lastLoggedAt: now, suppressed: 0 });
    if (this.state.size > 1000) this.forgetOlderThan(now - this.intervalMs);
    this.logger.warn(message, suppressed > 0 ? { ...fields, suppressed } : fields);
  }

  private forgetOlderThan(cutoff: number): void {
    for (const [key, entry] of this.state) if (entry.lastLoggedAt < cutoff && entry.suppressed === 0) this.state.delete(key);
  }
}
