import { createLogger, type Logger } from '#common/logger.ts';
import type { EndpointSource } from './endpoint-source.ts';
import { LocalEndpointSource } from './local-source.ts';
import { BrowserRouter, type RouterOptions } from './router.ts';
import { StaticEndpointSource } from './static-source.ts';

/** The `browsers` section of the server configuration (field names as in `server/src/config.ts`). */
export interface BrowserPoolSettings {
  source: 'local' | 'static' | 'kubernetes' | 'none';
  local: { count: number };
  static: { endpoints: string[]; tokenFile?: string | undefined };
  kubernetes: { namespace: string; pool: string };
  maxSessionsPerBrowser: number;
  queueLimit: number;
  queueTimeoutMs: number;
  prewarmPerBrowser: number;
  /** Hard deadline of a lease's work (default 60 s when absent). */
  leaseDeadlineMs?: number;
}

/** A started router with the source it owns. */
export interface RunningBrowserPool {
  router: BrowserRouter;
  source: EndpointSource;
  /** Stops the router, then the source (local browsers exit, token files are removed). Idempotent. */
  stop(): Promise<void>;
}

/** Extra router options the server passes besides the settings. */
export interface StartBrowserPoolOptions {
  /** Origins the browsers may reach (the Composer and API origins): local gateways enforce them; see RouterOptions. */
  allowedOrigins?: string[];
  logger?: Logger;
  /** Anything else of {@link RouterOptions} (tests, tuning). */
  router?: Partial<Omit<RouterOptions, 'source'>>;
}

/**
 * Builds the endpoint source the settings name, starts it and a router over it. Returns undefined for source
 * `none` (browser tools then answer NOT_CONFIGURED). On a start failure everything started is stopped again.
 */
export async function startBrowserPool(settings: BrowserPoolSettings, options: StartBrowserPoolOptions = {}): Promise<RunningBrowserPool | undefined> {
  const logger = options.logger ?? createLogger({ component: 'router' });
  const source = await createSource(settings, logger, options.allowedOrigins ?? []);
  if (source === undefined) return undefined;
  const router = new BrowserRouter({
    source,
    logger,
    maxSessionsPerBrowser: settings.maxSessionsPerBrowser,
    prewarmPerBrowser: settings.prewarmPerBrowser,
    queueMaxDepth: settings.queueLimit,
    queueTimeoutMs: settings.queueTimeoutMs,
    ...(settings.leaseDeadlineMs !== undefined ? { leaseDeadlineMs: settings.leaseDeadlineMs } : {}),
    ...(options.allowedOrigins !== undefined ? { allowedOrigins: options.allowedOrigins } : {}),
    ...options.router,
  });
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      await router.stop();
      await source.stop();
    })();
    return stopping;
  };
  try {
    await router.start();
  } catch (error) {
    await stop();
    throw error;
  }
  return { router, source, stop };
}

async function createSource(settings: BrowserPoolSettings, logger: Logger, allowedOrigins: readonly string[]): Promise<EndpointSource | undefined> {
  switch (settings.source) {
    case 'none':
      return undefined;
    case 'local':
      return new LocalEndpointSource({ browsers: settings.local.count, allowedOrigins, maxSessions: settings.maxSessionsPerBrowser, logger });
    case 'static':
      return new StaticEndpointSource({ endpoints: settings.static.endpoints, tokenFile: settings.static.tokenFile, logger });
    case 'kubernetes': {
      const [{ KubeConfig }, { KubernetesEndpointSource }] = await Promise.all([import('@kubernetes/client-node'), import('./kubernetes-source.ts')]);
      const kubeConfig = new KubeConfig();
      kubeConfig.loadFromDefault();
      return new KubernetesEndpointSource({ kubeConfig, namespace: settings.kubernetes.namespace, pool: settings.kubernetes.pool, logger });
    }
  }
}
