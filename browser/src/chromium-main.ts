import { z } from 'zod';
import { loadConfig } from '#common/config.ts';
import { createLogger } from '#common/logger.ts';
import { launchChromium } from './launcher/launch-chromium.ts';

/** The runner's settings, loaded with prefix `CHROMIUM` (`CHROMIUM_PORT`, `CHROMIUM_PATH`, `CHROMIUM_ROOT_DIR`). */
export const chromiumSettingsSchema = z.object({
  port: z.number().int().min(1).max(65535).default(9223).describe('DevTools port on 127.0.0.1'),
  path: z.string().min(1).optional().describe('chromium-headless-shell binary'),
  rootDir: z.string().min(1).optional().describe('Directory for the browser\'s HOME, profile and TMPDIR'),
});

/** The Chromium runner settings. */
export interface ChromiumEnv {
  port: number;
  executablePath?: string;
  rootDir?: string;
}

/**
 * Reads and validates the runner's environment (command-line arguments are Chromium flags, not settings);
 * throws a ConfigError that lists every bad variable.
 */
export function parseChromiumEnv(env: NodeJS.ProcessEnv): ChromiumEnv {
  const s = loadConfig(chromiumSettingsSchema, { envPrefix: 'CHROMIUM', env, argv: [] });
  return { port: s.port, executablePath: s.path, rootDir: s.rootDir };
}

async function main(): Promise<void> {
  const logger = createLogger({ component: 'chromium' });
  let settings: ChromiumEnv;
  try {
    settings = parseChromiumEnv(process.env);
  } catch (error) {
    logger.error('Refused to start Chromium', { error: (error as Error).message });
    process.exitCode = 2;
    return;
  }
  const chromium = await launchChromium({ ...settings, extraArgs: process.argv.slice(2), logger, stdio: 'inherit' });
  let stopRequested = false;
  const forward = (signal: string): void => {
    stopRequested = true;
    logger.info('Stopping Chromium', { signal, pid: chromium.pid });
    void chromium.stop();
  };
  process.once('SIGTERM', () => forward('SIGTERM'));
  process.once('SIGINT', () => forward('SIGINT'));
  const code = await chromium.exited;
  await chromium.stop(); // directories removed, process group gone
  logger.info('Chromium exited', { code });
  process.exit(code ?? (stopRequested ? 0 : 1));
}

if (import.meta.main) {
  main().catch((error: unknown) => {
    createLogger({ component: 'chromium' }).error('Failed to start Chromium', { error: (error as Error).message });
    process.exit(1);
  });
}
