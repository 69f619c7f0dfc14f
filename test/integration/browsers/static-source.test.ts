import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '#common/logger.ts';
import { startBrowserPool } from '#server/browsers/create-router.ts';
import { BrowserUnavailableError } from '#server/browsers/errors.ts';
import { LocalEndpointSource } from '#server/browsers/local-source.ts';
import { BrowserRouter } from '#server/browsers/router.ts';
import { StaticEndpointSource, validateStaticSource } from '#server/browsers/static-source.ts';
import { processAlive } from './gateway-probe.ts';

const quiet = () => createLogger({ component: 'router', level: 'error', format: 'json' });

describe('static endpoint source', function () {
  this.timeout(60_000);
  let local: LocalEndpointSource;
  let dir: string;

  before(async () => {
    local = new LocalEndpointSource({ browsers: 1, allowedOrigins: [], logger: quiet() });
    await local.start();
    dir = await mkdtemp(join(tmpdir(), 'static-source-test-'));
  });

  after(async () => {
    await local?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('names every configuration problem', async () => {
    const problems = validateStaticSource({ endpoints: [{ id: 'a', url: 'nope' }, { id: 'a', url: 'ws://x:1', maxSessions: 0 }] });
    expect(problems.join('\n')).to.match(/exactly one of token or tokenFile/)
      .and.match(/endpoints\[0\]\.url "nope" is not a URL/)
      .and.match(/endpoints\[1\]\.id "a" is used twice/)
      .and.match(/endpoints\[1\]\.url must be http/)
      .and.match(/endpoints\[1\]\.maxSessions must be a whole number/);
    expect(() => new StaticEndpointSource({ endpoints: [], token: 'x', tokenFile: '/x' })).to.throw(/Invalid static browser endpoints/);
    const bare = new StaticEndpointSource({ endpoints: ['http://127.0.0.2:9222/'], token: 'secret-token' });
    await bare.start();
    expect(bare.current()).to.deep.equal([{ id: '127.0.0.2:9222', url: 'http://127.0.0.2:9222', token: 'secret-token', state: 'Ready' }]);
    await bare.stop();
  });

  it('reports a missing token file clearly', async () => {
    const source = new StaticEndpointSource({ endpoints: [{ id: 'a', url: 'http://127.0.0.1:1' }], tokenFile: join(dir, 'missing') });
    let error: unknown;
    try {
      await source.start();
    } catch (e) {
      error = e;
    }
    expect((error as Error).message).to.match(/Could not read the browser token file .*missing/);
  });

  it('leases through a configured gateway with the token from a file', async () => {
    const [endpoint] = local.current();
    const source = new StaticEndpointSource({ endpoints: [{ id: 'gw-1', url: `${endpoint!.url}/`, maxSessions: 2 }], tokenFile: local.tokenPath });
    const router = new BrowserRouter({ source, logger: quiet(), prewarmPerBrowser: 0 });
    try {
      await router.start();
      expect(router.stats()).to.include({ browsers: 1, healthy: 1, capacity: 2 });
      const text = await router.withLease(async (lease) => {
        await lease.page.setContent('<p id="x">static</p>');
        return lease.page.textContent('#x');
      });
      expect(text).to.equal('static');
    } finally {
      await router.stop();
      await source.stop();
    }
  });

  it('never places leases on a gateway that rejects the token, and says so when the queue deadline passes', async () => {
    const [endpoint] = local.current();
    const wrong = join(dir, 'wrong-token');
    await writeFile(wrong, 'not-the-right-token-at-all\n', { mode: 0o600 });
    const source = new StaticEndpointSource({ endpoints: [{ id: 'gw-1', url: endpoint!.url }], tokenFile: wrong });
    const router = new BrowserRouter({ source, logger: quiet(), startTimeoutMs: 1500, queueTimeoutMs: 500 });
    try {
      await router.start();
      expect(router.stats()).to.include({ browsers: 1, healthy: 0 });
      let error: unknown;
      try {
        await router.withLease(async () => 'unexpected');
      } catch (e) {
        error = e;
      }
      expect(error).to.be.instanceOf(BrowserUnavailableError);
      expect((error as Error).message).to.match(/No healthy browser became available/);
    } finally {
      await router.stop();
      await source.stop();
    }
  });
});

describe('starting the browser pool from server settings', function () {
  this.timeout(60_000);
  const base = {
    local: { count: 1 }, static: { endpoints: [] }, kubernetes: { namespace: 'default', pool: 'default' },
    maxSessionsPerBrowser: 2, queueLimit: 4, queueTimeoutMs: 5000, prewarmPerBrowser: 1,
  };

  it('returns nothing for source "none"', async () => {
    expect(await startBrowserPool({ ...base, source: 'none' })).to.equal(undefined);
  });

  it('starts a local pool whose router leases within the allowlist, and stops every browser it started', async () => {
    const pool = (await startBrowserPool({ ...base, source: 'local' }, { logger: quiet(), allowedOrigins: ['http://127.0.0.1:9'] }))!;
    const pids = (pool.source as LocalEndpointSource).browsers().map((b) => b.chromiumPid);
    try {
      expect(pool.router.stats()).to.include({ browsers: 1, healthy: 1, capacity: 2 });
      const blocked = await pool.router.withLease(async (lease) => {
        await lease.page.goto('http://127.0.0.1:10/').catch(() => undefined);
        return lease.blocked.map((b) => b.url);
      });
      expect(blocked).to.deep.equal(['http://127.0.0.1:10/']);
    } finally {
      await pool.stop();
    }
    expect(pids).to.have.length(1);
    for (const pid of pids) expect(processAlive(pid)).to.equal(false);
  });
});
