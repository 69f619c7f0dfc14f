import { randomUUID } from 'node:crypto';
import { SpanStatusCode, type Span } from '@opentelemetry/api';
import type { BrowserContext, BrowserContextOptions, Page } from 'playwright-core';
import { createLogger, type Logger } from '#common/logger.ts';
import { withLogContext } from '#common/log-context.ts';
import { BlockedRequestLog } from './blocked-request-log.ts';
import { BrowserConnection, errorMessage, type LeaseTracker } from './browser-connection.ts';
import type { BrowserEndpoint, EndpointSource } from './endpoint-source.ts';
import { BrowserAtCapacityError, BrowserBusyError, BrowserFailedError, BrowserUnavailableError, LeaseDeadlineError } from './errors.ts';
import { LeaseQueue, RecentSamples, estimateRetryAfterSeconds, type QueueExitReason } from './lease-queue.ts';
import { normaliseOrigins, type BlockedNavigation } from './blocked-requests.ts';
import { chooseBrowser } from './placement.ts';
import { shouldRetryLease } from './retry-policy.ts';
import { RouterTelemetry, type LeaseOutcome } from './router-telemetry.ts';
import { closeQuietly, type WarmPage } from './prewarm-pool.ts';

export type { BlockedNavigation } from './blocked-requests.ts';

/** What a lease's work gets: an isolated context and page on one browser, closed when the work returns. */
export interface Lease {
  /** Unique id of this lease (also in log lines as `leaseId`). */
  leaseId: string;
  /** Browser the lease runs on. */
  browserId: string;
  context: BrowserContext;
  page: Page;
  /**
   * Requests the browser pool's egress proxy refused during this lease (origin, truncated path, method, resource
   * type): the first 50 (`MAX_RECORDED_BLOCKS`); the rest are counted and summed up in the lease's log.
   */
  blocked: BlockedNavigation[];
  /** Every request the allowlist aborted during this lease, listed or not. */
  readonly blockedTotal: number;
}

/** Options of one `withLease` call. */
export interface LeaseOptions {
  /** The work may run twice: after a browser failure during it, it is retried once on another browser. */
  idempotent?: boolean;
  /**
   * Cancels the lease: while queued it stops waiting; while the work runs, `withLease` rejects with an AbortError
   * at once and the context is closed (so the work's pending page operations fail).
   */
  signal?: AbortSignal;
  /**
   * Origins the browser pool admits (`https://host[:port]`; default the router's). The gateway's egress proxy
   * enforces the pool's list; here it only tells a refusal from an allowed origin's upstream failure.
   */
  allowedOrigins?: string[];
  /** Hard deadline of the work once the lease is granted, in ms (default the router's `leaseDeadlineMs`). */
  deadlineMs?: number;
}

/** A snapshot of the pool as the router sees it. */
export interface RouterStats {
  /** Browsers known (any state). */
  browsers: number;
  /** Browsers connected and healthy (draining ones included). */
  healthy: number;
  /** Healthy browsers that are draining. */
  draining: number;
  /** Leases held now. */
  sessionsInUse: number;
  /** Sessions the healthy, non-draining browsers can hold at once. */
  capacity: number;
  /** Callers waiting for a browser. */
  queueDepth: number;
  /** Warm contexts ready for hand-over. */
  prewarmed: number;
}

