/**
 * MCP protocol latency on SDK v2 against the server as it was on SDK v1, in one run: `tools/list` and
 * `composer_open_composition` as a client sees them.
 *
 * Before: the server at BENCH_MCP_BEFORE_REF (default: the commit before "Server on MCP SDK v2"), checked out into a
 * temporary git worktree that uses this repository's node_modules (v1 `@modelcontextprotocol/sdk` is kept as a
 * devDependency), driven by the v1 SDK client. After: this tree's server, driven by the same v1 client (the 2025
 * handshake, served by v2's stateless legacy path) and by the v2 client pinned to 2026-07-28. Both servers run at once
 * on 127.0.0.1 with a local pool of one browser each, against one Composer stand-in; calls alternate before, after
 * (2025), after (2026), so load and warm-up weigh on all alike. BENCH_LIST_ITERATIONS (200), BENCH_OPEN_ITERATIONS
 * (20), BENCH_WARMUP (3; tools/list warms 20 times that). Everything started here is stopped at the end.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client as ClientV2, StreamableHTTPClientTransport as TransportV2 } from '@modelcontextprotocol/client';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as TransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { SignJWT } from 'jose';
import { createLogger } from '#common/logger.ts';
import { HttpStorageClient } from '#server/composer/storage-client.ts';
import { startComposerStandin } from '#support/composer-standin/standin.ts';
import { everyWidgetComposition } from '#support/fixtures/every-widget-composition.ts';
import { ratio, summarize, type BenchReport, type Summary } from './support/stats.ts';

const REPO_ROOT = resolve(import.meta.dirname, '..');
const PROJECT_KEY = 'bench-project-key';
const CONNECTOR_UID = 'bench-connector';

const num = (name: string, fallback: number): number => {
  const raw = process.env[name];
  const n = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got ${JSON.stringify(raw)}`);
  return n;
};

/** The last commit on SDK v1: the parent of the commit that moved the server to SDK v2. */
function beforeRef(): string {
  const given = process.env['BENCH_MCP_BEFORE_REF'];
  if (given) return given;
  const moved = execFileSync('git', ['log', '--format=%H', '-1', '--grep=^Server on MCP SDK v2'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
  if (!moved) throw new Error('No commit "Server on MCP SDK v2" in this history: set BENCH_MCP_BEFORE_REF to a commit of the v1 server.');
  return `${moved}^`;
}

interface Started {
  mcpUrl: string;
  stop(): Promise<void>;
}

/** `node <root>/server/src/main.ts` on 127.0.0.1:0 with `env` (the caller's COMPOSER_MCP_* left out). */
async function startServer(root: string, env: Record<string, string>): Promise<Started> {
  const base: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('COMPOSER_MCP_')) base[k] = v;
  const child: ChildProcess = spawn(process.execPath, ['server/src/main.ts', '--http.host=127.0.0.1', '--http.port=0'], { cwd: root, env: { ...base, LOG_FORMAT: 'json', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let tail = '';
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const port = await new Promise<number>((resolvePort, reject) => {
    const timer = setTimeout(() => reject(new Error(`server in ${root} did not start:\n${tail}`)), 60_000);
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      tail = (tail + chunk).slice(-65_536);
      const match = /"message":"Started MCP server"[^\n]*"port":(\d+)/.exec(tail) ?? /"port":(\d+)[^\n]*"message":"Started MCP server"/.exec(tail);
      if (match) {
        clearTimeout(timer);
        resolvePort(Number(match[1]));
      }
    });
    child.once('exit', (code) => reject(new Error(`server in ${root} exited (${code}):\n${tail}`)));
  });
  return {
    mcpUrl: `http://127.0.0.1:${port}/mcp`,
    async stop() {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** One client behind one shape: list the tools, call one. */
interface Caller {
  listTools(): Promise<unknown>;
  call(name: string, args: Record<string, unknown>): Promise<{ isError?: boolean; structuredContent?: unknown }>;
  close(): Promise<void>;
}

async function v1Caller(url: string): Promise<Caller> {
  const client = new ClientV1({ name: 'mcp-protocol-bench', version: '0.0.0' });
  await client.connect(new TransportV1(new URL(url)));
  return { listTools: () => client.listTools(), call: async (name, args) => (await client.callTool({ name, arguments: args }, undefined, { timeout: 60_000 })) as { isError?: boolean }, close: () => client.close() };
}

/** The v2 client pinned to 2026-07-28; `cache`: let its response cache serve tools/list within the server's ttlMs. */
async function v2Caller(url: string, cache: boolean): Promise<Caller> {
  const client = new ClientV2({ name: 'mcp-protocol-bench', version: '0.0.0' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
  await client.connect(new TransportV2(new URL(url)));
  return {
    listTools: () => client.listTools(undefined, { cacheMode: cache ? 'use' : 'bypass' }),
    call: (name, args) => client.callTool({ name, arguments: args }, { timeout: 60_000 }),
    close: () => client.close(),
  };
}

/** Waits until a server's pool is idle with its warm context back (so no call pays for the previous one's clean-up). */
async function settled(caller: Caller): Promise<void> {
  const deadline = performance.now() + 60_000;
  for (;;) {
    const status = await caller.call('composer_status', {});
    const pool = (status.structuredContent as { browsers: { healthy: number; sessionsInUse: number; queueDepth: number; prewarmed: number } }).browsers;
    if (pool.healthy > 0 && pool.sessionsInUse === 0 && pool.queueDepth === 0 && pool.prewarmed >= 1) return;
    if (performance.now() > deadline) throw new Error(`pool did not settle: ${JSON.stringify(pool)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function timed(work: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await work();
  return performance.now() - t0;
}

export async function run(): Promise<BenchReport> {
  const listIterations = num('BENCH_LIST_ITERATIONS', 200);
  const openIterations = num('BENCH_OPEN_ITERATIONS', 20);
  const warmup = num('BENCH_WARMUP', 3);
  const logger = createLogger({ component: 'mcp-protocol-bench', level: 'error', format: 'json' });
  const dir = mkdtempSync(join(tmpdir(), 'composer-mcp-bench-protocol-'));
  const cleanups: Array<() => Promise<unknown>> = [];
  const ref = beforeRef();
  const commit = execFileSync('git', ['rev-parse', '--short', ref], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
  const load = [loadavg()[0]!];
  try {
    const before = join(dir, 'before');
    execFileSync('git', ['worktree', 'add', '--detach', before, ref], { cwd: REPO_ROOT, stdio: 'ignore' });
    cleanups.push(async () => execFileSync('git', ['worktree', 'remove', '--force', before], { cwd: REPO_ROOT, stdio: 'ignore' }));
    symlinkSync(join(REPO_ROOT, 'node_modules'), join(before, 'node_modules'));
    symlinkSync(join(REPO_ROOT, '.tools'), join(before, '.tools'));

    const jwtSecret = `bench-secret-${process.pid}-${Date.now()}`;
    const token = await new SignJWT({ name: 'Bench', pad: 'x'.repeat(2400) }).setProtectedHeader({ alg: 'HS256' }).setSubject('bench').setIssuedAt().setExpirationTime('2h').sign(new TextEncoder().encode(jwtSecret));
    const standin = await startComposerStandin({ jwtSecret, projectKey: PROJECT_KEY, connectorUids: [CONNECTOR_UID] });
    cleanups.push(() => standin.stop());
    const settings = { composerUrl: standin.appUrl, apiUrl: standin.apiUrl, accessToken: token, projectKey: PROJECT_KEY, connectorUid: CONNECTOR_UID, apiEnv: 'prd' };
    const { uid } = await new HttpStorageClient(settings, { logger }).upload(everyWidgetComposition('Benchmark: every widget', 'One widget of every type, for the protocol benchmark'));
    const env = {
      COMPOSER_MCP_COMPOSER__COMPOSER_URL: standin.appUrl,
      COMPOSER_MCP_COMPOSER__API_URL: standin.apiUrl,
      COMPOSER_MCP_COMPOSER__ACCESS_TOKEN: token,
      COMPOSER_MCP_COMPOSER__PROJECT_KEY: PROJECT_KEY,
      COMPOSER_MCP_COMPOSER__CONNECTOR_UID: CONNECTOR_UID,
      COMPOSER_MCP_BROWSERS__SOURCE: 'local',
      COMPOSER_MCP_BROWSERS__LOCAL__COUNT: '1',
      COMPOSER_MCP_RATE_LIMIT__MAX_REQUESTS: '1000000',
      COMPOSER_MCP_SHUTDOWN_GRACE_SECONDS: '5',
    };
    const [oldServer, newServer] = await Promise.all([startServer(before, env), startServer(REPO_ROOT, env)]);
    cleanups.push(() => oldServer.stop(), () => newServer.stop());
    const callers: Array<{ name: string; caller: Caller }> = [
      { name: `before (SDK v1 server ${commit}), v1 client, 2025-11-25`, caller: await v1Caller(oldServer.mcpUrl) },
      { name: 'after (SDK v2 server), v1 client, 2025-11-25', caller: await v1Caller(newServer.mcpUrl) },
      { name: 'after (SDK v2 server), v2 client, 2026-07-28, round trip', caller: await v2Caller(newServer.mcpUrl, false) },
      { name: 'after (SDK v2 server), v2 client, 2026-07-28, client cache', caller: await v2Caller(newServer.mcpUrl, true) },
    ];
    for (const { caller } of callers) cleanups.push(() => caller.close());
    const oldCaller = callers[0]!.caller;
    const newCaller = callers[1]!.caller;

    const list: number[][] = callers.map(() => []);
    for (let i = 0; i < warmup * 20; i++) for (const { caller } of callers) await caller.listTools();
    for (let i = 0; i < listIterations; i++) for (const [k, { caller }] of callers.entries()) list[k]!.push(await timed(() => caller.listTools()));
    load.push(loadavg()[0]!);

    const open: number[][] = callers.map(() => []);
    const openOnce = async (k: number): Promise<number> => {
      await settled(k === 0 ? oldCaller : newCaller);
      let failed: unknown;
      const ms = await timed(async () => {
        const result = await callers[k]!.caller.call('composer_open_composition', { uid });
        if (result.isError) failed = result;
      });
      if (failed) throw new Error(`open failed (${callers[k]!.name}): ${JSON.stringify(failed).slice(0, 1000)}`);
      return ms;
    };
    // The last caller differs from the one before only in its tools/list cache: open once per client shape.
    const openers = callers.length - 1;
    for (let i = 0; i < warmup; i++) for (let k = 0; k < openers; k++) await openOnce(k);
    for (let i = 0; i < openIterations; i++) for (let k = 0; k < openers; k++) open[k]!.push(await openOnce(k));
    load.push(loadavg()[0]!);

    const row = (name: string, s: Summary, base: Summary) => [name, s.n, s.p50, s.p95, s.p99, s.mean, ratio(s.p50, base.p50)];
    const columns = ['path', 'n', 'p50 ms', 'p95 ms', 'p99 ms', 'mean ms', 'p50 / before'];
    // Rows in caller order; a caller without samples (the cached one, for open) is left out.
    const table = (title: string, samples: number[][], label: (name: string) => string) => {
      const summaries = samples.map((s) => summarize(s));
      return { title, columns, rows: callers.flatMap(({ name }, k) => (samples[k]!.length > 0 ? [row(label(name), summaries[k]!, summaries[0]!)] : [])) };
    };
    return {
      tables: [
        table('tools/list as a client sees it (10 tools, JSON Schema 2020-12)', list, (name) => name),
        table('composer_open_composition as a client sees it (one widget of every type)', open, (name) => name.replace(', round trip', '')),
      ],
      notes: [
        'tools/list "round trip" goes to the server every time (cacheMode bypass); "client cache" is what a 2026-07-28 client pays while the server\'s 5-minute public cache hint holds.',
        `Before = ${commit} (${ref}) in a temporary worktree; after = this tree. One local browser per server; calls alternate before, after (2025), after (2026).`,
        `1-minute load average ${load.map((l) => l.toFixed(2)).join(' → ')} on ${process.env['BENCH_CORES'] ?? 'this machine'}.`,
      ],
    };
  } finally {
    for (const cleanup of cleanups.splice(0).toReversed()) {
      await cleanup().catch((error: unknown) => logger.error('Failed to clean up', { error: (error as Error).message }));
    }
    rmSync(dir, { recursive: true, force: true });
  }
}
