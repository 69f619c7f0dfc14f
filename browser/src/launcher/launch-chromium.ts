import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '#common/logger.ts';
import { buildChromiumArgs, DEFAULT_CHROMIUM_PATH, parseDevToolsActivePort } from './chromium-args.ts';

/** How to start one Chromium. */
export interface LaunchChromiumOptions {
  /** The binary; default `CHROMIUM_PATH` env or /usr/lib/chromium/chromium-headless-shell. */
  executablePath?: string;
  /** DevTools port on 127.0.0.1; 0 (default) lets Chromium pick a free one. */
  port?: number;
  /** Extra command-line flags. */
  extraArgs?: string[];
  /** Directory under which this browser's own directory (HOME, profile, TMPDIR) is made; default the OS temp dir. */
  rootDir?: string;
  /** How long to wait for `/json/version` to answer before giving up; default 15 s. */
  startTimeoutMs?: number;
  /** How long `stop()` waits after SIGTERM before SIGKILL; default 5 s. */
  stopTimeoutMs?: number;
  /** Where Chromium's own stdout/stderr go: 'ignore' (default) or 'inherit'. */
  stdio?: 'ignore' | 'inherit';
  /** Logger for lifecycle lines. */
  logger?: Logger;
}

/** A running Chromium: its DevTools port on 127.0.0.1 answers `/json/version`. */
export interface LaunchedChromium {
  /** PID of the browser process (also its process group id). */
  pid: number;
  /** DevTools port on 127.0.0.1. */
  port: number;
  /** The profile directory (removed by `stop()` or after the process exits). */
  userDataDir: string;
  /** The browser's own directory holding HOME, profile and TMPDIR (removed after exit). */
  baseDir: string;
  /** Resolves with the exit code (null when killed by a signal) once the browser process has exited. */
  exited: Promise<number | null>;
  /** SIGTERM, wait, SIGKILL the process group; resolves when every process of the group is gone and dirs are removed. */
  stop(): Promise<void>;
}

/** The launch failed: the message says what (binary missing, exited early, did not answer in time). */
export class ChromiumLaunchError extends Error {
  override readonly name = 'ChromiumLaunchError';
}

const live = new Set<number>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Last resort: a Node process that dies without stopping its browsers still takes their process groups down.
  process.on('exit', () => {
    for (const pgid of live) killGroup(pgid, 'SIGKILL');
  });
}

function killGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/** True while any process of the process group `pgid` exists (zombies included). */
export function processGroupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** True while a process of group `pgid` is still running; zombies waiting for init to reap them do not count. */
export async function processGroupRunning(pgid: number): Promise<boolean> {
  if (!processGroupAlive(pgid)) return false;
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch {
    return true; // no procfs: trust kill(0)
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] !== undefined && fields[0] !== 'Z' && fields[0] !== 'X' && Number(fields[2]) === pgid) return true;
  }
  return false;
}

async function waitGroupGone(pgid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (await processGroupRunning(pgid)) {
    if (Date.now() > deadline) return false;
    await sleep(20);
  }
  return true;
}

