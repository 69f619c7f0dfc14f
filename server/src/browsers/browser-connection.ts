import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type CDPSession, type Page } from 'playwright-core';
import type { Logger } from '#common/logger.ts';
import { ContextCreator } from './context-creator.ts';
import type { BrowserEndpoint } from './endpoint-source.ts';
import { BrowserAtCapacityError, BrowserFailedError } from './errors.ts';
import { watchBlockedRequests, type BlockedRequestSink } from './blocked-requests.ts';
import type { PlacementCandidate } from './placement.ts';
import { PrewarmPool, closeQuietly, type WarmPage } from './prewarm-pool.ts';

/** Lifecycle of one browser connection. */
export type ConnectionState = 'connecting' | 'ready' | 'down' | 'closed';

/** Tuning of a {@link BrowserConnection}. */
export interface ConnectionOptions {
  /** Session cap when the endpoint does not carry one. */
  defaultCap: number;
  /** Warm contexts+pages kept per browser. */
  prewarm: number;
  /** connectOverCDP timeout. */
  connectTimeoutMs: number;
  /** Health probe period; 0 disables the periodic probe. */
  healthIntervalMs: number;
  /** Health probe timeout. */
  healthTimeoutMs: number;
  /** Consecutive failed probes that take the browser out of placement. */
  healthFailureThreshold: number;
  /** Path of the health endpoint on the gateway (`/healthz`). */
  healthPath: string;
  /** Reconnect backoff: first delay and ceiling. */
  reconnectInitialMs: number;
  reconnectMaxMs: number;
  /** Options for every context created. */
  contextOptions?: BrowserContextOptions;
  /** Work done on every page this connection makes, before a lease can take it (RouterOptions.preparePage). */
  preparePage?: (context: BrowserContext, page: Page, purpose: 'warm' | 'lease') => Promise<void>;
  logger: Logger;
  /** Called whenever placement-relevant state changed (ready, down, slot freed, draining). */
  onChange: () => void;
}

/** Handle a running lease holds on its connection: `failed` rejects when the browser dies under it. */
export interface LeaseTracker {
  failed: Promise<never>;
  /** The failure, once the browser died during the lease. */
  failure(): BrowserFailedError | undefined;
  dispose(): void;
}

interface ActiveLease {
  fail: (error: BrowserFailedError) => void;
  error?: BrowserFailedError;
}

/** A browser's load as its gateway reports it (`Gateway.subscribeLoad` / `Gateway.loadChanged`). */
export interface ObservedLoad {
  /** Contexts on the browser, of every server. */
  contexts: number;
  /** Of those, the ones this connection created. */
  yours: number;
  /** The cap the gateway enforces over all servers. */
  maxContexts: number;
}

/** The marker of a gateway's capacity refusal in a CDP error message (browser/src/cdp/cdp-multiplexer.ts). */
const CAPACITY_MARKER = 'GATEWAY_AT_CAPACITY';
/** How long a browser whose gateway refused a context counts as full when no load report says otherwise. */
const FULL_AFTER_REFUSAL_MS = 500;

/** Reads a load report; undefined when it is not one (an older gateway, or garbage). */
export function parseLoadReport(value: unknown): ObservedLoad | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  const n = (x: unknown): number | undefined => (typeof x === 'number' && Number.isInteger(x) && x >= 0 && x <= 100_000 ? x : undefined);
  const contexts = n(v['contexts']);
  const yours = n(v['yours']);
  const maxContexts = n(v['maxContexts']);
  if (contexts === undefined || yours === undefined || maxContexts === undefined || maxContexts < 1) return undefined;
  return { contexts, yours: Math.min(yours, contexts), maxContexts };
}

/**
 * One `connectOverCDP` connection to one browser's gateway, with its session count, pre-warmed pages, health
 * probe and reconnection. A disconnect or failed health check takes it out of placement at once and fails the
 * leases running on it; it then reconnects with backoff once the gateway's health endpoint answers again.
 */
export class BrowserConnection {
  readonly endpoint: BrowserEndpoint;
  private readonly options: ConnectionOptions;
  private stateValue: ConnectionState = 'connecting';
  private browser: Browser | undefined;
  private pool: PrewarmPool | undefined;
  private generation = 0;
  private inUseValue = 0;
  private drainingValue: boolean;
  private readonly active = new Set<ActiveLease>();
  private healthTimer: NodeJS.Timeout | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private backoffMs: number;
  private healthFailures = 0;
  private probing = false;
  private firstAttempt: Promise<void> | undefined;
  private observed: ObservedLoad | undefined;
  /**
   * Set when the gateway refused a context: the browser counts as full until its next load report, or for
   * FULL_AFTER_REFUSAL_MS when its gateway sends none.
   */
  private fullUntil = 0;
  private fullTimer: NodeJS.Timeout | undefined;