/** Configuration of a {@link BrowserRouter}; every field but `source` has a default. */
export interface RouterOptions {
  source: EndpointSource;
  /** Sessions per browser when the endpoint does not say (default 4). */
  maxSessionsPerBrowser?: number;
  /** Warm contexts+pages per browser (default 1; 0 = create on demand). */
  prewarmPerBrowser?: number;
  /** Callers that may wait at once (default 100). */
  queueMaxDepth?: number;
  /** How long a caller waits for a browser before a busy error (default 30 s). */
  queueTimeoutMs?: number;
  /** Origins the browser pool admits (see LeaseOptions.allowedOrigins); enforced by the gateways, not here. */
  allowedOrigins?: string[];
  /** Health probe period (default 5 s; 0 = off), timeout (default 3 s), failures before removal (default 2). */
  healthIntervalMs?: number;
  healthTimeoutMs?: number;
  healthFailureThreshold?: number;
  /** Health path on the gateway (default `/healthz`). */
  healthPath?: string;
  /** connectOverCDP timeout (default 15 s). */
  connectTimeoutMs?: number;
  /** Reconnect backoff first delay (default 500 ms) and ceiling (default 15 s). */
  reconnectInitialMs?: number;
  reconnectMaxMs?: number;
  /** How long `start()` waits for the first browser to be ready (default 20 s); it resolves either way. */
  startTimeoutMs?: number;
  /** Options for every context (viewport, locale, ...). */
  contextOptions?: BrowserContextOptions;
  /**
   * Work done on every page the pool makes before a lease can take it (for a warm page, ahead of demand): the browser
   * work's own set-up that does not depend on the lease. Should not throw; a failure is logged and ignored. `purpose`
   * says whether the page is made ahead of demand (`warm`) or for a lease waiting for it (`lease`).
   */
  preparePage?: (context: BrowserContext, page: Page, purpose: 'warm' | 'lease') => Promise<void>;
  /**
   * Hard deadline of a lease's work from hand-over (default 60 s): past it the work is abandoned with a
   * LeaseDeadlineError and the context closed, even when its page spins and Playwright calls never return.
   */
  leaseDeadlineMs?: number;
  /**
   * After a lease's work fails, how long the router waits to see whether its browser fails too (default 1000 ms;
   * 0 = not at all): a browser going away often aborts the page's navigation a moment before its connection closes.
   */
  browserFailureSettleMs?: number;
  /** How long opening a lease's page on its browser may take before the lease is placed on another (default 15 s). */
  pageOpenTimeoutMs?: number;
  logger?: Logger;
}

type Grant = BrowserConnection;

/**
 * Hands out leases on a pool of browsers: one CDP connection per browser, least-loaded placement under a
 * per-browser cap, a bounded queue with a deadline, pre-warmed contexts, a report of the requests the gateways'
 * egress proxies refused, and failover of idempotent work when a browser dies. Every lease's context is closed when its work ends, whatever happens.
 */
export class BrowserRouter {
  private readonly options: Required<Omit<RouterOptions, 'allowedOrigins' | 'contextOptions' | 'preparePage' | 'logger'>>;
  private readonly defaultOrigins: string[] | undefined;
  private readonly contextOptions: BrowserContextOptions | undefined;
  private readonly preparePage: RouterOptions['preparePage'];
  private readonly logger: Logger;
  private readonly connections = new Map<string, BrowserConnection>();
  private readonly retiring = new Set<BrowserConnection>();
  private readonly queue: LeaseQueue<Grant>;
  private readonly holds = new RecentSamples(100);
  private readonly telemetry: RouterTelemetry;
  private readonly readyWaiters = new Set<() => void>();
  private unsubscribe: (() => void) | undefined;
  private started = false;
  private stopped = false;

  constructor(options: RouterOptions) {
    const cap = options.maxSessionsPerBrowser ?? 4;
    if (!Number.isInteger(cap) || cap < 1) throw new RangeError(`maxSessionsPerBrowser must be a whole number ≥ 1, got ${cap}`);
    this.options = {
      source: options.source,
      maxSessionsPerBrowser: cap,
      prewarmPerBrowser: Math.min(options.prewarmPerBrowser ?? 1, cap),
      queueMaxDepth: options.queueMaxDepth ?? 100,
      queueTimeoutMs: options.queueTimeoutMs ?? 30_000,
      healthIntervalMs: options.healthIntervalMs ?? 5000,
      healthTimeoutMs: options.healthTimeoutMs ?? 3000,
      healthFailureThreshold: options.healthFailureThreshold ?? 2,
      healthPath: options.healthPath ?? '/healthz',
      connectTimeoutMs: options.connectTimeoutMs ?? 15_000,
      reconnectInitialMs: options.reconnectInitialMs ?? 500,
      reconnectMaxMs: options.reconnectMaxMs ?? 15_000,
      startTimeoutMs: options.startTimeoutMs ?? 20_000,
      leaseDeadlineMs: options.leaseDeadlineMs ?? 60_000,
      browserFailureSettleMs: options.browserFailureSettleMs ?? 1000,
      pageOpenTimeoutMs: options.pageOpenTimeoutMs ?? 15_000,
    };
    if (!(this.options.leaseDeadlineMs > 0)) throw new RangeError(`leaseDeadlineMs must be > 0, got ${this.options.leaseDeadlineMs}`);
    this.defaultOrigins = options.allowedOrigins === undefined ? undefined : normaliseOrigins(options.allowedOrigins);
    this.contextOptions = options.contextOptions;
    this.preparePage = options.preparePage;
    this.logger = options.logger ?? createLogger({ component: 'router' });
    this.queue = new LeaseQueue<Grant>({
      maxDepth: this.options.queueMaxDepth,
      timeoutMs: this.options.queueTimeoutMs,
      refuse: (reason, waitedMs) => this.refusal(reason, waitedMs),
    });
    this.telemetry = new RouterTelemetry(() => {
      const s = this.stats();
      return { browsers: s.browsers, healthy: s.healthy - s.draining, busy: s.sessionsInUse, queueDepth: s.queueDepth, prewarmed: s.prewarmed };
    });
  }