async function devtoolsAnswers(port: number, signal: AbortSignal): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/json/version`, { signal: AbortSignal.any([signal, AbortSignal.timeout(1000)]) });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}

async function waitForDevtools(
  requestedPort: number, userDataDir: string, child: ChildProcess, exitedEarly: () => boolean, timeoutMs: number,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  const signal = AbortSignal.timeout(timeoutMs);
  let port = requestedPort === 0 ? undefined : requestedPort;
  while (Date.now() < deadline) {
    if (exitedEarly()) {
      throw new ChromiumLaunchError(`Chromium (pid ${String(child.pid)}) exited with code ${String(child.exitCode)} signal ${String(child.signalCode)} before DevTools answered; run it by hand with the same flags to see why`);
    }
    if (port === undefined) {
      port = parseDevToolsActivePort(await readFile(join(userDataDir, 'DevToolsActivePort'), 'utf8').catch(() => ''));
    }
    if (port !== undefined && (await devtoolsAnswers(port, signal))) return port;
    await sleep(25);
  }
  throw new ChromiumLaunchError(`Chromium (pid ${String(child.pid)}) did not answer /json/version on 127.0.0.1:${String(port ?? '?')} within ${timeoutMs} ms`);
}

/**
 * Starts chromium-headless-shell with its own HOME, profile dir and TMPDIR under `rootDir`, in its own process
 * group, and resolves once DevTools answers `/json/version` on 127.0.0.1. On any failure nothing is left running
 * and the directories are removed. When the browser exits by itself its group is killed and its dirs removed.
 */
export async function launchChromium(options: LaunchChromiumOptions = {}): Promise<LaunchedChromium> {
  const executablePath = options.executablePath ?? process.env['CHROMIUM_PATH'] ?? DEFAULT_CHROMIUM_PATH;
  const requestedPort = options.port ?? 0;
  const rootDir = options.rootDir ?? tmpdir();
  const stopTimeoutMs = options.stopTimeoutMs ?? 5000;
  const logger = options.logger;
  await mkdir(rootDir, { recursive: true });
  const baseDir = await mkdtemp(join(rootDir, 'chromium-'));
  const home = join(baseDir, 'home');
  const userDataDir = join(baseDir, 'profile');
  const tmp = join(baseDir, 'tmp');
  await Promise.all([mkdir(home), mkdir(userDataDir), mkdir(tmp)]);
  const args = buildChromiumArgs({ port: requestedPort, userDataDir, extraArgs: options.extraArgs });

  const child = spawn(executablePath, args, {
    detached: true, // own process group: stop() can take renderers and zygotes down with the browser
    stdio: ['ignore', options.stdio ?? 'ignore', options.stdio ?? 'ignore'],
    env: { ...process.env, HOME: home, TMPDIR: tmp, XDG_CONFIG_HOME: join(home, '.config'), XDG_CACHE_HOME: join(home, '.cache') },
  });
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  let hasExited = false;
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      hasExited = true;
      resolve(code);
    });
    child.once('error', () => {
      hasExited = true;
      resolve(null);
    });
  });
  const pid = child.pid;
  if (pid === undefined) {
    const error = await spawnError;
    await rm(baseDir, { recursive: true, force: true });
    throw new ChromiumLaunchError(`Could not start Chromium at ${executablePath}: ${error.message}; install chromium-headless-shell or set CHROMIUM_PATH`);
  }
  installExitHook();
  live.add(pid);

  let cleaned: Promise<void> | undefined;
  const cleanup = (): Promise<void> => {
    cleaned ??= (async () => {
      await exited;
      killGroup(pid, 'SIGKILL'); // children the browser left behind
      await waitGroupGone(pid, 5000);
      live.delete(pid);
      await rm(baseDir, { recursive: true, force: true, maxRetries: 3 });
    })();
    return cleaned;
  };
  // A browser that dies on its own is cleaned up too.
  exited.then(() => cleanup()).catch(() => undefined);

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (!hasExited) {
        try {
          process.kill(pid, 'SIGTERM');
        } catch {
          // already gone
        }
        const timer = sleep(stopTimeoutMs).then(() => 'timeout' as const);
        if ((await Promise.race([exited.then(() => 'exited' as const), timer])) === 'timeout') {
          logger?.warn('Killed Chromium after stop timeout', { pid, stopTimeoutMs });
          killGroup(pid, 'SIGKILL');
        }
      }
      await cleanup();
      logger?.info('Stopped Chromium', { pid });
    })();
    return stopping;
  };

  try {
    const port = await waitForDevtools(requestedPort, userDataDir, child, () => hasExited, options.startTimeoutMs ?? 15000);
    logger?.info('Started Chromium', { pid, port, userDataDir });
    return { pid, port, userDataDir, baseDir, exited, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
