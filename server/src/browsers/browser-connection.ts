import { chromium, type Browser, type BrowserContextOptions } from 'playwright-core';
import type { Logger } from '#common/logger.ts';
import type { BrowserEndpoint } from './endpoint-source.ts';
import { BrowserFailedError } from './errors.ts';
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

  /** Session cap in force. */
  get cap(): number {
    return this.endpoint.maxSessions ?? this.options.defaultCap;
  }

  /** Warm pages ready for hand-over. */
  get prewarmed(): number {
    return this.pool?.readyCount ?? 0;
  }

  /** This browser as placement sees it. */
  candidate(): PlacementCandidate {
    return { id: this.id, healthy: this.stateValue === 'ready', draining: this.drainingValue, inUse: this.inUseValue, cap: this.cap };
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

  /** Hands over a warm page for a reserved lease; a browser failure here is a setup failure. */
  async openPage(): Promise<WarmPage> {
    const pool = this.pool;
    if (this.stateValue !== 'ready' || pool === undefined) {
      throw new BrowserFailedError(this.id, 'setup', `browser is ${this.stateValue}`);
    }
    try {
      return await pool.take();
    } catch (error) {
      throw new BrowserFailedError(this.id, 'setup', `could not open a page: ${errorMessage(error)}`, { cause: error });
    }
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
      this.pool = new PrewarmPool({
        target: options.prewarm,
        create: () => this.createPage(browser),
        room: () => this.cap - this.inUseValue - (this.pool?.openUnclaimed ?? 0),
        onError: (error) => options.logger.warn('Failed to pre-warm a browser context', { browserId: this.id, error: errorMessage(error) }),
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

  private async createPage(browser: Browser): Promise<WarmPage> {
    const context = await browser.newContext(this.options.contextOptions);
    try {
      const guard: BlockedRequestSink = { allowedOrigins: undefined, blocked: [] };
      watchBlockedRequests(context, guard);
      const page = await context.newPage();
      return { context, page, guard };
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
