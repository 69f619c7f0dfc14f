import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

const REPO = path.resolve(import.meta.dirname, '..', '..', '..');

/** A component started as a local process (`node <entry>`), with its stderr log lines kept for assertions. */
export interface LocalProcess {
  proc: ChildProcess;
  /** Every JSON log line parsed so far (non-JSON lines as `{ raw }`). */
  logs: Array<Record<string, unknown>>;
  /** Resolves with the first log line whose message is `message` (rejects if the process exits first or on timeout). */
  waitForLog(message: string, timeoutMs: number): Promise<Record<string, unknown>>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when it exited. */
  stop(graceMs?: number): Promise<void>;
}

/** Starts `node <entry>` from the repository root with `env` added to this process's environment. */
export function startLocalProcess(entry: string, env: Record<string, string>): LocalProcess {
  const proc = spawn(process.execPath, [entry], { cwd: REPO, env: { ...process.env, LOG_FORMAT: 'json', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: Array<Record<string, unknown>> = [];
  const waiters: Array<() => void> = [];
  let buffered = '';
  const onData = (chunk: Buffer): void => {
    buffered += chunk.toString('utf8');
    let nl;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      try { logs.push(JSON.parse(line) as Record<string, unknown>); } catch { logs.push({ raw: line }); }
    }
    for (const w of waiters.splice(0)) w();
  };
  proc.stderr?.on('data', onData);
  proc.stdout?.on('data', onData);
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  return {
    proc,
    logs,
    async waitForLog(message, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = logs.find((l) => l['message'] === message);
        if (found) return found;
        if (proc.exitCode !== null) throw new Error(`${entry} exited (${proc.exitCode}) before logging "${message}":\n${logs.slice(-15).map((l) => JSON.stringify(l)).join('\n')}`);
        if (Date.now() > deadline) throw new Error(`${entry} did not log "${message}" within ${timeoutMs} ms:\n${logs.slice(-15).map((l) => JSON.stringify(l)).join('\n')}`);
        await Promise.race([new Promise<void>((r) => waiters.push(r)), exited, new Promise((r) => setTimeout(r, 200))]);
      }
    },
    async stop(graceMs = 10_000) {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}
