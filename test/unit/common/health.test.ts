import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { HealthRegistry } from '#common/health.ts';

async function serve(registry: HealthRegistry): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => (req.url === '/readyz' ? registry.readinessHandler(req, res) : registry.livenessHandler(req, res)));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

describe('health', () => {
  it('is ready when every named check passes and says which one fails', async () => {
    const registry = new HealthRegistry();
    let browsers = 2;
    registry.addCheck('browsers', () => ({ ok: browsers > 0, detail: `${browsers} healthy` }));
    registry.addCheck('config', async () => ({ ok: true }));
    const { url, server } = await serve(registry);
    try {
      let res = await fetch(`${url}/readyz`);
      expect(res.status).to.equal(200);
      expect((await res.json()).checks.browsers).to.include({ ok: true, detail: '2 healthy' });
      browsers = 0;
      res = await fetch(`${url}/readyz`);
      expect(res.status).to.equal(503);
      const body = await res.json();
      expect(body.status).to.equal('fail');
      expect(body.checks.browsers).to.include({ ok: false, detail: '0 healthy' });
      expect(body.checks.config.ok).to.equal(true);
    } finally { server.close(); }
  });

  it('fails a check that hangs past the timeout or throws, without failing the others', async () => {
    const registry = new HealthRegistry({ timeoutMs: 50 });
    registry.addCheck('hangs', () => new Promise(() => undefined));
    registry.addCheck('throws', () => { throw new Error('kaput'); });
    registry.addCheck('fine', () => ({ ok: true }));
    const report = await registry.ready();
    expect(report.status).to.equal('fail');
    expect(report.checks['hangs']!.detail).to.match(/timed out after 50 ms/);
    expect(report.checks['throws']!.detail).to.equal('kaput');
    expect(report.checks['fine']!.ok).to.equal(true);
  });

  it('reports a non-gating check without letting it decide readiness', async () => {
    const registry = new HealthRegistry();
    registry.addCheck('config', () => ({ ok: true }));
    registry.addCheck('browsers', () => ({ ok: false, detail: 'no healthy browser' }), { gating: false });
    const report = await registry.ready();
    expect(report.status).to.equal('ok');
    expect(report.checks['browsers']).to.include({ ok: false, detail: 'no healthy browser', gating: false });
    registry.addCheck('config', () => ({ ok: false }));
    expect((await registry.ready()).status).to.equal('fail');
  });

  it('turns not-ready when draining while liveness stays ok', async () => {
    const registry = new HealthRegistry();
    registry.addCheck('x', () => ({ ok: true }));
    registry.setDraining();
    expect((await registry.ready()).status).to.equal('fail');
    expect((await registry.live()).status).to.equal('ok');
  });
});

describe('ops server', () => {
  it('serves liveness, readiness and metrics on one port and 404 elsewhere', async () => {
    const { startOpsServer } = await import('#common/ops-server.ts');
    const registry = new HealthRegistry();
    registry.addCheck('synced', () => ({ ok: false, detail: 'caches not synced' }));
    const ops = await startOpsServer({ host: '127.0.0.1', port: 0, health: registry, metricsHandler: (_q, r) => { r.end('m 1\n'); } });
    try {
      expect((await fetch(`${ops.url}/healthz`)).status).to.equal(200);
      const ready = await fetch(`${ops.url}/readyz`);
      expect(ready.status).to.equal(503);
      expect((await ready.json()).checks.synced.detail).to.equal('caches not synced');
      expect(await (await fetch(`${ops.url}/metrics`)).text()).to.equal('m 1\n');
      expect((await fetch(`${ops.url}/nope`)).status).to.equal(404);
      expect((await fetch(`${ops.url}/healthz`, { method: 'POST' })).status).to.equal(405);
    } finally { await ops.close(); }
  });
});