  /** Starts the source and connects to its browsers; resolves once one is ready or `startTimeoutMs` passed. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    await this.options.source.start();
    this.unsubscribe = this.options.source.onChange((endpoints) => this.applyEndpoints(endpoints));
    this.applyEndpoints(this.options.source.current());
    await this.waitForHealthy(this.options.startTimeoutMs);
    const s = this.stats();
    this.logger.info('Started browser router', { browsers: s.browsers, healthy: s.healthy, capacity: s.capacity });
  }

  /** Resolves when at least one browser is healthy, or after `timeoutMs` (returns whether one is). */
  async waitForHealthy(timeoutMs: number): Promise<boolean> {
    if (this.stats().healthy > 0) return true;
    let timer: NodeJS.Timeout | undefined;
    let waiter: (() => void) | undefined;
    await new Promise<void>((resolve) => {
      waiter = resolve;
      this.readyWaiters.add(resolve);
      timer = setTimeout(resolve, timeoutMs);
    });
    clearTimeout(timer);
    if (waiter !== undefined) this.readyWaiters.delete(waiter);
    return this.stats().healthy > 0;
  }

  /**
   * Runs `work` with a lease: waits for a slot (bounded), hands over a context and page, and closes the context
   * when the work ends. Throws BrowserBusyError (retry after the hint), BrowserUnavailableError, or
   * BrowserFailedError (the browser died; idempotent work has then already been retried once elsewhere).
   */
  async withLease<T>(work: (lease: Lease) => Promise<T>, options: LeaseOptions = {}): Promise<T> {
    if (this.stopped || !this.started) throw new BrowserUnavailableError('The browser router is not running; start it before leasing browsers');
    const origins = options.allowedOrigins !== undefined ? normaliseOrigins(options.allowedOrigins) : this.defaultOrigins;
    const leaseId = randomUUID();
    return withLogContext({ leaseId }, () =>
      this.telemetry.tracer.startActiveSpan('browser.lease', async (span) => {
        span.setAttribute('lease.id', leaseId);
        span.setAttribute('lease.idempotent', options.idempotent === true);
        try {
          const result = await this.leaseWithRetry(work, options, origins, leaseId, span);
          span.setAttribute('lease.outcome', 'ok' satisfies LeaseOutcome);
          return result;
        } catch (error) {
          const outcome = outcomeOf(error);
          span.setAttribute('lease.outcome', outcome);
          span.recordException(error instanceof Error ? error : new Error(String(error)));
          span.setStatus({ code: SpanStatusCode.ERROR, message: errorMessage(error) });
          if (outcome !== 'ok') this.telemetry.recordFailure(outcome);
          throw error;
        } finally {
          span.end();
        }
      }),
    );
  }

  /** A snapshot of browsers, sessions, capacity, queue and warm pages. */
  stats(): RouterStats {
    let healthy = 0;
    let draining = 0;
    let sessionsInUse = 0;
    let capacity = 0;
    let prewarmed = 0;
    for (const c of this.connections.values()) {
      sessionsInUse += c.inUse;
      prewarmed += c.prewarmed;
      if (c.state !== 'ready') continue;
      healthy++;
      if (c.draining) draining++;
      else capacity += Math.min(c.cap, c.ownCap);
    }
    for (const c of this.retiring) sessionsInUse += c.inUse;
    return { browsers: this.connections.size, healthy, draining, sessionsInUse, capacity, queueDepth: this.queue.depth, prewarmed };
  }

