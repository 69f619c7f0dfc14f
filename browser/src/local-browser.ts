import { randomUUID } from 'node:crypto';
import { createLogger, type Logger } from '#common/logger.ts';
import { startBrowserHost, type BrowserHost } from './browser-host.ts';
import { startGateway, type Gateway } from './gateway/gateway.ts';
import { GatewayMetrics } from './gateway/gateway-metrics.ts';

/** How a local browser is started. */
export interface LocalBrowserOptions {
  /** Address the gateway listens on; default 127.0.0.1. */
  listenHost?: string;
  /** File holding the bearer token the gateway requires. */
  tokenFile: string;
  /** The only origins the browser may reach (the Composer's and its API's). */
  allowedOrigins: readonly string[];
  /** Most browser contexts at once over all clients (default 4). */
  maxContexts?: number;
  /** V8 old-space limit per renderer in MiB. */
  rendererHeapMb?: number;
  /** Directory under which the browser's HOME and profile are made; default the OS temp dir. */
  rootDir?: string;
  /** Chromium binary; default as in launchChromium. */
  executablePath?: string;
  /** Extra Chromium flags (never the locked ones). */
  extraArgs?: string[];
  /** Bound on the gateway's `/healthz` round trip. */
  healthTimeoutMs?: number;
  logger?: Logger;
}

/** One chromium-headless-shell as the child of its own gateway: the same path as a browser pod. */
export interface LocalBrowser {
  /** Unique id of this browser (stable for its life). */
  id: string;
  /** The gateway's http URL: what clients connect to with the bearer token. */
  endpoint: string;
  /** PID of the Chromium browser process. */
  chromiumPid: number;
  gateway: Gateway;
  host: BrowserHost;
  /** Resolves with why Chromium ended, once it has. */
  ended: Promise<string>;
  /** Closes the gateway, then stops Chromium (no process or directory left) and the egress proxy. */
  stop(): Promise<void>;
}

/**
 * Starts a gateway that runs Chromium on a DevTools pipe (no DevTools port) behind the egress proxy, listening on a
 * free port of `listenHost`. On failure nothing is left running. When Chromium dies the gateway answers 503 on
 * /healthz and refuses new clients; the caller replaces the browser (watch `ended`).
 */
export async function startLocalBrowser(options: LocalBrowserOptions): Promise<LocalBrowser> {
  const logger = options.logger ?? createLogger({ component: 'gateway' });
  const metrics = new GatewayMetrics();
  const host = await startBrowserHost({
    allowedOrigins: options.allowedOrigins,
    maxContexts: options.maxContexts ?? 4,
    rendererHeapMb: options.rendererHeapMb,
    rootDir: options.rootDir,
    executablePath: options.executablePath,
    extraArgs: options.extraArgs,
    metrics,
    logger,
  });
  let gateway: Gateway;
  try {
    gateway = await startGateway({
      listenHost: options.listenHost ?? '127.0.0.1',
      listenPort: 0,
      browser: host,
      tokenFile: options.tokenFile,
      healthTimeoutMs: options.healthTimeoutMs,
      metrics,
      logger,
    });
  } catch (error) {
    await host.stop();
    throw error;
  }
  let stopping: Promise<void> | undefined;
  return {
    id: `local-${randomUUID().slice(0, 8)}`,
    endpoint: gateway.url,
    chromiumPid: host.pid,
    gateway,
    host,
    ended: host.ended,
    stop: () => {
      stopping ??= (async () => {
        await gateway.close();
        await host.stop();
      })();
      return stopping;
    },
  };
}
