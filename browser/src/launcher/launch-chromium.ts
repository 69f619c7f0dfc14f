import { spawn } from 'node:child_process';
import { mkdtemp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '#common/logger.ts';
import type { Readable, Writable } from 'node:stream';
import { PipeTransport } from '../cdp/pipe-transport.ts';
import { DEFAULT_CHROMIUM_PATH } from './chromium-args.ts';

/** How to start one Chromium. */
export interface LaunchChromiumOptions {
  /** The binary; default `CHROMIUM_PATH` env or /usr/lib/chromium/chromium-headless-shell. */
  executablePath?: string;
  /** Command-line flags (see buildChromiumFlags); the launcher adds `--user-data-dir` and `--remote-debugging-pipe`. */
  flags: readonly string[];
  /** Directory under which this browser's own directory (HOME, profile, TMPDIR) is made; default the OS temp dir. */
  rootDir?: string;
  /** How long `stop()` waits after SIGTERM before SIGKILL; default 5 s. */
  stopTimeoutMs?: number;
  /** Where Chromium's own stdout/stderr go: 'ignore' (default) or 'inherit'. */
  stdio?: 'ignore' | 'inherit';
  /** Logger for lifecycle lines. */
  logger?: Logger;
}

/** A running Chromium, driven over its DevTools pipe (it listens on no port). */
export interface LaunchedChromium {
  /** PID of the browser process (also its process group id). */
  pid: number;
  /** The DevTools pipe (fds 3 and 4 of the browser). */
  transport: PipeTransport;
  /** The profile directory (removed by `stop()` or after the process exits). */
  userDataDir: string;
  /** The browser's own directory holding HOME, profile and TMPDIR (removed after exit). */
  baseDir: string;
  /** Resolves with the exit code (null when killed by a signal) once the browser process has exited. */
  exited: Promise<number | null>;
  /** SIGTERM, wait, SIGKILL the process group; resolves when every process of the group is gone and dirs are removed. */
  stop(): Promise<void>;
}

/** File in a browser's own directory holding its PID, so a later start can tell a dead browser's directory. */
const PID_FILE = 'browser.pid';

/**
 * Removes the directories of browsers that are no longer running under `rootDir` (`chromium-*` whose recorded PID is
 * gone or that never recorded one): what a gateway killed with SIGKILL leaves behind, e.g. in a pod's /tmp that
 * outlives a container restart. A live browser's directory is kept. Returns how many were removed.
 */
export async function removeStaleBrowserDirs(rootDir: string): Promise<number> {
  const entries = await readdir(rootDir).catch(() => [] as string[]);
  let removed = 0;
  for (const name of entries) {
    if (!name.startsWith('chromium-')) continue;
    const dir = join(rootDir, name);
    const pid = Number((await readFile(join(dir, PID_FILE), 'utf8').catch(() => '')).trim());
    if (Number.isInteger(pid) && pid > 0 && processGroupAlive(pid)) continue;
    await rm(dir, { recursive: true, force: true, maxRetries: 3 });
    removed++;
  }
  return removed;
}

/** The launch failed: the message says what (binary missing, exited at once). */
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

/**
 * Starts chromium-headless-shell with its own HOME, profile dir and TMPDIR under `rootDir`, in its own process
 * group, with DevTools on a pipe (`--remote-debugging-pipe`: fd 3 in, fd 4 out) and no port. Resolves once the
 * process runs; the caller proves it answers (a CDP round trip on `transport`) and calls `stop()` when it does not.
 * When the browser exits, by itself or by `stop()`, its group is killed and its directories removed.
 */
export async function launchChromium(options: LaunchChromiumOptions): Promise<LaunchedChromium> {
  const executablePath = options.executablePath ?? process.env['CHROMIUM_PATH'] ?? DEFAULT_CHROMIUM_PATH;
  const rootDir = options.rootDir ?? tmpdir();
  const stopTimeoutMs = options.stopTimeoutMs ?? 5000;
  const logger = options.logger;
  await mkdir(rootDir, { recursive: true });
  const baseDir = await mkdtemp(join(rootDir, 'chromium-'));
  const home = join(baseDir, 'home');
  const userDataDir = join(baseDir, 'profile');
  const tmp = join(baseDir, 'tmp');
  await Promise.all([mkdir(home), mkdir(userDataDir), mkdir(tmp)]);
  const args = [...options.flags, `--user-data-dir=${userDataDir}`, '--remote-debugging-pipe'];

  const child = spawn(executablePath, args, {
    detached: true, // own process group: stop() can take renderers and zygotes down with the browser
    stdio: ['ignore', options.stdio ?? 'ignore', options.stdio ?? 'ignore', 'pipe', 'pipe'],
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
  await writeFile(join(baseDir, PID_FILE), String(pid)).catch(() => undefined);
  const transport = new PipeTransport(child.stdio[3] as Writable, child.stdio[4] as Readable);

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
  logger?.info('Started Chromium', { pid, userDataDir });
  return { pid, transport, userDataDir, baseDir, exited, stop };
}