  constructor(endpoint: BrowserEndpoint, options: ConnectionOptions) {
    this.endpoint = { ...endpoint };
    this.options = options;
    this.drainingValue = endpoint.state === 'Draining';
    this.backoffMs = options.reconnectInitialMs;
  }

  /** Browser id (the endpoint's id). */
  get id(): string {
    return this.endpoint.id;
  }

  /** Current lifecycle state. */
  get state(): ConnectionState {
    return this.stateValue;
  }

  /** Leases held or reserved now. */
  get inUse(): number {
    return this.inUseValue;
  }

  /** True while the endpoint is draining (no new leases). */
  get draining(): boolean {
    return this.drainingValue;
  }

  /** Contexts the browser holds at most over all servers: its gateway's cap, else the endpoint's or the default. */
  get cap(): number {
    return this.observed?.maxContexts ?? this.ownCap;
  }

  /** Leases this server places on the browser at most (the endpoint's cap or the router's setting). */
  get ownCap(): number {
    return this.endpoint.maxSessions ?? this.options.defaultCap;
  }

  /** Contexts other servers hold on this browser, from its gateway's last load report (0 when not known). */
  get others(): number {
    if (Date.now() < this.fullUntil) return this.cap;
    if (this.observed === undefined) return 0;
    return Math.max(0, this.observed.contexts - this.observed.yours);
  }

  /** Warm pages ready for hand-over. */
  get prewarmed(): number {
    return this.pool?.readyCount ?? 0;
  }

  /** This browser as placement sees it. */
  candidate(): PlacementCandidate {
    return {
      id: this.id, healthy: this.stateValue === 'ready', draining: this.drainingValue, inUse: this.inUseValue, cap: this.cap,
      ownCap: this.ownCap, others: this.others, warm: this.pool?.openUnclaimed ?? 0,
    };
  }

  /** Starts connecting; resolves after the first attempt (success or a scheduled retry). */
  start(): Promise<void> {
    this.firstAttempt ??= this.connect();
    return this.firstAttempt;
  }

  /** Applies a changed state or cap of the same browser (same id and URL). */
  update(endpoint: BrowserEndpoint): void {
    const draining = endpoint.state === 'Draining';
    const changed = draining !== this.drainingValue || endpoint.maxSessions !== this.endpoint.maxSessions;
    this.endpoint.state = endpoint.state;
    this.endpoint.maxSessions = endpoint.maxSessions;
    if (draining !== this.drainingValue) {
      this.drainingValue = draining;
      this.options.logger.info(draining ? 'Started draining browser' : 'Stopped draining browser', { browserId: this.id });
      if (draining) void this.pool?.pause();
      else this.pool?.resume();
    }
    if (changed) this.options.onChange();
  }

  /** Counts one lease against this browser (placement chose it). */
  reserve(): void {
    this.inUseValue++;
  }

  /**
   * Hands over a warm page for a reserved lease and tells the gateway its context is leased (not awaited: the
   * hand-over waits for nothing). A browser failure here is a setup failure; a refusal at the cap is a
   * BrowserAtCapacityError (the router places the lease elsewhere).
   */
  async openPage(): Promise<WarmPage> {
    const pool = this.pool;
    if (this.stateValue !== 'ready' || pool === undefined) {
      throw new BrowserFailedError(this.id, 'setup', `browser is ${this.stateValue}`);
    }
    let warm: WarmPage;
    try {
      warm = await pool.take();
    } catch (error) {
      if (error instanceof BrowserAtCapacityError) throw error;
      throw new BrowserFailedError(this.id, 'setup', `could not open a page: ${errorMessage(error)}`, { cause: error });
    }
    if (warm.marker !== undefined) {
      warm.marker.send('Gateway.setContextState' as never, { state: 'leased' } as never).catch((error: unknown) => {
        this.options.logger.debug('Could not mark a context leased at its gateway', { browserId: this.id, error: errorMessage(error) });
      });
    }
    return warm;
  }

  /** Watches a running lease: `failed` rejects with a BrowserFailedError if the browser dies before `dispose`. */
  track(): LeaseTracker {
    let reject!: (error: BrowserFailedError) => void;
    const failed = new Promise<never>((_resolve, r) => {
      reject = r;
    });
    failed.catch(() => undefined);
    const entry: ActiveLease = {
      fail: (error) => {
        entry.error = error;
        reject(error);
      },
    };
    this.active.add(entry);
    return { failed, failure: () => entry.error, dispose: () => this.active.delete(entry) };
  }

