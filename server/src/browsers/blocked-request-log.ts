import type { Logger } from '#common/logger.ts';
import type { BlockedNavigation } from './blocked-requests.ts';

/** Most log lines one lease writes about single refused requests (one per origin and request type). */
export const MAX_BLOCKED_LOG_LINES = 10;

/** The message of a line about one refused request, and of the lease's summary. */
export const BLOCKED_LOG_MESSAGE = 'Browser egress refused a request of the lease';
export const BLOCKED_SUMMARY_MESSAGE = 'Browser egress refused more requests of the lease than were logged one by one';

/**
 * The log lines of one lease's requests refused by the gateway's egress proxy. A page in a loop can make
 * thousands, each of which wrote a warning before: now the first request of each origin and type is logged (the
 * reduced origin, method and type only: a page can pack anything into a path or query), at most
 * {@link MAX_BLOCKED_LOG_LINES} of them, and `close()` writes one summary with the total when more were refused
 * than logged.
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

  /** Called for each refused request. */
  record(blocked: BlockedNavigation): void {
    this.total += 1;
    const resourceType = blocked.resourceType.slice(0, 32);
    const key = `${blocked.origin} ${resourceType}`;
    if (this.logged.has(key) || this.logged.size >= MAX_BLOCKED_LOG_LINES) return;
    this.logged.add(key);
    this.logger.warn(BLOCKED_LOG_MESSAGE, { ...this.fields, origin: blocked.origin, method: blocked.method, resourceType });
  }

  /** Ends the lease's log: a summary line when some refused requests were not logged one by one. */
  close(): void {
    if (this.total > this.logged.size) this.logger.warn(BLOCKED_SUMMARY_MESSAGE, { ...this.fields, blocked: this.total, loggedOneByOne: this.logged.size });
  }
}
