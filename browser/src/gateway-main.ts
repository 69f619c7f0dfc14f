import { z } from 'zod';
import { loadConfig } from '#common/config.ts';
import { createLogger } from '#common/logger.ts';
import { ProcessFailurePolicy } from '#common/process-failure.ts';
import { GracefulShutdown } from '#common/shutdown.ts';
import { startBrowserHost } from './browser-host.ts';
import { startGateway } from './gateway/gateway.ts';
import { GatewayMetrics } from './gateway/gateway-metrics.ts';
import { DEFAULT_LIVENESS, livenessSettingsProblem } from './gateway/client-liveness.ts';
import { DEFAULT_RENDERER_HEAP_MB } from './launcher/chromium-args.ts';

const port = z.number().int().min(1).max(65535);

/**
 * The gateway's settings, loaded with prefix `GATEWAY` (`GATEWAY_PORT`, `GATEWAY_ALLOWED_ORIGINS`, ...) or flags
 * (`--port=9222`). Chromium's extra flags come from `GATEWAY_CHROMIUM_ARGS` (a JSON array) or after `--` on the
 * command line.
 */
export const gatewaySettingsSchema = z.object({
  listenHost: z.string().min(1).optional().describe('Address to listen on; default the POD_IP env, else 0.0.0.0'),
  port: port.default(9222).describe('Port to listen on'),
  tokenFile: z.string().min(1).default('/var/run/composer-mcp/cdp-token/token').describe('File holding the bearer token'),
  healthTimeoutMs: z.number().int().min(100).max(60_000).default(2000).describe('Bound on the /healthz CDP round trip'),
  allowedOrigins: z.array(z.string().min(1)).default([]).describe('The only origins the browser may reach, comma-separated (https://host[:port], exact; empty = none)'),
  maxSessionsPerBrowser: z.number().int().min(1).max(64).default(4).describe('Most browser contexts at once over all clients; a Target.createBrowserContext beyond it is refused'),
  rendererHeapMb: z.number().int().min(64).max(16_384).default(DEFAULT_RENDERER_HEAP_MB).describe('V8 old-space limit of each renderer in MiB (--js-flags=--max-old-space-size)'),
  rendererMemoryLimitMb: z.number().int().min(0).max(65_536).optional().describe('A renderer whose resident memory passes this many MiB is killed; default 2 × rendererHeapMb + 512, 0 = off'),
  chromiumPath: z.string().min(1).optional().describe('chromium-headless-shell binary; default CHROMIUM_PATH or /usr/lib/chromium/chromium-headless-shell'),
  chromiumArgs: z.array(z.string()).default([]).describe('Extra Chromium flags as a JSON array (never the DevTools, proxy, DNS, WebRTC, QUIC or heap flags)'),
  chromiumSandbox: z.boolean().default(false).describe('Run Chromium with its own sandbox (no --no-sandbox); needs a seccomp profile that admits its namespace sandbox (a BrowserPool with spec.browser.sandbox)'),
  rootDir: z.string().min(1).optional().describe('Directory for the browser\'s HOME, profile and TMPDIR; default TMPDIR'),
  pingIntervalMs: z.number().int().min(0).max(600_000).default(DEFAULT_LIVENESS.pingIntervalMs)
    .describe('Period of the WebSocket pings to every CDP client, in ms (0 = off). A hung client would hold every request paused at its Fetch interception, of every client\'s pages'),
  pingTimeoutMs: z.number().int().min(1000).max(3_600_000).default(DEFAULT_LIVENESS.pingTimeoutMs)
    .describe('A CDP client that answers no ping and sends nothing for this many ms is disconnected as hung (its sessions detached, the requests it held go on); at least twice pingIntervalMs'),
}).superRefine((s, ctx) => {
  const problem = livenessSettingsProblem({ pingIntervalMs: s.pingIntervalMs, pingTimeoutMs: s.pingTimeoutMs });
  if (problem !== undefined) ctx.addIssue({ code: 'custom', path: ['pingTimeoutMs'], message: problem });
});

