import type { Logger } from '#common/logger.ts';
import type { RunningBrowserPool } from '#server/browsers/create-router.ts';
import { BrowserUnavailableError } from '#server/browsers/errors.ts';
import type { ServerConfig } from '#server/config.ts';
import { missingComposerCredentials } from '#server/config.ts';
import type { CatalogDocuments } from '#server/mcp/catalog-resources.ts';
import { SERVER_VERSION } from '#server/mcp/server-info.ts';
import type { BrowserLease, BrowserLeaser, BrowserPoolStats, ComposerServices, ComposerSettings } from '#server/tools/services.ts';

/** The services the tools use, and what must be started and stopped with the process. */
export interface BuiltServices {
  services: ComposerServices;
  catalog: CatalogDocuments;
  /** The browser pool the tools lease from when a source is configured (its figures are zero until it started). */
  browsers: BrowserLeaser | undefined;
  /** Settings still missing for save/get/open/preview (empty when all are set). */
  missingCredentials: string[];
  /** Starts the browser pool (resolves when the first browser is ready or the router's start timeout passed). */
  start(): Promise<void>;
  /** Stops the router, then the source (local browsers exit). Safe to call twice. */
  stop(): Promise<void>;
}

/** The Composer settings the tools see, from configuration. */
export function composerSettingsOf(config: ServerConfig): ComposerSettings {
  const c = config.composer;
  return {
    composerUrl: c.composerUrl,
    apiUrl: c.apiUrl,
    apiEnv: c.apiEnv,
    page: c.page,
    pageAccess: c.pageAccess,
    capture: c.capture,
    ...(c.accessToken ? { accessToken: c.accessToken } : {}),
    ...(c.projectKey ? { projectKey: c.projectKey } : {}),
    ...(c.connectorUid ? { connectorUid: c.connectorUid } : {}),
  };
}

/**
 * The options of every lease's browser context: the screenshots' viewport (contexts are made ahead, no resize per
 * call) and no service workers (a page cannot answer its own asset requests, nor outlive its lease in one; proven by
 * test/integration/browsers/service-workers.test.ts).
 */
export function leaseContextOptions(viewport: { width: number; height: number }): { viewport: { width: number; height: number }; serviceWorkers: 'block' } {
  return { viewport: { ...viewport }, serviceWorkers: 'block' };
}

/** The origins browser work may load: the Composer's and the storage API's. */
export function allowedOriginsOf(config: ServerConfig): string[] {
  return [...new Set([new URL(config.composer.composerUrl).origin, new URL(config.composer.apiUrl).origin])];
}

/** Pool figures before the pool runs. */
const NO_BROWSERS: BrowserPoolStats = { browsers: 0, healthy: 0, draining: 0, sessionsInUse: 0, capacity: 0, queueDepth: 0, prewarmed: 0 };

/**
 * The tools' view of a browser pool that starts after the transport (so the server answers at once): a lease waits
 * for the pool to finish starting, then goes to its router; if the pool failed to start, the lease fails saying why.
 */
export class StartingBrowserPool implements BrowserLeaser {
  private pool: RunningBrowserPool | undefined;
  private failure: Error | undefined;
  private settled = false;
  private wake: () => void = () => {};
  private readonly started: Promise<void>;

  constructor() {
    this.started = new Promise<void>((resolve) => {
      this.wake = resolve;
    });
  }

  /** Records the running pool (or why there is none) and releases waiting leases. Only the first call counts. */
  settle(pool: RunningBrowserPool | undefined, failure?: Error): void {
    if (this.settled) return;
    this.settled = true;
    this.pool = pool;
    this.failure = failure;
    this.wake();
  }

  /** The running pool, once started. */
  get running(): RunningBrowserPool | undefined {
    return this.pool;
  }

  /** Runs `work` on a lease from the pool, waiting (cancellably) for the pool to start first. */
  async withLease<T>(work: (lease: BrowserLease) => Promise<T>, options: { idempotent?: boolean; signal?: AbortSignal; allowedOrigins?: string[] } = {}): Promise<T> {
    if (!this.settled) await waitOrAbort(this.started, options.signal);
    if (!this.pool) throw new BrowserUnavailableError(`No browser pool is running: ${this.failure?.message ?? 'it did not start'}`, { cause: this.failure });
    return this.pool.router.withLease(work, options);
  }

  /** The router's figures, zero until the pool runs. */
  stats(): BrowserPoolStats {
    return this.pool?.router.stats() ?? NO_BROWSERS;
  }
}

async function waitOrAbort(promise: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return promise;
  signal.throwIfAborted();
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_resolve, reject) => {
    onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    await Promise.race([promise, aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort!);
  }
}

/**
 * The shared idempotency store when `composer.idempotency.store` is "kubernetes" (namespace from the setting, else
 * POD_NAMESPACE), else undefined (the storage client keeps keys in memory). Throws naming the setting when the
 * namespace is unknown.
 */
