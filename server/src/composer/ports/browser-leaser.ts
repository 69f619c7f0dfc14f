import type { BrowserContext, Page } from 'playwright-core';

/**
 * The port to the browser pool (implemented by the router, `server/src/browsers/router.ts`, which satisfies it
 * structurally: `test/unit/browsers/leaser-contract.test.ts`). The domain never sees the pool's own errors: they
 * pass through it unchanged and the tools layer maps them (`server/src/tools/tool-errors.ts`).
 */

/** A request the lease aborted because its origin was not allowed. */
export interface BlockedNavigationLike {
  url: string;
}

/** What browser work gets for its duration: an isolated context and page on one browser. */
export interface BrowserLease {
  browserId: string;
  context: BrowserContext;
  page: Page;
  /** Requests aborted because they went outside the allowed origins (the first ones: the list is bounded). */
  blocked: BlockedNavigationLike[];
  /** Every request aborted so far, listed in `blocked` or not. */
  readonly blockedTotal: number;
}

/** Pool figures as the status report shows them. */
export interface BrowserPoolStats {
  browsers: number;
  healthy: number;
  draining: number;
  sessionsInUse: number;
  capacity: number;
  queueDepth: number;
  prewarmed: number;
}

/** Leases (the context is closed when the work returns, whatever happens) and pool figures. */
export interface BrowserLeaser {
  withLease<T>(work: (lease: BrowserLease) => Promise<T>, options?: { idempotent?: boolean; signal?: AbortSignal; allowedOrigins?: string[] }): Promise<T>;
  stats(): BrowserPoolStats;
}
