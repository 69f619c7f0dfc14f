import { z } from 'zod';
import { createLogger } from '#common/logger.ts';
import { launchChromium } from './launcher/launch-chromium.ts';

/** The environment of the Chromium runner process. */
export const chromiumEnvSchema = z.object({
  CHROMIUM_PORT: z.coerce.number().int().min(1).max(65535).default(9223),
  CHROMIUM_PATH: z.string().min(1).optional(),
  CHROMIUM_ROOT_DIR: z.string().min(1).optional(),
});

/** The Chromium runner settings. */
export interface ChromiumEnv {
  port: number;
  executablePath?: string;
  rootDir?: string;
}

/** Reads and validates the runner's environment; throws one error that lists every bad variable. */
export function parseChromiumEnv(env: NodeJS.ProcessEnv): ChromiumEnv {
  const parsed = chromiumEnvSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message} (got ${JSON.stringify(env[String(i.path[0])])})`);
    throw new Error(`Invalid chromium environment:\n  ${problems.join('\n  ')}`);
  }
  return { port: parsed.data.CHROMIUM_PORT, executablePath: parsed.data.CHROMIUM_PATH, rootDir: parsed.data.CHROMIUM_ROOT_DIR };
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