export async function buildIdempotencyStore(config: ServerConfig, logger: Logger, env: NodeJS.ProcessEnv = process.env): Promise<import('#server/composer/storage/kubernetes-idempotency-store.ts').KubernetesIdempotencyStore | undefined> {
  const idem = config.composer.idempotency;
  if (idem.store !== 'kubernetes') return undefined;
  const namespace = idem.namespace ?? env['POD_NAMESPACE'];
  if (!namespace) throw new Error('composer.idempotency.store is "kubernetes" but no namespace is known: set composer.idempotency.namespace (env COMPOSER_MCP_COMPOSER__IDEMPOTENCY__NAMESPACE) or POD_NAMESPACE.');
  const [{ KubeConfig }, { KubernetesIdempotencyStore }, { staleClaimAfterMs }] = await Promise.all([
    import('@kubernetes/client-node'),
    import('#server/composer/storage/kubernetes-idempotency-store.ts'),
    import('#server/composer/storage/claim-decision.ts'),
  ]);
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromDefault();
  return new KubernetesIdempotencyStore({
    kubeConfig,
    namespace,
    // The storage client's defaults: 2 retries, backoff up to 4 s, each upload attempt bounded by uploadTimeoutMs.
    staleAfterMs: staleClaimAfterMs(config.composer.uploadTimeoutMs, 2, 4_000),
    ttlMs: idem.ttlSeconds * 1000,
    sweepIntervalMs: idem.sweepIntervalSeconds * 1000,
    maxRecords: idem.maxRecords,
    logger,
  });
}

/**
 * Builds the tools' services from configuration: the storage client when the Composer credentials are all set
 * (else undefined: storage tools answer NOT_CONFIGURED naming the setting), and the browser pool of the configured
 * source (none: browser tools answer NOT_CONFIGURED), started by `start()` after the transport so the server answers
 * at once. Browser code is loaded only when a source is configured.
 */
export async function buildServices(config: ServerConfig, logger: Logger, env: NodeJS.ProcessEnv = process.env): Promise<BuiltServices> {
  const settings = composerSettingsOf(config);
  const missingCredentials = missingComposerCredentials(config);
  const [{ HttpStorageClient }, { LruIdempotencyStore }, catalogModule] = await Promise.all([import('#server/composer/storage-client.ts'), import('#server/composer/storage/idempotency-store.ts'), import('#server/composer/catalog.ts')]);
  const idempotencyStore = missingCredentials.length === 0 ? await buildIdempotencyStore(config, logger, env) : undefined;
  const storage = missingCredentials.length === 0
    ? new HttpStorageClient(settings, { timeoutMs: config.composer.requestTimeoutMs, uploadTimeoutMs: config.composer.uploadTimeoutMs, logger, idempotencyStore: idempotencyStore ?? new LruIdempotencyStore(config.composer.idempotency.maxRecords) })
    : undefined;
  const browsers = config.browsers.source === 'none' ? undefined : new StartingBrowserPool();
  const limits = config.composer.limits;
  const services: ComposerServices = { version: SERVER_VERSION, settings, storage, browsers, limits };
  let stopping: Promise<void> | undefined;
  return {
    services,
    catalog: { widgetCatalog: () => catalogModule.widgetCatalog(limits), compositionJsonSchema: () => catalogModule.compositionJsonSchema() },
    browsers,
    missingCredentials,
    async start() {
      idempotencyStore?.start();
      if (!browsers) return;
      try {
        const [{ startBrowserPool }, { pagePreparer }, { pageSettingsOf }, { processAssetCache }] = await Promise.all([
          import('#server/browsers/create-router.ts'),
          import('#server/composer/session/page-preparation.ts'),
          import('#server/composer/session/browser-work.ts'),
          import('#server/composer/session/asset-cache.ts'),
        ]);
        // Each page prepared for the Composer ahead of its lease (its CDP session, the readiness probe, the asset
        // cache: ADR 29), in contexts of leaseContextOptions.
        const contextOptions = leaseContextOptions(config.composer.page.viewport);
        const { assetCacheBytes } = pageSettingsOf(settings);
        // Warm pages are also signed in ahead with look-alikes of the configured credentials (ADR 35).
        const signIn = { accessToken: settings.accessToken, projectKey: settings.projectKey, connectorUid: settings.connectorUid };
        const preparePage = pagePreparer({ composerUrl: settings.composerUrl, apiUrl: settings.apiUrl, assetCache: assetCacheBytes > 0 ? processAssetCache(assetCacheBytes) : undefined, signIn });
        const pool = await startBrowserPool(config.browsers, { allowedOrigins: allowedOriginsOf(config), logger, router: { contextOptions, preparePage } });
        if (stopping) await pool?.stop();
        else browsers.settle(pool);
      } catch (error) {
        browsers.settle(undefined, error as Error);
        throw error;
      }
    },
    stop() {
      stopping ??= (async () => {
        await idempotencyStore?.stop();
        const running = browsers?.running;
        browsers?.settle(undefined, new Error('the server is shutting down'));
        await running?.stop();
      })();
      return stopping;
    },
  };
}
