import { randomUUID } from 'node:crypto';
import type { Logger } from '#common/logger.ts';
import { startGateway, type Gateway } from './gateway/gateway.ts';
import { launchChromium, type LaunchedChromium } from './launcher/launch-chromium.ts';

/** How a local browser is started. */
export interface LocalBrowserOptions {
  /** Address the gateway listens on; default 127.0.0.1. */
  listenHost?: string;
  /** File holding the bearer token the gateway requires. */
  tokenFile: string;
  /** Directory under which the browser's HOME and profile are made; default the OS temp dir. */
  rootDir?: string;
  /** Chromium binary; default as in launchChromium. */
  executablePath?: string;
  /** Extra Chromium flags. */
  extraArgs?: string[];
  /** Bound on the gateway's `/healthz` round trip. */
  healthTimeoutMs?: number;
  logger?: Logger;
}

/** One chromium-headless-shell on a loopback port behind its own gateway: the same path as a browser pod. */
export interface LocalBrowser {
  /** Unique id of this browser (stable for its life). */
  id: string;
  /** The gateway's http URL: what clients connect to with the bearer token. */
  endpoint: string;
  /** PID of the Chromium browser process. */
  chromiumPid: number;
  gateway: Gateway;
  chromium: LaunchedChromium;
  /** Closes the gateway, then stops Chromium and removes its directories. */
  stop(): Promise<void>;
}

/**
 * Launches Chromium on a free loopback port and a gateway in front of it on a free port of `listenHost`.
 * On failure nothing is left running. If Chromium dies later the gateway stays up and reports 503 on /healthz;
 * the caller decides whether to replace the browser (watch `chromium.exited`).
 */
export async function startLocalBrowser(options: LocalBrowserOptions): Promise<LocalBrowser> {
  const chromium = await launchChromium({
    rootDir: options.rootDir,
    executablePath: options.executablePath,
    extraArgs: options.extraArgs,
    logger: options.logger,
  });
  let gateway: Gateway;
  try {
    gateway = await startGateway({
      listenHost: options.listenHost ?? '127.0.0.1',
      listenPort: 0,
      upstreamPort: chromium.port,
      tokenFile: options.tokenFile,
      healthTimeoutMs: options.healthTimeoutMs,
      logger: options.logger,
    });
  } catch (error) {
    await chromium.stop();
    throw error;
  }
  let stopping: Promise<void> | undefined;
  return {
    id: `local-${randomUUID().slice(0, 8)}`,
    endpoint: gateway.url,
    chromiumPid: chromium.pid,
    gateway,
    chromium,
    stop: () => {
      stopping ??= (async () => {
        await gateway.close();
        await chromium.stop();
      })();
      return stopping;
    },
  };
}