/** The gateway settings derived from the environment and flags. */
export interface GatewayEnv {
  listenHost: string;
  listenPort: number;
  tokenFile: string;
  healthTimeoutMs: number;
  allowedOrigins: string[];
  maxSessionsPerBrowser: number;
  rendererHeapMb: number;
  rendererMemoryLimitMb: number | undefined;
  chromiumPath: string | undefined;
  chromiumArgs: string[];
  chromiumSandbox: boolean;
  rootDir: string | undefined;
  pingIntervalMs: number;
  pingTimeoutMs: number;
}

/** Reads and validates the gateway's settings; throws a ConfigError that lists every bad variable and what it must be. */
export function parseGatewayEnv(env: NodeJS.ProcessEnv, argv: string[] = []): GatewayEnv {
  const dashes = argv.indexOf('--');
  const settingsArgv = dashes === -1 ? argv : argv.slice(0, dashes);
  const chromiumArgv = dashes === -1 ? [] : argv.slice(dashes + 1);
  const s = loadConfig(gatewaySettingsSchema, { envPrefix: 'GATEWAY', env, argv: settingsArgv });
  const podIp = env['POD_IP']?.trim();
  return {
    listenHost: s.listenHost ?? (podIp ? podIp : '0.0.0.0'),
    listenPort: s.port,
    tokenFile: s.tokenFile,
    healthTimeoutMs: s.healthTimeoutMs,
    allowedOrigins: s.allowedOrigins,
    maxSessionsPerBrowser: s.maxSessionsPerBrowser,
    rendererHeapMb: s.rendererHeapMb,
    rendererMemoryLimitMb: s.rendererMemoryLimitMb,
    chromiumPath: s.chromiumPath,
    chromiumArgs: [...s.chromiumArgs, ...chromiumArgv],
    chromiumSandbox: s.chromiumSandbox,
    rootDir: s.rootDir,
    pingIntervalMs: s.pingIntervalMs,
    pingTimeoutMs: s.pingTimeoutMs,
  };
}

/**
 * Runs one browser pod's only process: the egress proxy, Chromium on a DevTools pipe and the authenticated CDP
 * gateway. Exits 0 after SIGTERM/SIGINT, 1 when Chromium dies (so the container restarts), 2 on bad settings.
 */
async function main(): Promise<void> {
  const logger = createLogger({ component: 'gateway' });
  // An unhandled rejection is logged and survived; an uncaught exception closes the gateway and exits 70.
  const failures = new ProcessFailurePolicy({ logger }).install();
  let settings: GatewayEnv;
  try {
    settings = parseGatewayEnv(process.env, process.argv.slice(2));
  } catch (error) {
    logger.error('Refused to start gateway', { error: (error as Error).message });
    process.exitCode = 2;
    return;
  }
  if (settings.allowedOrigins.length === 0) logger.warn('Started with no allowed origins: the browser can reach nothing (set GATEWAY_ALLOWED_ORIGINS)');
  const metrics = new GatewayMetrics();
  const host = await startBrowserHost({
    allowedOrigins: settings.allowedOrigins,
    maxContexts: settings.maxSessionsPerBrowser,
    rendererHeapMb: settings.rendererHeapMb,
    rendererMemoryLimitMb: settings.rendererMemoryLimitMb,
    executablePath: settings.chromiumPath,
    extraArgs: settings.chromiumArgs,
    sandbox: settings.chromiumSandbox,
    rootDir: settings.rootDir,
    stdio: 'inherit',
    metrics,
    logger,
  });
  const gateway = await startGateway({ ...settings, browser: host, metrics, logger }).catch(async (error: unknown) => {
    await host.stop();
    throw error;
  });
  const shutdown = new GracefulShutdown({ graceMs: 10_000, logger });
  shutdown.onShutdown('gateway', () => gateway.close());
  shutdown.onShutdown('browser', () => host.stop());
  shutdown.install();
  void host.ended.then(async (reason) => {
    if (shutdown.isShuttingDown()) return;
    metrics.set('cdp_gateway_browser_exited', {}, 1);
    metrics.set('cdp_gateway_health_up', {}, 0);
    logger.error('Chromium ended; stopping the gateway so the container restarts', { reason });
    await gateway.close();
    await host.stop();
    process.exit(1);
  });
  failures.drainWith(shutdown);
}

if (import.meta.main) {
  main().catch((error: unknown) => {
    createLogger({ component: 'gateway' }).error('Failed to start gateway', { error: (error as Error).message });
    process.exit(1);
  });
}