  /** Stops taking leases, refuses queued callers, closes every connection. Does not stop the source. Idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.unsubscribe?.();
    this.queue.close();
    this.telemetry.close();
    for (const resolve of this.readyWaiters) resolve();
    const all = [...this.connections.values(), ...this.retiring];
    this.connections.clear();
    this.retiring.clear();
    await Promise.all(all.map((c) => c.close('router stopped')));
    this.logger.info('Stopped browser router', { browsers: all.length });
  }

  private async leaseWithRetry<T>(
    work: (lease: Lease) => Promise<T>,
    options: LeaseOptions,
    origins: readonly string[] | undefined,
    leaseId: string,
    span: Span,
  ): Promise<T> {
    const avoid = new Set<string>();
    let refusals = 0;
    for (let attempt = 1; ; attempt++) {
      const requestedAt = performance.now();
      const connection = await this.acquireSlot(options.signal, avoid);
      try {
        return await this.runLease(connection, work, origins, leaseId, requestedAt, span, options.signal, options.deadlineMs ?? this.options.leaseDeadlineMs);
      } catch (error) {
        // Another server took the browser's last slot first: its gateway refused, nothing ran; place again (the
        // browser counts as full until its gateway reports room).
        if (error instanceof BrowserAtCapacityError && refusals < MAX_CAPACITY_REFUSALS) {
          refusals++;
          attempt--;
          avoid.add(connection.id);
          this.logger.debug('Placed a lease again after a browser refused it at its cap', { browserId: connection.id, refusals });
          continue;
        }
        if (!shouldRetryLease({ error, idempotent: options.idempotent === true, attempt })) throw error;
        avoid.add(connection.id);
        this.logger.warn('Retried lease on another browser', { browserId: connection.id, attempt, error: errorMessage(error) });
      }
    }
  }

  private async runLease<T>(
    connection: BrowserConnection,
    work: (lease: Lease) => Promise<T>,
    origins: readonly string[] | undefined,
    leaseId: string,
    requestedAt: number,
    span: Span,
    signal: AbortSignal | undefined,
    deadlineMs: number,
  ): Promise<T> {
    const browserId = connection.id;
    let warm: WarmPage | undefined;
    const blockedLog = new BlockedRequestLog(this.logger, { browserId, leaseId });
    let heldFrom = 0;
    let outcome: LeaseOutcome = 'ok';
    // From its reservation on, the lease goes down with its browser: a disconnect, failed probes or the endpoint's
    // removal fail it at once, also while its page is still being opened.
    const tracker = connection.track();
    try {
      warm = await this.openPageWhileAlive(connection, tracker);
      const { guard } = warm;
      const lease: Lease = { leaseId, browserId, context: warm.context, page: warm.page, blocked: guard.blocked, get blockedTotal() { return guard.blockedTotal ?? 0; } };
      warm.guard.allowedOrigins = origins;
      warm.guard.onBlocked = (blocked) => blockedLog.record(blocked);
      heldFrom = performance.now();
      const waitMs = heldFrom - requestedAt;
      span.setAttribute('browser.id', browserId);
      span.setAttribute('lease.wait_ms', Math.round(waitMs * 1000) / 1000);
      this.telemetry.recordWait(waitMs, { 'browser.id': browserId });
      this.logger.debug('Granted browser lease', { browserId, leaseId, waitMs: Math.round(waitMs) });
      const cancelled = abortPromise(signal);
      const deadline = deadlinePromise(browserId, deadlineMs);
      const running = work(lease);
      running.catch(() => undefined);
      try {
        return await Promise.race([running, tracker.failed, cancelled.promise, deadline.promise]);
      } catch (error) {
        const failure = tracker.failure() ?? (await this.browserFailureAfter(tracker, error, signal));
        if (failure !== undefined) {
          outcome = 'browser_failed';
          throw new BrowserFailedError(browserId, 'work', failure.reason, { cause: error });
        }
        if (error instanceof LeaseDeadlineError) {
          outcome = 'deadline';
          this.logger.warn('Closed a lease that ran past its deadline', { browserId, leaseId, deadlineMs });
        } else {
          outcome = signal?.aborted === true && isAbortError(error) ? 'aborted' : 'work_error';
        }
        throw error;
      } finally {
        cancelled.dispose();
        deadline.dispose();
      }
    } catch (error) {
      if (outcome === 'ok') outcome = error instanceof BrowserFailedError ? 'browser_failed' : 'work_error';
      throw error;
    } finally {
      tracker.dispose();
      if (warm !== undefined) {
        warm.guard.allowedOrigins = [];
        warm.guard.onBlocked = undefined;
      }
      blockedLog.close();
      await connection.finish(warm);
      if (heldFrom > 0) {
        const holdMs = performance.now() - heldFrom;
        this.holds.add(holdMs);
        this.telemetry.recordHold(holdMs, { 'browser.id': browserId, outcome });
      }
      this.logger.debug('Released browser lease', { browserId, leaseId, outcome });
    }
  }

  /**
   * The work failed while its browser still looked alive. A browser that is going away often shows it to the page
   * first (Chromium's shutdown or a child process's death aborts the navigation: net::ERR_ABORTED) and to the
   * connection a moment later (the gateway's close), so the work's error is not trusted at once: if the browser's
   * connection fails within `browserFailureSettleMs`, the lease failed with its browser (and idempotent work is
   * retried elsewhere). A caller's cancellation and the lease's deadline are taken as they are.
   */
  private async browserFailureAfter(tracker: LeaseTracker, workError: unknown, signal: AbortSignal | undefined): Promise<BrowserFailedError | undefined> {
    const settleMs = this.options.browserFailureSettleMs;
    if (settleMs <= 0 || workError instanceof LeaseDeadlineError || signal?.aborted === true) return undefined;
    let timer: NodeJS.Timeout | undefined;
    const settled = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, settleMs);
    });
    await Promise.race([tracker.failed.catch(() => undefined), settled]);
    clearTimeout(timer);
    return tracker.failure();
  }

  /**
   * The reserved browser's page for a lease, or a setup failure (always retried elsewhere) when the browser fails
   * first or no page comes within `pageOpenTimeoutMs`. A page that comes after the lease gave up is closed.
   */
  private async openPageWhileAlive(connection: BrowserConnection, tracker: LeaseTracker): Promise<WarmPage> {
    const opening = connection.openPage();
    const timeoutMs = this.options.pageOpenTimeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new BrowserFailedError(connection.id, 'setup', `no page within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      return await Promise.race([opening, tracker.failed, timedOut]);
    } catch (error) {
      opening.then((late) => closeQuietly(late.context), () => undefined);
      const failure = tracker.failure();
      if (failure !== undefined) throw new BrowserFailedError(connection.id, 'setup', failure.reason, { cause: error });
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Reserves a slot on the best browser now, or waits in the queue. */
  private acquireSlot(signal: AbortSignal | undefined, avoid: ReadonlySet<string>): Promise<BrowserConnection> {
    if (this.stopped) return Promise.reject(new BrowserUnavailableError('The browser router stopped; no new leases are placed'));
    if (this.queue.depth === 0) {
      const connection = this.place(avoid);
      if (connection !== undefined) {
        connection.reserve();
        return Promise.resolve(connection);
      }
    }
    return this.queue.wait(signal, avoid);
  }

  private place(avoid: ReadonlySet<string>): BrowserConnection | undefined {
    const id = chooseBrowser([...this.connections.values()].map((c) => c.candidate()), avoid);
    return id === undefined ? undefined : this.connections.get(id);
  }

  /** Grants queued callers while some browser has room (called whenever capacity may have changed). */
  private dispatch(): void {
    if (this.stopped) return;
    while (this.queue.depth > 0) {
      const avoid = (this.queue.peekContext() as ReadonlySet<string> | undefined) ?? new Set<string>();
      const connection = this.place(avoid);
      if (connection === undefined) return;
      connection.reserve();
      this.queue.grantNext(connection);
    }
  }

  private onConnectionChange(): void {
    this.dispatch();
    if (this.stats().healthy > 0) {
      for (const resolve of this.readyWaiters) resolve();
      this.readyWaiters.clear();
    }
  }

  private applyEndpoints(endpoints: BrowserEndpoint[]): void {
    if (this.stopped) return;
    const seen = new Set<string>();
    for (const endpoint of endpoints) {
      seen.add(endpoint.id);
      const existing = this.connections.get(endpoint.id);
      if (existing !== undefined && existing.endpoint.url === endpoint.url && existing.endpoint.token === endpoint.token) {
        existing.update(endpoint);
        continue;
      }
      if (existing !== undefined) {
        this.connections.delete(endpoint.id);
        this.logger.info('Replaced browser endpoint', { browserId: endpoint.id, url: endpoint.url });
        void existing.close('browser replaced');
      } else {
        this.logger.info('Added browser endpoint', { browserId: endpoint.id, url: endpoint.url, state: endpoint.state });
      }
      const connection = new BrowserConnection(endpoint, {
        defaultCap: this.options.maxSessionsPerBrowser,
        prewarm: this.options.prewarmPerBrowser,
        connectTimeoutMs: this.options.connectTimeoutMs,
        healthIntervalMs: this.options.healthIntervalMs,
        healthTimeoutMs: this.options.healthTimeoutMs,
        healthFailureThreshold: this.options.healthFailureThreshold,
        healthPath: this.options.healthPath,
        reconnectInitialMs: this.options.reconnectInitialMs,
        reconnectMaxMs: this.options.reconnectMaxMs,
        contextOptions: this.contextOptions,
        ...(this.preparePage !== undefined ? { preparePage: this.preparePage } : {}),
        logger: this.logger,
        onChange: () => this.onConnectionChange(),
      });
      this.connections.set(endpoint.id, connection);
      void connection.start();
    }
    for (const [id, connection] of this.connections) {
      if (seen.has(id)) continue;
      this.connections.delete(id);
      this.remove(connection);
    }
    this.dispatch();
  }

  /**
   * A browser gone from the source (its pod deleted, failed or past its drain; a local browser that died): closed at
   * once, so its running leases fail now as browser failures (idempotent work is retried elsewhere) instead of
   * waiting on a browser that may never answer again. A browser being drained stays in the source (as Draining)
   * until its leases have finished. It is counted until its last lease has ended.
   */
  private remove(connection: BrowserConnection): void {
    this.logger.info('Removed browser endpoint', { browserId: connection.id, runningLeases: connection.inUse });
    this.retiring.add(connection);
    void connection.close('browser removed from the pool');
    const forget = (): void => {
      if (connection.inUse > 0 && !this.stopped) {
        setTimeout(forget, 200).unref();
        return;
      }
      this.retiring.delete(connection);
    };
    forget();
  }

  private refusal(reason: QueueExitReason, waitedMs: number): Error {
    const s = this.stats();
    const retryAfterSeconds = estimateRetryAfterSeconds({ recentHoldMs: this.holds.values(), queueDepth: s.queueDepth, capacity: s.capacity });
    const waited = (waitedMs / 1000).toFixed(1);
    if (reason === 'full' || reason === 'timeout') {
      this.logger.warn('Refused browser lease', { reason, waitedMs: Math.round(waitedMs), queueDepth: s.queueDepth, capacity: s.capacity, healthy: s.healthy, retryAfterSeconds });
    }
    switch (reason) {
      case 'aborted':
        return new DOMException('Waiting for a browser was cancelled', 'AbortError');
      case 'closed':
        return new BrowserUnavailableError('The browser router stopped while the lease was waiting');
      case 'full':
        return new BrowserBusyError(`All browsers are busy and ${s.queueDepth} callers are already waiting; retry after ${retryAfterSeconds} s`, retryAfterSeconds);
      case 'timeout':
        if (s.healthy - s.draining === 0) {
          return new BrowserUnavailableError(`No healthy browser became available within ${waited} s (${s.browsers} known, none ready); check the browser pool`);
        }
        return new BrowserBusyError(`All ${s.capacity} browser sessions stayed busy for ${waited} s; retry after ${retryAfterSeconds} s`, retryAfterSeconds);
    }
  }
}

/** How many times one lease is placed again after gateways refused it at their cap before it gives up (busy). */
const MAX_CAPACITY_REFUSALS = 8;

function outcomeOf(error: unknown): LeaseOutcome {
  if (error instanceof LeaseDeadlineError) return 'deadline';
  if (error instanceof BrowserBusyError) return 'busy';
  if (error instanceof BrowserUnavailableError) return 'unavailable';
  if (error instanceof BrowserFailedError) return 'browser_failed';
  if (isAbortError(error)) return 'aborted';
  return 'work_error';
}

function isAbortError(error: unknown): boolean {
  return error instanceof DOMException && error.name === 'AbortError';
}

/** A promise that rejects with a LeaseDeadlineError after `deadlineMs`. */
function deadlinePromise(browserId: string, deadlineMs: number): { promise: Promise<never>; dispose: () => void } {
  let timer: NodeJS.Timeout | undefined;
  const promise = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new LeaseDeadlineError(browserId, deadlineMs)), deadlineMs);
  });
  promise.catch(() => undefined);
  return { promise, dispose: () => clearTimeout(timer) };
}

/** A promise that rejects with an AbortError when `signal` aborts (never, without a signal). */
function abortPromise(signal: AbortSignal | undefined): { promise: Promise<never>; dispose: () => void } {
  if (signal === undefined) return { promise: new Promise<never>(() => undefined), dispose: () => undefined };
  let onAbort = (): void => undefined;
  const promise = new Promise<never>((_resolve, reject) => {
    onAbort = () => reject(new DOMException('The lease was cancelled', 'AbortError'));
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  promise.catch(() => undefined);
  return { promise, dispose: () => signal.removeEventListener('abort', onAbort) };
}
