import type { BrowserContext, CDPSession, Page } from 'playwright-core';
import type { BlockedRequestSink } from './blocked-requests.ts';

/** A context with its page, ready to be handed to a lease. */
export interface WarmPage {
  context: BrowserContext;
  page: Page;
  /** Where the context's refused requests are reported; the lease fills it in at hand-over. */
  guard: BlockedRequestSink;
  /** A CDP session of the page through which a context made warm is marked leased at its gateway at hand-over. */
  marker?: CDPSession;
}

/** Options of a {@link PrewarmPool}. */
export interface PrewarmPoolOptions {
  /** Creates one context + page (watched for refused requests): ahead of demand (`warm`) or for a waiting lease. */
  create: (purpose: 'warm' | 'lease') => Promise<WarmPage>;
  /** How many unclaimed warm pages to keep. */
  target: number;
  /** Pages that may still be opened on the browser without passing its cap (counting this pool's pages). */
  room: () => number;
  /** Called when a background creation failed. */
  onError: (error: unknown) => void;
  /**
   * Longest a take's replacement waits (ms, default {@link REFILL_DELAY_MS}): the lease that took the warm page
   * usually ends first, and its end replenishes (`replenish()`), so the replacement is not created while that
   * lease's page loads on the same browser.
   */
  refillDelayMs?: number;
}

/**
 * Default longest wait of a take's replacement. Creating a context and page (a renderer process started) while the
 * lease's page loads on the same browser slowed that load: measured in ADR 29, set-up + navigation commit 67 → 30 ms at
 * p50 on a loaded 2-core machine. A lease longer than this gets its replacement created alongside anyway, so a burst
 * of long leases still finds warm pages.
 */
export const REFILL_DELAY_MS = 1_000;

interface Pending {
  promise: Promise<WarmPage | undefined>;
  claimed: boolean;
}

/**
 * Keeps up to `target` contexts+pages created ahead of demand on one browser, so a lease is a hand-over. A take
 * with nothing ready claims a creation already in flight before starting a new one, so the pages open on the
 * browser never exceed its cap. Replenishes in the background when the lease that took a page ends (the owner
 * calls `replenish()`), or at the latest `refillDelayMs` after the take.
 */
export class PrewarmPool {
  private readonly options: PrewarmPoolOptions;
  private readonly ready: WarmPage[] = [];
  private readonly pending = new Set<Pending>();
  private paused = false;
  private closed = false;
  private refillTimer: NodeJS.Timeout | undefined;

  constructor(options: PrewarmPoolOptions) {
    this.options = options;
  }

  /** Warm pages ready now. */
  get readyCount(): number {
    return this.ready.length;
  }

  /** Pages this pool holds or is creating that no lease has claimed (they count against the browser's cap). */
  get openUnclaimed(): number {
    let unclaimed = 0;
    for (const p of this.pending) if (!p.claimed) unclaimed++;
    return this.ready.length + unclaimed;
  }

  /** Hands over a warm page: a ready one, else one being created, else a new one created now. */
  async take(): Promise<WarmPage> {
    const warm = this.ready.shift();
    if (warm !== undefined) {
      this.refillLater();
      return warm;
    }
    for (const p of this.pending) {
      if (p.claimed) continue;
      p.claimed = true;
      const claimed = await p.promise;
      if (claimed !== undefined) return claimed;
      break;
    }
    return this.options.create('lease');
  }

  /** Replenishes after `refillDelayMs` unless something replenishes first. */
  private refillLater(): void {
    if (this.refillTimer !== undefined) return;
    this.refillTimer = setTimeout(() => this.replenish(), this.options.refillDelayMs ?? REFILL_DELAY_MS);
    this.refillTimer.unref();
  }

  /** Starts creations until `target` unclaimed pages exist or the browser has no room; no-op when paused or closed. */
  replenish(): void {
    clearTimeout(this.refillTimer);
    this.refillTimer = undefined;
    while (!this.paused && !this.closed && this.openUnclaimed < this.options.target && this.options.room() > 0) {
      const entry: Pending = { claimed: false, promise: Promise.resolve(undefined) };
      entry.promise = this.options.create('warm').then(
        (warm) => {
          this.pending.delete(entry);
          if (entry.claimed) return warm;
          if (this.paused || this.closed) {
            void closeQuietly(warm.context);
            return undefined;
          }
          this.ready.push(warm);
          return warm;
        },
        (error: unknown) => {
          this.pending.delete(entry);
          if (!this.closed) this.options.onError(error);
          return undefined;
        },
      );
      this.pending.add(entry);
    }
  }

  /** Stops replenishing and closes the ready pages (draining: the browser's open pages must reach zero). */
  async pause(): Promise<void> {
    this.paused = true;
    await Promise.all(this.ready.splice(0).map((w) => closeQuietly(w.context)));
  }

  /** Resumes replenishing after {@link pause}. */
  resume(): void {
    if (this.closed) return;
    this.paused = false;
    this.replenish();
  }

  /**
   * Closes the pool: ready pages are closed (or, with `browserGone`, just forgotten since the browser disposed of
   * them) and creations in flight are closed when they finish.
   */
  async close(browserGone = false): Promise<void> {
    this.closed = true;
    clearTimeout(this.refillTimer);
    const ready = this.ready.splice(0);
    if (!browserGone) await Promise.all(ready.map((w) => closeQuietly(w.context)));
  }
}

/** Closes a context, ignoring errors, bounded by `timeoutMs`. */
export async function closeQuietly(context: BrowserContext, timeoutMs = 5000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    context.close().catch(() => undefined),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    }),
  ]);
  clearTimeout(timer);
}
