import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';

/** The repository root (server processes run from it). */
export const REPO_ROOT = resolve(import.meta.dirname, '../../..');
/** The server entry point. */
export const MAIN = join(REPO_ROOT, 'server/src/main.ts');

/** Environment for a server process: the test's env without any COMPOSER_MCP_* of the caller, JSON logs, plus `env`. */
export function serverEnv(env: Record<string, string> = {}): Record<string, string> {
  const base: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('COMPOSER_MCP_')) base[k] = v;
  return { ...base, LOG_FORMAT: 'json', ...env };
}

/** A server process under test. */
export interface ServerProcess {
  proc: ChildProcess;
  /** `http://127.0.0.1:<port>/mcp` */
  url: string;
  port: number;
  /** Everything written to stderr so far. */
  stderr(): string;
  /** Stdout so far (must stay empty in HTTP mode too: logs go to stderr). */
  stdout(): string;
  /** Parsed JSON log lines so far. */
  logs(): Array<Record<string, unknown>>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends SIGTERM (SIGKILL after `timeoutMs`) and waits for the exit. */
  stop(timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Parses JSON lines, skipping anything else. */
export function parseLogLines(text: string): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      out.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // not a log line
    }
  }
  return out;
}

/**
 * Starts `node <entry> --http.port=0 ...args` (entry: server/src/main.ts, or another entry point that runs the server's
 * main, like the conformance server) and waits for "Started MCP server".
 */
export async function startServerProcess(options: { env?: Record<string, string>; args?: string[]; timeoutMs?: number; entry?: string } = {}): Promise<ServerProcess> {
  const proc = spawn(process.execPath, [options.entry ?? MAIN, '--http.port=0', ...(options.args ?? [])], { cwd: REPO_ROOT, env: serverEnv(options.env), stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let stdout = '';
  proc.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  proc.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolveExit) => proc.once('exit', (code, signal) => resolveExit({ code, signal })));
  const started = await new Promise<Record<string, unknown>>((resolveStart, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`Server did not start within ${options.timeoutMs ?? 20000} ms. stderr:\n${stderr}`));
    }, options.timeoutMs ?? 20000);
    const check = (): void => {
      const line = parseLogLines(stderr).find((l) => l['message'] === 'Started MCP server');
      if (line) {
        clearTimeout(timer);
        proc.stderr!.off('data', check);
        resolveStart(line);
      }
    };
    proc.stderr!.on('data', check);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Server exited with ${code} before starting. stderr:\n${stderr}`));
    });
  });
  const url = String(started['url']);
  return {
    proc,
    url,
    port: Number(started['port']),
    stderr: () => stderr,
    stdout: () => stdout,
    logs: () => parseLogLines(stderr),
    exited,
    async stop(timeoutMs = 15000) {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
  };
}

/** An MCP client connected over Streamable HTTP. */
export async function connectHttp(url: string, options: { headers?: Record<string, string>; fetch?: FetchLike } = {}): Promise<Client> {
  const client = new Client({ name: 'composer-mcp-test', version: '0.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    ...(options.headers ? { requestInit: { headers: options.headers } } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  await client.connect(transport);
  return client;
}

/** An MCP client that spawned `node server/src/main.ts --transport=stdio`; `stderr()` is the server's stderr. */
export async function connectStdio(env: Record<string, string> = {}): Promise<{ client: Client; stderr: () => string; pid: number | null }> {
  const transport = new StdioClientTransport({ command: process.execPath, args: [MAIN, '--transport=stdio'], env: serverEnv(env), cwd: REPO_ROOT, stderr: 'pipe' });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer | string) => (stderr += chunk.toString()));
  const client = new Client({ name: 'composer-mcp-test', version: '0.0.0' });
  await client.connect(transport);
  return { client, stderr: () => stderr, pid: transport.pid };
}

/** A temporary directory with files; `cleanup()` removes it. */
export function tempFiles(files: Record<string, string>): { dir: string; path: (name: string) => string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'composer-mcp-test-'));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content, { mode: 0o600 });
  return { dir, path: (name) => join(dir, name), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A small valid lesson outline for composer_build_composition. */
export const SAMPLE_OUTLINE = {
  title: 'Fotossíntese',
  subject: 'Ciências',
  grade: '7º ano',
  author: { name: 'Professora Ana' },
  sections: [{ type: 'text', title: 'Introdução', body: 'As plantas produzem o próprio alimento usando a luz do sol.' }],
};
