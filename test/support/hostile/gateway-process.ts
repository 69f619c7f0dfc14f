import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../../../', import.meta.url));

/** `browser/src/gateway-main.ts` running as its own process (in a network namespace when `netns` is given). */
export interface GatewayProcess {
  child: ChildProcess;
  /** Everything it wrote (JSON log lines). */
  log: string[];
  /** Resolves with the exit code (or 'timeout'). */
  exit(timeoutMs: number): Promise<number | null | 'timeout'>;
}

/** Starts the gateway's entry point the way the container does, with `env` on top of this process's. */
export function startGatewayProcess(env: Record<string, string>, options: { netns?: string } = {}): GatewayProcess {
  const script = join(repo, 'browser/src/gateway-main.ts');
  const [command, args] = options.netns === undefined
    ? [process.execPath, [script]]
    : ['ip', ['netns', 'exec', options.netns, process.execPath, script]];
  const child = spawn(command, args, { cwd: repo, env: { ...process.env, LOG_FORMAT: 'json', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const log: string[] = [];
  child.stdout?.on('data', (d: Buffer) => log.push(String(d)));
  child.stderr?.on('data', (d: Buffer) => log.push(String(d)));
  return {
    child,
    log,
    exit: (timeoutMs) => {
      if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
      return new Promise((resolve) => {
        const timer = setTimeout(() => resolve('timeout'), timeoutMs);
        child.once('exit', (code) => {
          clearTimeout(timer);
          resolve(code);
        });
      });
    },
  };
}

/** Polls `url` until it answers 200 or `timeoutMs` passes. */
export async function waitHealthy(url: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(url, { signal: AbortSignal.timeout(2000) })).status === 200) return true;
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}
