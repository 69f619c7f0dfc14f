import { z } from 'zod';
import { createLogger } from '#common/logger.ts';
import { startGateway } from './gateway/gateway.ts';

const port = z.coerce.number().int().min(1).max(65535);

/** The environment of the gateway process (see the browser pod contract). */
export const gatewayEnvSchema = z.object({
  GATEWAY_LISTEN_HOST: z.string().min(1).optional(),
  POD_IP: z.string().min(1).optional(),
  GATEWAY_PORT: port.default(9222),
  GATEWAY_UPSTREAM_PORT: port.default(9223),
  GATEWAY_TOKEN_FILE: z.string().min(1).default('/var/run/composer-mcp/cdp-token/token'),
  GATEWAY_HEALTH_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(2000),
});

/** The gateway settings derived from the environment. */
export interface GatewayEnv {
  listenHost: string;
  listenPort: number;
  upstreamPort: number;
  tokenFile: string;
  healthTimeoutMs: number;
}

/** Reads and validates the gateway's environment; throws one error that lists every bad variable and what it must be. */
export function parseGatewayEnv(env: NodeJS.ProcessEnv): GatewayEnv {
  const parsed = gatewayEnvSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message} (got ${JSON.stringify(env[String(i.path[0])])})`);
    throw new Error(`Invalid gateway environment:\n  ${problems.join('\n  ')}`);
  }
  const e = parsed.data;
  return {
    listenHost: e.GATEWAY_LISTEN_HOST ?? e.POD_IP ?? '0.0.0.0',
    listenPort: e.GATEWAY_PORT,
    upstreamPort: e.GATEWAY_UPSTREAM_PORT,
    tokenFile: e.GATEWAY_TOKEN_FILE,
    healthTimeoutMs: e.GATEWAY_HEALTH_TIMEOUT_MS,
  };
}

async function main(): Promise<void> {
  const logger = createLogger({ component: 'gateway' });
  let settings: GatewayEnv;
  try {
    settings = parseGatewayEnv(process.env);
  } catch (error) {
    logger.error('Refused to start gateway', { error: (error as Error).message });
    process.exitCode = 2;
    return;
  }
  const gateway = await startGateway({ ...settings, logger });
  const shutdown = (signal: string): void => {
    logger.info('Stopping CDP gateway', { signal });
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    gateway.close().then(() => process.exit(0), () => process.exit(1));
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

if (import.meta.main) {
  main().catch((error: unknown) => {
    createLogger({ component: 'gateway' }).error('Failed to start gateway', { error: (error as Error).message });
    process.exit(1);
  });
}
