import { expect } from 'chai';
import { chromium, type CDPSession } from 'playwright-core';
import { createLogger } from '#common/logger.ts';
import { LocalEndpointSource } from '#server/browsers/local-source.ts';
import { BrowserRouter } from '#server/browsers/router.ts';
import { startSite, until, type TestSite } from './gateway-probe.ts';

const quiet = () => createLogger({ component: 'router', level: 'error', format: 'json' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface GatewayStatus { leased: number; warm: number; pages: number; contexts: number; leasesServed: number; rssBytes: number; maxContexts: number }

async function status(url: string, token: string): Promise<GatewayStatus> {
  const res = await fetch(`${url}/status`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`/status answered ${res.status}`);
  return (await res.json()) as GatewayStatus;
}

/**
 * Issue 12's "one meaning of session": two server replicas (two routers, two CDP connections) share one browser
 * whose gateway holds the cap. Neither replica counts the other's leases itself; the gateway refuses a context beyond
 * the cap and pushes its load, and the routers place and retry by it.
 */
describe('two routers sharing one browser: the gateway holds the cap, the routers place by its load', function () {
  this.timeout(120_000);
  const cap = 3;
  let source: LocalEndpointSource;
  let site: TestSite;
  const routers: BrowserRouter[] = [];

  before(async () => {
    site = await startSite((path) => ({ type: 'text/html', body: `<title>${path}</title><p>hello</p>` }));
    source = new LocalEndpointSource({ browsers: 1, allowedOrigins: [site.origin], maxSessions: cap, logger: quiet() });
    await source.start();
  });

  afterEach(async () => {
    await Promise.all(routers.splice(0).map((r) => r.stop()));
  });

  after(async () => {
    await source?.stop();
    await site?.close();
  });

  const newRouter = async (): Promise<BrowserRouter> => {
    // Each router believes it may hold the whole cap: only the gateway sees both.
    const router = new BrowserRouter({ source, logger: quiet(), maxSessionsPerBrowser: cap, prewarmPerBrowser: 1, queueTimeoutMs: 60_000 });
    routers.push(router);
    await router.start();
    return router;
  };

  it('reports each router\'s pre-warmed context as warm, not leased, and a held lease as leased', async () => {
    const [a, b] = [await newRouter(), await newRouter()];
    const endpoint = source.current()[0]!;
    await until(async () => (await status(endpoint.url, endpoint.token)).warm === 2, 15_000, 'a warm context from each router');
    expect(await status(endpoint.url, endpoint.token)).to.include({ leased: 0, warm: 2, contexts: 2, maxContexts: cap });
    let during: GatewayStatus | undefined;
    await a.withLease(async (lease) => {
      await lease.page.goto(`${site.origin}/held`);
      await until(async () => (during = await status(endpoint.url, endpoint.token)).leased === 1, 5000, 'the taken context reported leased');
    });
    expect(during).to.include({ leased: 1 });
    expect(during!.contexts, 'never above the cap').to.be.at.most(cap);
    expect(b.stats().sessionsInUse).to.equal(0);
  });

  it('never reports a context made ahead of demand as leased, not even while it is being made (no phantom session)', async () => {
    const endpoint = source.current()[0]!;
    // A third client follows every load report the gateway pushes (one per change, as the operator and routers see them).
    const observer = await chromium.connectOverCDP(endpoint.url, { headers: { Authorization: `Bearer ${endpoint.token}` } });
    const reports: Array<{ leased: number; warm: number; at: number }> = [];
    try {
      const session: CDPSession = await observer.newBrowserCDPSession();
      session.on('Gateway.loadChanged' as never, ((r: { leased: number; warm: number }) => reports.push({ leased: r.leased, warm: r.warm, at: performance.now() })) as never);
      await session.send('Gateway.subscribeLoad' as never);
      const a = await newRouter();
      await until(() => reports.some((r) => r.warm === 1), 15_000, 'the router\'s warm context');
      expect(reports.filter((r) => r.leased > 0), 'reports while the router only pre-warmed').to.deep.equal([]);
      let leasedDuring = 0;
      await a.withLease(async (lease) => {
        await lease.page.goto(`${site.origin}/one`);
        await until(() => (leasedDuring = reports.at(-1)?.leased ?? 0) === 1, 5000, 'the lease reported leased');
      });
      expect(leasedDuring).to.equal(1);
      const ended = performance.now();
      await until(() => reports.some((r) => r.at > ended && r.warm === 1), 15_000, 'a warm context made again after the lease');
      expect(reports.filter((r) => r.at > ended && r.leased > 0), 'reports after the lease ended, while the router made a new warm context').to.deep.equal([]);
    } finally {
      await observer.close();
    }
  });

  it('never holds more than the cap of contexts over both routers, however many leases they run at once', async () => {
    const [a, b] = [await newRouter(), await newRouter()];
    const endpoint = source.current()[0]!;
    let maxContexts = 0;
    let maxLeased = 0;
    let samples = 0;
    const run = { sampling: true };
    const sampler = (async () => {
      while (run.sampling) {
        const s = await status(endpoint.url, endpoint.token);
        maxContexts = Math.max(maxContexts, s.contexts);
        maxLeased = Math.max(maxLeased, s.leased);
        samples++;
      }
    })();
    const served = (await status(endpoint.url, endpoint.token)).leasesServed;
    const done: string[] = [];
    try {
      await Promise.all(Array.from({ length: 16 }, (_, i) => (i % 2 === 0 ? a : b).withLease(async (lease) => {
        await lease.page.goto(`${site.origin}/lease-${i}`);
        await sleep(150);
        done.push(await lease.page.title());
      })));
    } finally {
      run.sampling = false;
      await sampler;
    }
    expect(done).to.have.length(16);
    expect(samples, '/status samples taken during the run').to.be.greaterThan(5);
    expect(maxContexts, 'most contexts seen on the browser').to.be.at.most(cap);
    expect(maxLeased, 'the leases really overlapped').to.be.at.least(2);
    const after = await status(endpoint.url, endpoint.token);
    expect(after.leasesServed - served, 'one context per lease, plus the warm ones made again').to.be.at.least(16);
    await until(async () => (await status(endpoint.url, endpoint.token)).leased === 0, 10_000, 'no leased context left');
    expect(a.stats()).to.include({ sessionsInUse: 0, queueDepth: 0 });
    expect(b.stats()).to.include({ sessionsInUse: 0, queueDepth: 0 });
  });
});
