import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** A control-plane component running as a child process whose output goes to a log file. */
export interface ComponentProcess {
  /** Component name, e.g. "etcd" or "kube-apiserver". */
  name: string;
  pid: number;
  /** The program that runs (used to make sure a PID still belongs to it before signalling). */
  binary: string;
  logPath: string;
  /** Exit code (or null when killed by a signal) once the process has ended. Resolves only for in-process children. */
  exited: Promise<number | null>;
}

/** How to start a component. */
export interface StartProcessOptions {
  name: string;
  binary: string;
  args: string[];
  logPath: string;
  /** Own session and process group, not tied to this Node process (for `make testenv-up`). */
  detached?: boolean;
  env?: NodeJS.ProcessEnv;
}

/** Starts a component with stdout and stderr appended to its log file. */
export function startProcess(options: StartProcessOptions): ComponentProcess {
  const fd = openSync(options.logPath, 'a');
  try {
    const child = spawn(options.binary, options.args, {
      stdio: ['ignore', fd, fd],
      detached: options.detached ?? false,
      env: options.env ?? process.env,
    });
    if (child.pid === undefined) throw new Error(`Could not start ${options.name} (${options.binary})`);
    const exited = new Promise<number | null>((resolve) => {
      child.once('exit', (code) => resolve(code));
      child.once('error', () => resolve(null));
    });
    if (options.detached) child.unref();
    return { name: options.name, pid: child.pid, binary: options.binary, logPath: options.logPath, exited };
  } finally {
    closeSync(fd);
  }
}

/** The last `lines` lines of a log file ("" when it cannot be read). */
export function tailFile(path: string, lines = 30): string {
  try {
    const text = readFileSync(path, 'utf8').trimEnd();
    return text.split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/**
 * Whether `pid` is a live process (not a zombie) and, when `binary` is given, runs that program — so a recycled
 * PID is never signalled.
 */
export function isRunning(pid: number, binary?: string): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return false;
  }
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  if (state === 'Z' || state === 'X') return false;
  if (binary === undefined) return true;
  try {
    const argv0 = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] ?? '';
    return argv0 === binary;
  } catch {
    return false;
  }
}

/**
 * Stops a process by PID: SIGTERM, wait up to `graceMs`, then SIGKILL and wait until it is gone. Does nothing
 * when the PID is not running `binary` (already exited, or recycled by another program).
 */
export async function stopPid(pid: number, binary?: string, graceMs = 10_000): Promise<void> {
  if (!isRunning(pid, binary)) return;
  const signal = (name: NodeJS.Signals): void => {
    try {
      process.kill(pid, name);
    } catch {
      // Already gone.
    }
  };
  signal('SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isRunning(pid)) return;
    await sleep(50);
  }
  signal('SIGKILL');
  for (let i = 0; i < 100 && isRunning(pid); i++) await sleep(50);
}

/** Sends SIGKILL to every still-running process synchronously (for `process.on('exit')`, where nothing async runs). */
export function killNow(processes: readonly ComponentProcess[]): void {
  for (const proc of processes) {
    if (!isRunning(proc.pid, proc.binary)) continue;
    try {
      process.kill(proc.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}