  /** Ends a lease: closes its context, frees its slot, replenishes the warm pool. */
  async finish(warm: WarmPage | undefined): Promise<void> {
    try {
      if (warm !== undefined) await closeQuietly(warm.context);
    } finally {
      this.inUseValue--;
      if (!this.drainingValue) this.pool?.replenish();
      this.options.onChange();
    }
  }

  /** Closes the connection for good: fails running leases, closes warm pages, disconnects. Idempotent. */
  async close(reason = 'browser removed'): Promise<void> {
    if (this.stateValue === 'closed') return;
    const wasReady = this.stateValue === 'ready';
    this.stateValue = 'closed';
    this.generation++;
    clearInterval(this.healthTimer);
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.fullTimer);
    this.failActive(reason);
    const browser = this.browser;
    const pool = this.pool;
    this.browser = undefined;
    this.pool = undefined;
    if (pool !== undefined) await pool.close(!wasReady);
    if (browser !== undefined) await browser.close().catch(() => undefined);
  }

  private isClosed(): boolean {
    return this.stateValue === 'closed';
  }

  private async connect(): Promise<void> {
    if (this.stateValue === 'closed') return;
    this.stateValue = 'connecting';
    const generation = ++this.generation;
    const { endpoint, options } = this;
    try {
      await this.probe();
      const browser = await chromium.connectOverCDP(endpoint.url, {
        headers: { Authorization: `Bearer ${endpoint.token}` },
        timeout: options.connectTimeoutMs,
      });
      if (generation !== this.generation || this.isClosed()) {
        await browser.close().catch(() => undefined);
        return;
      }
      this.browser = browser;
      browser.on('disconnected', () => this.markDown('disconnected', generation));
      this.observed = undefined;
      this.fullUntil = 0;
      const loadSession = await this.subscribeLoad(browser, generation);
      if (generation !== this.generation || this.isClosed()) {
        await browser.close().catch(() => undefined);
        return;
      }
      // A browser that went away while this connection was being set up (its 'disconnected' came before the
      // connection was ready, when there was nothing to take down) is not ready: try again.
      if (!browser.isConnected()) throw new Error('the browser disconnected while the connection was being set up');
      const creator = new ContextCreator(browser, loadSession, options.contextOptions);
      this.pool = new PrewarmPool({
        target: options.prewarm,
        create: (purpose) => this.createPage(creator, purpose),
        room: () => Math.min(this.cap - this.others, this.ownCap) - this.inUseValue - (this.pool?.openUnclaimed ?? 0),
        onError: (error) => {
          if (error instanceof BrowserAtCapacityError) options.logger.debug('Did not pre-warm a context: the browser is at its cap', { browserId: this.id });
          else options.logger.warn('Failed to pre-warm a browser context', { browserId: this.id, error: errorMessage(error) });
        },
      });
      if (this.drainingValue) void this.pool.pause();
      this.stateValue = 'ready';
      this.backoffMs = options.reconnectInitialMs;
      this.healthFailures = 0;
      this.startHealthProbe(generation);
      this.pool.replenish();
      options.logger.info('Connected to browser', { browserId: this.id, url: endpoint.url });
      options.onChange();
    } catch (error) {
      if (generation !== this.generation || this.isClosed()) return;
      this.stateValue = 'down';
      options.logger.warn('Failed to connect to browser', { browserId: this.id, url: endpoint.url, error: errorMessage(error), retryInMs: this.backoffMs });
      this.scheduleReconnect();
    }
  }

  /**
   * Follows the browser's load as its gateway pushes it (`Gateway.subscribeLoad` on a browser-level CDP session), so
   * placement sees every server's contexts. A gateway that does not answer leaves placement on this server's own
   * leases (and the gateway still enforces its cap). Returns the session (for `Gateway.*` commands), or undefined.
   */
  private async subscribeLoad(browser: Browser, generation: number): Promise<CDPSession | undefined> {
    let session: CDPSession;
    try {
      session = await browser.newBrowserCDPSession();
      session.on('Gateway.loadChanged' as never, ((report: unknown) => {
        if (generation === this.generation) this.applyLoad(parseLoadReport(report));
      }) as never);
      this.applyLoad(parseLoadReport(await session.send('Gateway.subscribeLoad' as never)));
      return this.observed !== undefined ? session : undefined;
    } catch (error) {
      this.options.logger.warn('Browser gateway reports no load; placing by this server\'s own leases only', { browserId: this.id, error: errorMessage(error) });
      return undefined;
    }
  }

  private applyLoad(load: ObservedLoad | undefined): void {
    if (load === undefined) return;
    this.observed = load;
    this.fullUntil = 0;
    clearTimeout(this.fullTimer);
    if (this.stateValue === 'ready') this.options.onChange();
  }

  /**
   * Creates a context and page. A warm one (made ahead of demand) is warm at the gateway from its creation (see
   * ContextCreator: no report ever shows it leased), with a CDP session of its page kept to mark it leased at
   * hand-over; one made for a waiting lease is leased from its creation. A gateway without the declaration gets the
   * warm context marked after its page exists.
   */
  private async createPage(creator: ContextCreator, purpose: 'warm' | 'lease'): Promise<WarmPage> {
    let context: BrowserContext;
    let bornWarm = false;
    try {
      ({ context, bornWarm } = await creator.create(purpose));
    } catch (error) {
      if (errorMessage(error).includes(CAPACITY_MARKER)) {
        this.fullUntil = Date.now() + FULL_AFTER_REFUSAL_MS;
        clearTimeout(this.fullTimer);
        this.fullTimer = setTimeout(() => this.options.onChange(), FULL_AFTER_REFUSAL_MS + 1);
        this.fullTimer.unref();
        this.options.onChange();
        throw new BrowserAtCapacityError(this.id, { cause: error });
      }
      throw error;
    }
    try {
      const guard: BlockedRequestSink = { allowedOrigins: undefined, blocked: [], blockedTotal: 0 };
      watchBlockedRequests(context, guard);
      const page = await context.newPage();
      await this.options.preparePage?.(context, page, purpose).catch((error: unknown) => {
        this.options.logger.debug('Could not prepare a page ahead of its lease', { browserId: this.id, error: errorMessage(error) });
      });
      let marker: CDPSession | undefined;
      if (purpose === 'warm' && this.observed !== undefined) {
        marker = await context.newCDPSession(page);
        if (!bornWarm) await marker.send('Gateway.setContextState' as never, { state: 'warm' } as never);
      }
      return { context, page, guard, ...(marker !== undefined ? { marker } : {}) };
    } catch (error) {
      await closeQuietly(context);
      throw error;
    }
  }

  private markDown(reason: string, generation: number): void {
    if (generation !== this.generation || this.stateValue !== 'ready') return;
    this.stateValue = 'down';
    this.generation++;
    clearInterval(this.healthTimer);
    this.failActive(reason);
    const browser = this.browser;
    const pool = this.pool;
    this.browser = undefined;
    this.pool = undefined;
    void pool?.close(true);
    void browser?.close().catch(() => undefined);
    this.options.logger.warn('Removed browser from placement', { browserId: this.id, reason, failedLeases: this.active.size });
    this.options.onChange();
    this.scheduleReconnect();
  }

  private failActive(reason: string): void {
    for (const lease of this.active) lease.fail(new BrowserFailedError(this.id, 'work', reason));
    this.active.clear();
  }

  private scheduleReconnect(): void {
    if (this.stateValue === 'closed') return;
    clearTimeout(this.reconnectTimer);
    const delay = Math.round(this.backoffMs * (0.8 + Math.random() * 0.4));
    this.backoffMs = Math.min(this.options.reconnectMaxMs, this.backoffMs * 2);
    this.reconnectTimer = setTimeout(() => void this.connect(), delay);
    this.reconnectTimer.unref();
  }

  private startHealthProbe(generation: number): void {
    clearInterval(this.healthTimer);
    if (this.options.healthIntervalMs <= 0) return;
    this.healthTimer = setInterval(() => void this.checkHealth(generation), this.options.healthIntervalMs);
    this.healthTimer.unref();
  }

  private async checkHealth(generation: number): Promise<void> {
    if (this.probing || generation !== this.generation) return;
    this.probing = true;
    try {
      await this.probe();
      this.healthFailures = 0;
    } catch (error) {
      if (generation !== this.generation) return;
      this.healthFailures++;
      this.options.logger.warn('Failed browser health check', { browserId: this.id, failures: this.healthFailures, error: errorMessage(error) });
      if (this.healthFailures >= this.options.healthFailureThreshold) this.markDown('health check failed', generation);
    } finally {
      this.probing = false;
    }
  }

  private async probe(): Promise<void> {
    const response = await fetch(`${this.endpoint.url}${this.options.healthPath}`, {
      signal: AbortSignal.timeout(this.options.healthTimeoutMs),
    });
    await response.body?.cancel();
    if (!response.ok) throw new Error(`health endpoint answered ${response.status}`);
  }
}

/** The message of any thrown value. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
