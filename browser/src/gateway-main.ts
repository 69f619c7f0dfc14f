import { z } from 'zod';
import { loadConfig } from '#common/config.ts';
import { createLogger } from '#common/logger.ts';
import { ProcessFailurePolicy } from '#common/process-failure.ts';
import { GracefulShutdown } from '#common/shutdown.ts';
import { startGateway } from './gateway/gateway.ts';

const port = z.number().int().min(1).max(65535);

/**
 * The gateway's settings, loaded with prefix `GATEWAY` (`GATEWAY_LISTEN_HOST`, `GATEWAY_PORT`,
 * `GATEWAY_UPSTREAM_PORT`, `GATEWAY_TOKEN_FILE`, `GATEWAY_HEALTH_TIMEOUT_MS`) or flags (`--port=9222`).
 */
export const gatewaySettingsSchema = z.object({
  listenHost: z.string().min(1).optional().describe('Address to listen on; default the POD_IP env, else 0.0.0.0'),
  port: port.default(9222).describe('Port to listen on'),
  upstreamPort: port.default(9223).describe('Chromium DevTools port on 127.0.0.1'),
  tokenFile: z.string().min(1).default('/var/run/composer-mcp/cdp-token/token').describe('File holding the bearer token'),
  healthTimeoutMs: z.number().int().min(100).max(60_000).default(2000).describe('Bound on the /healthz CDP round trip'),
});

/** The gateway settings derived from the environment and flags. */
export interface GatewayEnv {
  listenHost: string;
  listenPort: number;
  upstreamPort: number;
  tokenFile: string;
  healthTimeoutMs: number;
}

/** Reads and validates the gateway's settings; throws a ConfigError that lists every bad variable and what it must be. */
export function parseGatewayEnv(env: NodeJS.ProcessEnv, argv: string[] = []): GatewayEnv {
  const s = loadConfig(gatewaySettingsSchema, { envPrefix: 'GATEWAY', env, argv });
  const podIp = env['POD_IP']?.trim();
  return {
    listenHost: s.listenHost ?? (podIp ? podIp : '0.0.0.0'),
    listenPort: s.port,
    upstreamPort: s.upstreamPort,
    tokenFile: s.tokenFile,
    healthTimeoutMs: s.healthTimeoutMs,
  };
}

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
  const gateway = await startGateway({ ...settings, logger });
  const shutdown = new GracefulShutdown({ graceMs: 10_000, logger });
  shutdown.onShutdown('gateway', () => gateway.close());
  shutdown.install();
  failures.drainWith(shutdown);
}

if (import.meta.main) {
  main().catch((error: unknown) => {
    createLogger({ component: 'gateway' }).error('Failed to start gateway', { error: (error as Error).message });
    process.exit(1);
  });
}
