import { expect } from 'chai';
import { PassThrough } from 'node:stream';
import { createLogger } from '#common/logger.ts';
import { BrowserBusyError, LeaseDeadlineError } from '#server/browsers/errors.ts';
import { LocalEndpointSource } from '#server/browsers/local-source.ts';
import { BrowserRouter } from '#server/browsers/router.ts';
import { ManualSource, startSite, statusPages, until, type TestSite } from './gateway-probe.ts';

const quiet = () => createLogger({ component: 'router', level: 'error', format: 'json' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('browser router over real browsers behind gateways', function () {
  this.timeout(60_000);
  let source: LocalEndpointSource;
  let site: TestSite;
  /** An origin outside the pool's egress allowlist (started first, so the site can link to it). */
  let other: TestSite;
  const routers: BrowserRouter[] = [];

  const newRouter = async (options: Partial<ConstructorParameters<typeof BrowserRouter>[0]> = {}) => {
    const router = new BrowserRouter({ source, logger: quiet(), healthIntervalMs: 1000, ...options });
    routers.push(router);
    await router.start();
    return router;
  };

  before(async () => {
    other = await startSite(() => ({ type: 'image/svg+xml', body: '<svg xmlns="http://www.w3.org/2000/svg"/>' }));
    site = await startSite((path) => ({
      type: 'text/html',
      body: path === '/foreign' ? `<title>ok</title><img src="${other.origin}/pixel.svg?token=SECRET"><p>text</p>` : `<title>${path}</title><p>hello</p>`,
    }));
    source = new LocalEndpointSource({ browsers: 2, allowedOrigins: [site.origin], logger: quiet() });
    await source.start();
  });

  afterEach(async () => {
    await Promise.all(routers.splice(0).map((r) => r.stop()));
  });

  after(async () => {
    await source?.stop();
    await site?.close();
    await other?.close();
  });

  it('runs 20 concurrent leases over 2 browsers without ever passing the cap of 4 open pages on one browser', async () => {
    const router = await newRouter({ maxSessionsPerBrowser: 4, prewarmPerBrowser: 1, queueTimeoutMs: 45_000 });
    const endpoints = source.current();
    expect(endpoints).to.have.length(2);
    const maxPages = new Map<string, number>(endpoints.map((e) => [e.id, 0]));
    const run = { sampling: true };
    let samples = 0;
    const sampler = (async () => {
      while (run.sampling) {
        await Promise.all(endpoints.map(async (e) => {
          const pages = await statusPages(e.url, e.token);
          maxPages.set(e.id, Math.max(maxPages.get(e.id)!, pages));
        }));
        samples++;
      }
    })();
    let maxInUse = 0;
    const used = new Map<string, number>();
    try {
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => router.withLease(async (lease) => {
        maxInUse = Math.max(maxInUse, router.stats().sessionsInUse);
        used.set(lease.browserId, (used.get(lease.browserId) ?? 0) + 1);
        await lease.page.goto(`${site.origin}/lease-${i}`);
        await sleep(250);
        return lease.page.title();
      })));
      expect(results).to.deep.equal(Array.from({ length: 20 }, (_, i) => `/lease-${i}`));
    } finally {
      run.sampling = false;
      await sampler;
    }
    expect(samples, 'status samples taken during the run').to.be.greaterThan(5);
    for (const [id, pages] of maxPages) {
      expect(pages, `most pages seen open on ${id}`).to.be.at.most(4);
      expect(pages, `most pages seen open on ${id}`).to.be.at.least(2);
    }
    expect(maxInUse).to.be.at.most(8);
    expect([...used.values()].reduce((a, b) => a + b)).to.equal(20);
    expect(used.size, 'both browsers took leases').to.equal(2);
    expect(router.stats()).to.include({ sessionsInUse: 0, queueDepth: 0 });
  });

  it('refuses a lease with BrowserBusyError and a retry hint from observed hold times when the queue deadline passes', async () => {
    const router = await newRouter({ maxSessionsPerBrowser: 1, prewarmPerBrowser: 0, queueTimeoutMs: 400 });
    // Observe a hold time of ~2.2 s (both browsers, so the median is ~2.2 s).
    await Promise.all([0, 1].map(() => router.withLease(() => sleep(2200))));
    let release!: () => void;
    const held = Promise.all([0, 1].map(() => router.withLease(() => new Promise<void>((r) => {
      const prev = release;
      release = () => {
        prev?.();
        r();
      };
    }))));
    await until(() => router.stats().sessionsInUse === 2, 10_000, 'both sessions held');
    const started = Date.now();
    let error: unknown;
    try {
      await router.withLease(async () => 'unexpected');
    } catch (e) {
      error = e;
    }
    const waited = Date.now() - started;
    release();
    await held;
    expect(error).to.be.instanceOf(BrowserBusyError);
    const busy = error as BrowserBusyError;
    expect(busy.retryAfterSeconds).to.be.within(3, 4);
    expect(busy.message).to.match(/retry after \d+ s/);
    expect(waited).to.be.within(350, 3000);
    expect(router.stats().queueDepth).to.equal(0);
  });

  it('stops waiting in the queue when the AbortSignal fires', async () => {
    const router = await newRouter({ maxSessionsPerBrowser: 1, prewarmPerBrowser: 0, queueTimeoutMs: 20_000 });
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const held = Promise.all([0, 1].map(() => router.withLease(() => gate)));
    await until(() => router.stats().sessionsInUse === 2, 10_000, 'both sessions held');
    const controller = new AbortController();
    const waiting = router.withLease(async () => 'unexpected', { signal: controller.signal });
    await until(() => router.stats().queueDepth === 1, 5000, 'the lease to queue');
    const started = Date.now();
    controller.abort();
    let error: unknown;
    try {
      await waiting;
    } catch (e) {
      error = e;
    }
    expect(Date.now() - started).to.be.below(1000);
    expect((error as Error).name).to.equal('AbortError');
    expect(router.stats().queueDepth).to.equal(0);
    release();
    await held;
  });

  it('cancels running work when the AbortSignal fires and closes its context', async () => {
    const router = await newRouter({ maxSessionsPerBrowser: 2, prewarmPerBrowser: 0 });
    const controller = new AbortController();
    let browserId = '';
    const running = router.withLease(async (lease) => {
      browserId = lease.browserId;
      await lease.page.goto(`${site.origin}/cancel-me`);
      return lease.page.waitForFunction(() => false, undefined, { timeout: 30_000 }).then(() => 'unexpected');
    }, { signal: controller.signal });
    await until(() => browserId !== '', 10_000, 'the lease to start');
    const endpoint = source.current().find((e) => e.id === browserId)!;
    await until(async () => (await statusPages(endpoint.url, endpoint.token)) === 1, 10_000, 'the lease page to be open');
    const started = Date.now();
    controller.abort();
    let error: unknown;
    try {
      await running;
    } catch (e) {
      error = e;
    }
    expect((error as Error).name).to.equal('AbortError');
    expect(Date.now() - started).to.be.below(3000);
    expect(router.stats().sessionsInUse).to.equal(0);
    expect(await statusPages(endpoint.url, endpoint.token), 'pages left open after the cancelled lease').to.equal(0);
  });

  it('closes a lease whose page spins in while(true){} at its deadline, frees the slot, and the browser serves the next lease', async () => {
    const router = await newRouter({ maxSessionsPerBrowser: 2, prewarmPerBrowser: 0, leaseDeadlineMs: 2_000 });
    let browserId = '';
    const started = Date.now();
    let error: unknown;
    try {
      await router.withLease(async (lease) => {
        browserId = lease.browserId;
        await lease.page.goto(`${site.origin}/spin`);
        // Never settles: the renderer is stuck, so Playwright's evaluate waits forever.
        return lease.page.evaluate(() => {
          for (;;) {
            // spin
          }
        });
      });
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(LeaseDeadlineError);
    expect((error as LeaseDeadlineError).deadlineMs).to.equal(2_000);
    expect(Date.now() - started).to.be.within(1_900, 2_000 + 3_000);
    expect(router.stats().sessionsInUse).to.equal(0);
    const endpoint = source.current().find((e) => e.id === browserId)!;
    expect(await statusPages(endpoint.url, endpoint.token), 'pages left open after the deadline').to.equal(0);
    const title = await router.withLease(async (lease) => {
      await lease.page.goto(`${site.origin}/after`);
      return lease.page.evaluate(() => 1 + 1);
    });
    expect(title).to.equal(2);
  });

  it('reports the requests the gateways\' egress proxies refused, by origin, path and type, and the refused origin sees nothing', async () => {
    const lines = new PassThrough();
    const logged: string[] = [];
    lines.on('data', (chunk: Buffer) => logged.push(chunk.toString('utf8')));
    const router = await newRouter({ logger: createLogger({ component: 'router', level: 'warn', format: 'json', stream: lines }), allowedOrigins: [site.origin] });
    const result = await router.withLease(async (lease) => {
      await lease.page.goto(`${site.origin}/foreign`, { waitUntil: 'load' });
      const title = await lease.page.title();
      const direct = await lease.page.goto(`${other.origin}/direct?c=SECRET`);
      return { title, status: direct?.status(), egress: direct?.headers()['x-composer-mcp-egress'], blocked: [...lease.blocked], leaseId: lease.leaseId };
    });
    expect(result.title).to.equal('ok');
    expect(result.status, 'the proxy answers a refused navigation itself').to.equal(403);
    expect(result.egress).to.equal('refused');
    expect(result.blocked).to.deep.include({ url: `${other.origin}/pixel.svg`, origin: other.origin, path: '/pixel.svg', method: 'GET', resourceType: 'image' });
    expect(result.blocked).to.deep.include({ url: `${other.origin}/direct`, origin: other.origin, path: '/direct', method: 'GET', resourceType: 'document' });
    expect(JSON.stringify(result.blocked), 'no query string reported').to.not.include('SECRET');
    expect(other.requests, 'the refused origin never saw a request').to.deep.equal([]);
    expect(site.requests).to.include('/foreign');
    const blockedLog = logged.join('').split('\n').filter((l) => l.includes('Browser egress refused a request of the lease'));
    expect(blockedLog).to.have.length(2);
    // Logged by origin and type only: a page can pack anything into the path or query of a URL it requests.
    expect(JSON.parse(blockedLog[0]!)).to.include({ leaseId: result.leaseId, origin: other.origin });
    expect(blockedLog.join('\n')).to.not.include('/pixel.svg');
    // The next lease on a recycled context starts with a fresh blocked list.
    const next = await router.withLease(async (lease) => {
      await lease.page.goto(`${other.origin}/after`);
      return lease.blocked.map((b) => b.path);
    });
    expect(next).to.deep.equal(['/after']);
    expect(other.requests).to.deep.equal([]);
  });

  it('places no new leases on a draining browser while its running lease finishes', async () => {
    const [first, second] = source.current();
    const manual = new ManualSource([first!, second!]);
    const router = new BrowserRouter({ source: manual, logger: quiet(), maxSessionsPerBrowser: 4, prewarmPerBrowser: 1 });
    routers.push(router);
    await router.start();
    await until(() => router.stats().healthy === 2, 15_000, 'two healthy browsers');
    let finishRunning!: () => void;
    let runningOn = '';
    const running = router.withLease(async (lease) => {
      runningOn = lease.browserId;
      await new Promise<void>((r) => {
        finishRunning = r;
      });
      await lease.page.goto(`${site.origin}/still-working`);
      return lease.page.title();
    });
    await until(() => runningOn !== '', 10_000, 'the first lease');
    const draining = runningOn === first!.id ? first! : second!;
    const other = draining === first ? second! : first!;
    manual.set([{ ...draining, state: 'Draining' }, other]);
    expect(router.stats()).to.include({ draining: 1, capacity: 4 });
    const placed = await Promise.all(Array.from({ length: 6 }, () => router.withLease(async (lease) => {
      await lease.page.setContent('<p>x</p>');
      return lease.browserId;
    })));
    expect(new Set(placed)).to.deep.equal(new Set([other.id]));
    finishRunning();
    expect(await running).to.equal('/still-working');
    await until(async () => (await statusPages(draining.url, draining.token)) === 0, 10_000, 'the draining browser to have no open pages');
  });
});
