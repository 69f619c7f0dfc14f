import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:net';
import { resolve } from 'node:path';
import { expect } from 'chai';
import { startedPort, withCredentials } from '../../../scripts/run-server.ts';

const ROOT = resolve(import.meta.dirname, '../../..');
const SCRIPT = resolve(ROOT, 'scripts/run-server.ts');

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

/** Runs scripts/run-server.ts (what `make run` runs) offline, with `env` on top of a clean config environment. */
function runServer(env: Record<string, string>, args: string[] = []) {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('COMPOSER_MCP_') && k !== 'RUN_BANNER_CREDENTIALS'));
  const child = spawn(process.execPath, [SCRIPT, ...args], { cwd: ROOT, env: { ...clean, COMPOSER_MCP_BROWSERS__SOURCE: 'none', LOG_FORMAT: 'json', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, exited, out: () => stdout, err: () => stderr };
}

async function until(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('make run', function () {
  this.timeout(60_000);

  it('binds the port COMPOSER_MCP_HTTP__PORT names (the Makefile passes no flag unless RUN_PORT is given), prints the banner after the bind with that port, and stops cleanly on SIGINT', async () => {
    const port = await freePort();
    const run = runServer({ COMPOSER_MCP_HTTP__PORT: String(port) });
    try {
      await until(() => run.out().includes('MCP endpoint'));
      expect(run.out()).to.contain(`http://127.0.0.1:${port}/mcp`);
      const health = await fetch(`http://127.0.0.1:${port}/readyz`);
      expect(health.status).to.equal(200);
      run.child.kill('SIGINT');
      expect(await run.exited).to.equal(0);
    } finally {
      run.child.kill('SIGKILL');
    }
  });

  it('prints no banner, only the error, when the port is taken', async () => {
    const holder: Server = createServer();
    holder.listen(0, '127.0.0.1');
    await once(holder, 'listening');
    const { port } = holder.address() as { port: number };
    try {
      const run = runServer({}, [`--http.port=${port}`]);
      const code = await run.exited;
      expect(code).to.not.equal(0);
      expect(run.out()).to.not.contain('MCP endpoint');
      expect(run.err()).to.contain('Failed to listen');
    } finally {
      holder.close();
    }
  });

  it('passes RUN_PORT, RUN_HOST and RUN_BROWSERS as flags only when they are given', () => {
    const dry = (vars: string[]) => spawnSync('make', ['-n', '--no-print-directory', 'run', ...vars], { cwd: ROOT, encoding: 'utf8' }).stdout.split('\n').find((l) => l.includes('scripts/run-server.ts')) ?? '';
    expect(dry([])).to.not.contain('--http.port').and.to.not.contain('--http.host');
    expect(dry(['RUN_PORT=9000', 'RUN_BROWSERS=3'])).to.contain('--http.port=9000').and.to.contain('--browsers.local.count=3');
  });

  it('reads the bound port from the server\'s start line, and shows dev credentials only when asked', () => {
    expect(startedPort('{"level":"info","message":"Started MCP server","port":43121,"url":"http://127.0.0.1:43121/mcp"}')).to.equal(43121);
    expect(startedPort('2026-12-01T00:00:00Z info [server] Started MCP server {"transport":"http","port":8080}')).to.equal(8080);
    expect(startedPort('{"message":"Started browser router","port":1}')).to.equal(undefined);
    const banner = "-e COMPOSER_MCP_COMPOSER__ACCESS_TOKEN='<your Composer access token>' -e COMPOSER_MCP_COMPOSER__PROJECT_KEY='<your Project-Key>'";
    expect(withCredentials(banner, { accessToken: 'dev-token', projectKey: 'dev-key' })).to.equal("-e COMPOSER_MCP_COMPOSER__ACCESS_TOKEN='dev-token' -e COMPOSER_MCP_COMPOSER__PROJECT_KEY='dev-key'");
    expect(withCredentials(banner, {})).to.equal(banner);
  });
});
