import type { Logger } from '#common/logger.ts';
import type { BlockedNavigation } from './navigation-allowlist.ts';

/** Most log lines one lease writes about single blocked requests (one per origin and request type). */
export const MAX_BLOCKED_LOG_LINES = 10;

/** The origin of a URL for a log line (never its path or query), or its scheme when it has no origin. */
function originOf(url: string): string {
  try {
    const parsed = new URL(url);
    return parsed.origin !== 'null' ? parsed.origin : `${parsed.protocol}…`;
  } catch {
    return '(invalid URL)';
  }
}

/**
 * The log lines of one lease's blocked requests. A page in a loop can make thousands, each of which wrote a warning
 * before: now the first request of each origin and type is logged (origin, method and type only: a page can pack
 * anything into a path or query), at most {@link MAX_BLOCKED_LOG_LINES} of them, and `close()` writes one summary
 * with the total when more were blocked than logged.
 */
export class BlockedRequestLog {
  private readonly logger: Logger;
  private readonly fields: Record<string, string>;
  private readonly logged = new Set<string>();
  private total = 0;

  constructor(logger: Logger, fields: Record<string, string>) {
    this.logger = logger;
    this.fields = fields;
  }

  /** Called for each blocked request. */
  record(blocked: BlockedNavigation): void {
    this.total += 1;
    const origin = originOf(blocked.url);
    const key = `${origin} ${blocked.resourceType}`;
    if (this.logged.has(key) || this.logged.size >= MAX_BLOCKED_LOG_LINES) return;
    this.logged.add(key);
    this.logger.warn('Blocked request outside the navigation allowlist', { ...this.fields, origin, method: blocked.method.slice(0, 16), resourceType: blocked.resourceType.slice(0, 32) });
  }

  /** Ends the lease's log: a summary line when some blocked requests were not logged one by one. */
  close(): void {
    if (this.total > this.logged.size) this.logger.warn('Requests were blocked outside the navigation allowlist during the lease', { ...this.fields, blocked: this.total, loggedOneByOne: this.logged.size });
  }
}
