import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { EXIT_UNCAUGHT_EXCEPTION } from '#common/process-failure.ts';
import { connectHttp, parseLogLines, REPO_ROOT, startServerProcess, type ServerProcess } from '../server/server-harness.ts';
import { createNamespace, ensureCrd, kubeConfig } from '../operator/helpers.ts';

/** The server plus the test-only probe tools (test_wait, test_uncaught_exception). */
const PROBE_SERVER = path.join(REPO_ROOT, 'test/integration/server/fixtures/probe-server.ts');
/** Preload that throws from a SIGUSR2 handler: an uncaught exception in a process we cannot otherwise reach into. */
const THROW_ON_SIGNAL = path.join(REPO_ROOT, 'test/support/throw-on-signal.ts');
const UNCAUGHT = 'Uncaught exception: the process state may be corrupt; failing readiness, draining in-flight work and exiting';

async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

function exitOf(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Spawns `node <script> ...args` with the throw-on-signal preload and JSON logs; collects stderr. */
function spawnWithPreload(script: string, args: string[], env: Record<string, string> = {}): { child: ChildProcess; stderr: () => string } {
  const child = spawn(process.execPath, [path.join(REPO_ROOT, script), ...args], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, NODE_OPTIONS: `--import=${THROW_ON_SIGNAL}`, LOG_FORMAT: 'json', ...env },
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return { child, stderr: () => stderr };
}

/**
 * The process policy for an error thrown synchronously inside an event handler (docs/operations.md, "Process
 * failure policy"), on real processes: the server, the operator and the gateway log it with its context, fail
 * readiness, let the work in flight finish and exit with 70 so the orchestrator restarts them.
 */
describe('an uncaught exception: logged with context, readiness failed, in-flight work drained, exit 70', function () {
  this.timeout(120_000);

  describe('the MCP server', () => {
    let server: ServerProcess;

    before(async () => {
      server = await startServerProcess({ entry: PROBE_SERVER, env: { COMPOSER_MCP_SHUTDOWN_DRAIN_SECONDS: '1', COMPOSER_MCP_SHUTDOWN_GRACE_SECONDS: '10' } });
    });
    after(async () => {
      await server?.stop();
    });

    it('a timer callback of a tool call throws: the call in flight completes, readiness fails at once, the process exits 70', async () => {
      const client = await connectHttp(server.url);
      const other = await connectHttp(server.url);
      try {
        expect((await fetch(new URL('/readyz', server.url))).status).to.equal(200);
        // A call in flight, known to be running by its first progress notification.
        const { promise: running, resolve: started } = Promise.withResolvers<void>();
        const inFlight = other.callTool({ name: 'test_wait', arguments: { ms: 2_500 } }, undefined, { onprogress: () => started() }) as Promise<CallToolResult>;
        await running;
        const thrower = (await client.callTool({ name: 'test_uncaught_exception', arguments: {} })) as CallToolResult;
        expect(thrower.isError).to.not.equal(true);
        const logged = await until('the uncaught exception to be logged', () => server.logs().find((l) => l['message'] === UNCAUGHT));
        // With the context of the work that threw, the error's kind and where it came from.
        expect(logged).to.include({ level: 'error', tool: 'test_uncaught_exception', origin: 'uncaughtException', exitCode: EXIT_UNCAUGHT_EXCEPTION, draining: true });
        expect(logged['callId']).to.be.a('string');
        expect(logged['error']).to.include({ name: 'TypeError', message: 'probe: thrown synchronously inside a timer callback' });
        expect((logged['error'] as { stack: string }).stack).to.include('probe-tools.ts');
        // Readiness fails at once, saying why (the drain window keeps the process answering probes).
        const ready = await fetch(new URL('/readyz', server.url));
        expect(ready.status).to.equal(503);
        const report = (await ready.json()) as { checks: Record<string, { ok: boolean; detail?: string }> };
        expect(report.checks['process']).to.include({ ok: false });
        expect(report.checks['process']?.detail).to.match(/uncaught exception \(TypeError\)/);
        // The call that was in flight finishes normally: one bug does not fail every caller.
        const finished = await inFlight;
        expect(finished.isError, JSON.stringify(finished.content)).to.not.equal(true);
        expect((finished.structuredContent as { cancelled: boolean }).cancelled).to.equal(false);
        const { code } = await server.exited;
        expect(code).to.equal(EXIT_UNCAUGHT_EXCEPTION);
        expect(server.logs().find((l) => l['message'] === 'Finished graceful shutdown')).to.include({ exitCode: EXIT_UNCAUGHT_EXCEPTION });
      } finally {
        await client.close().catch(() => undefined);
        await other.close().catch(() => undefined);
      }
    });
  });

  it('the gateway: logs it, closes and exits 70', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'gateway-uncaught-'));
    try {
      await writeFile(path.join(dir, 'token'), 'uncaught-test-token-0123456789\n');
      const { child, stderr } = spawnWithPreload('browser/src/gateway-main.ts', [], {
        GATEWAY_LISTEN_HOST: '127.0.0.1', GATEWAY_PORT: String(await freePort()), GATEWAY_UPSTREAM_PORT: String(await freePort()), GATEWAY_TOKEN_FILE: path.join(dir, 'token'),
      });
      try {
        await until('the gateway to start', () => parseLogLines(stderr()).find((l) => l['message'] === 'Started CDP gateway'));
        child.kill('SIGUSR2');
        expect(await exitOf(child)).to.equal(EXIT_UNCAUGHT_EXCEPTION);
        const lines = parseLogLines(stderr());
        const logged = lines.find((l) => l['message'] === UNCAUGHT);
        expect(logged, stderr()).to.include({ component: 'gateway', origin: 'uncaughtException', draining: true });
        expect(logged?.['error']).to.include({ name: 'RangeError', message: 'injected: thrown synchronously inside an event handler' });
        expect(lines.some((l) => l['message'] === 'Stopped CDP gateway')).to.equal(true);
      } finally {
        child.kill('SIGKILL');
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('the operator: logs it, stops its manager in order and exits 70', async () => {
    const kc = kubeConfig();
    await ensureCrd(kc);
    const ns = await createNamespace(kc, 'uncaught');
    const { child, stderr } = spawnWithPreload('operator/src/main.ts', [
      `--kubeconfig=${process.env['KUBECONFIG'] ?? ''}`, `--namespaces=${ns.name}`, '--leader-election.enabled=false', '--metrics-port=0', '--health-port=0', '--listen-host=127.0.0.1',
    ]);
    try {
      const healthUrl = await until('the operator to start', () => /"health":"(http:\/\/[^"]+)"/.exec(stderr())?.[1], 30_000);
      await until('the operator to be ready', async () => ((await fetch(`${healthUrl}/readyz`).catch(() => undefined))?.status === 200 ? true : undefined), 30_000);
      child.kill('SIGUSR2');
      expect(await exitOf(child)).to.equal(EXIT_UNCAUGHT_EXCEPTION);
      const lines = parseLogLines(stderr());
      const logged = lines.find((l) => l['message'] === UNCAUGHT);
      expect(logged, stderr()).to.include({ component: 'operator', origin: 'uncaughtException', draining: true });
      expect(logged?.['error']).to.include({ name: 'RangeError', message: 'injected: thrown synchronously inside an event handler' });
      expect(lines.find((l) => l['message'] === 'Finished graceful shutdown')).to.include({ exitCode: EXIT_UNCAUGHT_EXCEPTION });
      expect(lines.some((l) => l['message'] === 'Stopped BrowserPool operator')).to.equal(true);
    } finally {
      child.kill('SIGKILL');
      await ns.remove();
    }
  });
});
