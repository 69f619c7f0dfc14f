import { tmpdir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '#common/logger.ts';
import { CdpMultiplexer } from './cdp/cdp-multiplexer.ts';
import { parseAllowedOrigins } from './egress/egress-policy.ts';
import { startEgressProxy, type EgressProxy } from './egress/egress-proxy.ts';
import type { GatewayMetrics } from './gateway/gateway-metrics.ts';
import { buildChromiumFlags, DEFAULT_RENDERER_HEAP_MB } from './launcher/chromium-args.ts';
import { launchChromium, removeStaleBrowserDirs, type LaunchedChromium } from './launcher/launch-chromium.ts';
import { groupMembers, groupRssBytes } from './launcher/process-tree.ts';

/** How the gateway's browser is started. */
export interface BrowserHostOptions {
  /** The only origins the browser may reach (`scheme://host[:port]`, exact). Empty = nothing leaves. */
  allowedOrigins: readonly string[];
  /** Most browser contexts at once over all clients (`maxSessionsPerBrowser`). */
  maxContexts: number;
  /** V8 old-space limit per renderer in MiB (default 512). */
  rendererHeapMb?: number;
  /** A renderer whose resident memory passes this many MiB is killed (default 2 × heap + 512; 0 = off). */
  rendererMemoryLimitMb?: number;
  /** How often renderer memory is checked (default 1000 ms). */
  memoryCheckIntervalMs?: number;
  /** Extra Chromium flags (never the locked ones: see chromium-args.ts). */
  extraArgs?: readonly string[];
  /** Keep Chromium's own sandbox (no --no-sandbox); see ChromiumFlagsInput.sandbox. */
  sandbox?: boolean;
  executablePath?: string;
  /** Directory for the browser's HOME, profile and TMPDIR (default the OS temp dir). */
  rootDir?: string;
  /** Where Chromium's stdout/stderr go (default 'ignore'). */
  stdio?: 'ignore' | 'inherit';
  /** Bound on the first CDP round trip (default 15 s). */
  startTimeoutMs?: number;
  /** A client whose unread answers pass this many bytes is disconnected (default 256 MiB). */
  maxClientBufferBytes?: number;
  metrics: GatewayMetrics;
  logger: Logger;
}

/** What Browser.getVersion said at start. */
export interface BrowserVersion {
  product: string;
  protocolVersion: string;
  userAgent: string;
  jsVersion: string;
  revision: string;
}

/** The outcome of one health check. */
export type HealthResult =
  | { ok: true; product: string; durationMs: number }
  | { ok: false; reason: string; durationMs: number };

/** Chromium as the gateway's child: egress proxy, the browser on a DevTools pipe, the CDP multiplexer. */
export interface BrowserHost {
  /** PID of the browser process (its process group id). */
  pid: number;
  mux: CdpMultiplexer;
  proxy: EgressProxy;
  chromium: LaunchedChromium;
  version: BrowserVersion;
  /** The allowed origins in force, normalised. */
  allowedOrigins: string[];
  /** Resolves with why the browser ended (exit code or signal) once it has; never rejects. */
  ended: Promise<string>;
  /** A real CDP round trip over the pipe (`Browser.getVersion`), bounded by `timeoutMs`. Never throws. */
  health(timeoutMs: number): Promise<HealthResult>;
  /** Resident memory of Chromium's whole process group in bytes. */
  rssBytes(): Promise<number>;
  /** Disconnects every client, stops Chromium (process group gone, directories removed) and the proxy. */
  stop(): Promise<void>;
}

/**
 * Starts the egress proxy, then Chromium on a DevTools pipe with every egress flag pointing at that proxy, then
 * the multiplexer, and proves the browser answers (Browser.getVersion) within `startTimeoutMs`. On any failure
 * nothing is left running. Throws a clear error for bad allowed origins or a locked extra flag.
 */
export async function startBrowserHost(options: BrowserHostOptions): Promise<BrowserHost> {
  const { logger, metrics } = options;
  const allowed = parseAllowedOrigins(options.allowedOrigins);
  const heapMb = options.rendererHeapMb ?? DEFAULT_RENDERER_HEAP_MB;
  const memoryLimitMb = options.rendererMemoryLimitMb ?? heapMb * 2 + 512;
  const proxy = await startEgressProxy({
    allowed,
    logger,
    onRefused: (kind, reason) => metrics.inc('cdp_gateway_egress_refused_total', { kind, reason }),
  });
  let chromium: LaunchedChromium;
  try {
    const stale = await removeStaleBrowserDirs(options.rootDir ?? tmpdir());
    if (stale > 0) logger.info('Removed the directories of browsers that were no longer running', { count: stale });
    const flags = buildChromiumFlags({ proxyPort: proxy.port, rendererHeapMb: heapMb, extraArgs: options.extraArgs, sandbox: options.sandbox });
    chromium = await launchChromium({ flags, executablePath: options.executablePath, rootDir: options.rootDir, stdio: options.stdio, logger });
  } catch (error) {
    await proxy.close();
    throw error;
  }
  const mux = new CdpMultiplexer({
    transport: chromium.transport,
    maxContexts: options.maxContexts,
    ...(options.maxClientBufferBytes !== undefined ? { maxClientBufferBytes: options.maxClientBufferBytes } : {}),
    logger,
    hooks: {
      refused: (kind) => metrics.inc('cdp_gateway_cdp_refused_total', { kind }),
      dropped: (reason) => metrics.inc('cdp_gateway_clients_dropped_total', { reason }),
      oversized: () => metrics.inc('cdp_gateway_oversized_messages_total'),
    },
  });
  const stopAll = async (): Promise<void> => {
    mux.close();
    await chromium.stop();
    await proxy.close();
  };
  let version: BrowserVersion;
  try {
    const startTimeoutMs = options.startTimeoutMs ?? 15_000;
    const exitedEarly = chromium.exited.then(() => {
      throw new Error('Chromium exited');
    });
    const answered = (async () => {
      await mux.start();
      return mux.call('Browser.getVersion', {}, undefined, startTimeoutMs);
    })();
    const v = await Promise.race([answered, exitedEarly]);
    version = {
      product: String(v['product'] ?? 'unknown'),
      protocolVersion: String(v['protocolVersion'] ?? '1.3'),
      userAgent: String(v['userAgent'] ?? ''),
      jsVersion: String(v['jsVersion'] ?? ''),
      revision: String(v['revision'] ?? ''),
    };
  } catch (error) {
    // A browser that exits at once first shows as a broken pipe: give its exit code a moment to arrive.
    const exit = await Promise.race([chromium.exited.then((code) => ({ code })), sleep(1000).then(() => undefined)]);
    await stopAll();
    const why = exit !== undefined
      ? `Chromium (pid ${chromium.pid}) exited with code ${String(exit.code)} before it answered; run it by hand with the same flags to see why`
      : (error as Error).message;
    throw new Error(`Chromium did not answer on its DevTools pipe: ${why}`, { cause: error });
  }

  const ended = chromium.exited.then((code) => `Chromium exited with code ${String(code)}`);
  ended.then((reason) => mux.close(reason)).catch(() => undefined);

  const watchdog = memoryLimitMb > 0 ? setInterval(() => void killOversizedRenderers(chromium.pid, memoryLimitMb, metrics, logger), options.memoryCheckIntervalMs ?? 1000) : undefined;
  watchdog?.unref();

  let stopping: Promise<void> | undefined;
  return {
    pid: chromium.pid,
    mux,
    proxy,
    chromium,
    version,
    allowedOrigins: allowed.map((o) => o.origin),
    ended,
    health: async (timeoutMs) => {
      const started = performance.now();
      const elapsed = (): number => Math.round(performance.now() - started);
      try {
        const result = await mux.call('Browser.getVersion', {}, undefined, timeoutMs);
        return { ok: true, product: String(result['product'] ?? 'unknown'), durationMs: elapsed() };
      } catch (error) {
        const message = (error as Error).message.replace(/^Browser\.getVersion got no answer within (\d+) ms$/, 'timed out after $1 ms');
        return { ok: false, reason: `Browser.getVersion over the DevTools pipe: ${message}`, durationMs: elapsed() };
      }
    },
    rssBytes: () => groupRssBytes(chromium.pid),
    stop: () => {
      stopping ??= (async () => {
        clearInterval(watchdog);
        await stopAll();
      })();
      return stopping;
    },
  };
}

/** Kills every renderer of the browser whose resident memory passed the limit (Chromium reports it as crashed). */
async function killOversizedRenderers(pgid: number, limitMb: number, metrics: GatewayMetrics, logger: Logger): Promise<void> {
  const members = await groupMembers(pgid);
  for (const m of members) {
    if (m.type !== 'renderer' || m.rssBytes <= limitMb * 1024 * 1024) continue;
    try {
      process.kill(m.pid, 'SIGKILL');
    } catch {
      continue;
    }
    metrics.inc('cdp_gateway_renderers_killed_total', { reason: 'memory' });
    logger.warn('Killed a renderer above the memory limit', { pid: m.pid, rssMb: Math.round(m.rssBytes / 1024 / 1024), limitMb });
  }
}
