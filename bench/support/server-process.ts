import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

/** The repository root (the server runs from it). */
const REPO_ROOT = resolve(import.meta.dirname, '../..');

/** A running `node server/src/main.ts` (HTTP transport on a free loopback port). */
export interface ServerProcess {
  pid: number;
  /** `http://127.0.0.1:<port>` (no path). */
  origin: string;
  /** `<origin>/mcp` */
  mcpUrl: string;
  /** The last ~64 KiB the server wrote to stderr (its JSON log lines). */
  stderrTail(): string;
  /** SIGTERM, SIGKILL after `timeoutMs`; resolves when the process has exited. Safe to call twice. */
  stop(timeoutMs?: number): Promise<void>;
}

/**
 * Starts the real server process with `env` over the caller's environment minus every `COMPOSER_MCP_*` variable
 * (so only what the benchmark sets applies), on 127.0.0.1 port 0, and waits for its "Started MCP server" log line.
 * Every line it writes to stderr goes to `onLogLine` when given. `root`: the checkout to run (default: this one; a
 * benchmark comparing with an earlier commit runs that commit's worktree). The process is killed if this process exits first. Throws with the stderr tail if it exits or does not start in time.
 */
export async function startServerProcess(env: Record<string, string>, timeoutMs = 30_000, onLogLine?: (line: string) => void, root = REPO_ROOT): Promise<ServerProcess> {
  const base: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('COMPOSER_MCP_')) base[k] = v;
  const child: ChildProcess = spawn(process.execPath, ['server/src/main.ts', '--http.host=127.0.0.1', '--http.port=0'], {
    cwd: root,
    env: { ...base, LOG_FORMAT: 'json', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let tail = '';
  let partial = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    tail = (tail + chunk).slice(-65_536);
    if (onLogLine === undefined) return;
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) onLogLine(line);
  });
  const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()));
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const stop = async (stopTimeoutMs = 15_000) => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), stopTimeoutMs);
    await exited;
    clearTimeout(timer);
    process.off('exit', killOnExit);
  };
  const port = await new Promise<number>((resolveStart, reject) => {
    const timer = setTimeout(() => reject(new Error(`The server did not start within ${timeoutMs} ms. stderr:\n${tail}`)), timeoutMs);
    const onData = () => {
      for (const line of tail.split('\n')) {
        if (!line.includes('"Started MCP server"')) continue;
        try {
          const parsed = JSON.parse(line) as { port?: number };
          if (typeof parsed.port === 'number') {
            clearTimeout(timer);
            child.stderr!.off('data', onData);
            resolveStart(parsed.port);
            return;
          }
        } catch {
          // a partial line: wait for the rest
        }
      }
    };
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`The server exited (code ${code}) before starting. stderr:\n${tail}`));
    });
  }).catch(async (error: unknown) => {
    await stop(2000);
    throw error;
  });
  const origin = `http://127.0.0.1:${port}`;
  return { pid: child.pid!, origin, mcpUrl: `${origin}/mcp`, stderrTail: () => tail, stop };
}
