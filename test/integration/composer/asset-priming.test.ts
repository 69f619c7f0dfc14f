import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import type { BrowserContext, Page } from 'playwright-core';
import type { BrowserRouter } from '#server/browsers/router.ts';
import { SharedAssetCache } from '#server/composer/session/asset-cache.ts';
import { pagePreparer, takePreparedSession } from '#server/composer/session/page-preparation.ts';
import { startOneLocalBrowser } from './composer-fixtures.ts';

/** A Composer-like app origin: a page, its immutable script (which counts its runs in localStorage), requests counted. */
async function startApp(): Promise<{ url: string; requests: string[]; stop(): Promise<void> }> {
  const requests: string[] = [];
  const script = `localStorage.setItem('runs', String(Number(localStorage.getItem('runs') || 0) + 1)); document.title = 'ran';\n/*${'x'.repeat(200_000)}*/`;
  const server: Server = createServer((req, res) => {
    requests.push(req.url ?? '');
    if (req.url === '/') {
      res.writeHead(200, { 'content-type': 'text/html', 'cache-control': 'no-cache' }).end('<!doctype html><title>app</title><script src="/static/app.1a2b3c.js"></script>');
    } else if (req.url === '/module') {
      res.writeHead(200, { 'content-type': 'text/html', 'cache-control': 'no-cache' }).end('<!doctype html><title>app</title><script type="module" src="/static/module.4d5e6f.js"></script>');
    } else if (req.url === '/static/app.1a2b3c.js' || req.url === '/static/module.4d5e6f.js') {
      res.writeHead(200, { 'content-type': 'application/javascript', 'cache-control': 'public, max-age=31536000, immutable' }).end(script);
    } else res.writeHead(404).end();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Counts the requests of the app's script that the page's session pauses (each one crosses CDP with its bytes). */
function countScriptPauses(cdp: import('playwright-core').CDPSession): { readonly count: number } {
  const counter = { count: 0 };
  cdp.on('Fetch.requestPaused', (event: { request: { url: string }; responseStatusCode?: number }) => {
    if (/\/static\/(app|module)\.\w+\.js$/.test(event.request.url) && event.responseStatusCode === undefined) counter.count++;
  });
  return counter;
}

const within = async (what: string, ms: number, check: () => boolean) => {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

/**
 * A page made ahead of its lease is primed with the app's cached scripts (asset-cache.ts `prime`): its lease's app
 * takes them from the renderer's memory cache, with no request and no bytes over CDP on the call's path, and the
 * priming document runs none of them. Real Chromium, the router's warm pool and `pagePreparer`.
 */
describe('warm pages primed with the app\'s cached assets (real Chromium)', function () {
  this.timeout(90_000);
  let app: Awaited<ReturnType<typeof startApp>>;
  const API = 'http://127.0.0.1:9';
  const stops: Array<() => Promise<void>> = [];

  const routerWith = async (prewarmPerBrowser: number, preparePage: (context: BrowserContext, page: Page, purpose: 'warm' | 'lease') => Promise<void>) => {
    const browser = await startOneLocalBrowser([app.url], { prewarmPerBrowser, allowedOrigins: [app.url], preparePage });
    stops.push(browser.stop);
    return browser.router;
  };

  /** One lease that opens the app and waits for its script to have run; the page's script pauses and runs, counted. */
  const openApp = (router: BrowserRouter, path = '/') =>
    router.withLease(async (lease) => {
      const session = await takePreparedSession(lease.page);
      expect(session, 'prepared before the lease').to.not.equal(undefined);
      const pauses = countScriptPauses(session!.cdp);
      const runsBefore = await lease.page.evaluate(() => (location.protocol.startsWith('http') ? localStorage.getItem('runs') : 'no document of the app'));
      await lease.page.goto(`${app.url}${path}`);
      await lease.page.waitForFunction(() => document.title === 'ran');
      const runsAfter = await lease.page.evaluate(() => localStorage.getItem('runs'));
      session!.detach();
      return { pauses: pauses.count, runsBefore, runsAfter };
    });

  beforeEach(async () => {
    app = await startApp();
  });
  afterEach(async () => {
    for (const stop of stops.splice(0)) await stop();
    await app.stop();
  });

  it('gives the lease of a warm page the cached script without a request, and the priming document runs none of it', async () => {
    const cache = new SharedAssetCache({ maxBytes: 10_000_000 });
    const router = await routerWith(1, pagePreparer({ composerUrl: app.url, apiUrl: API, assetCache: cache }));
    const first = await openApp(router);
    expect(first.pauses, 'the first page fetched the script through the cache').to.equal(1);
    expect(cache.stores).to.equal(1);
    // The page that replaces it is made ahead of demand, once the cache holds the script.
    await within('a warm page primed and in the pool', 20_000, () => cache.primedPages >= 1 && router.stats().prewarmed >= 1 && router.stats().sessionsInUse === 0);
    const second = await openApp(router);
    expect(second.pauses, 'the lease\'s app asked for no script: it was in the renderer already').to.equal(0);
    expect(second.runsBefore, 'the priming document (at the app origin) ran no script of the app').to.equal(null);
    expect(second.runsAfter, 'the app\'s script ran once, in the lease\'s page').to.equal('1');
    expect(app.requests.filter((r) => r.startsWith('/static/')), 'the origin served the script once').to.have.length(1);
    expect(app.requests.filter((r) => r.includes('priming')), 'the priming document never reached the origin').to.deep.equal([]);
  });

  it('never primes a script the app loaded as a module (a classic priming would not serve it, a module one would break it): the lease\'s app still runs it', async () => {
    const cache = new SharedAssetCache({ maxBytes: 10_000_000 });
    const router = await routerWith(1, pagePreparer({ composerUrl: app.url, apiUrl: API, assetCache: cache }));
    const first = await openApp(router, '/module');
    expect(first.pauses).to.equal(1);
    expect(cache.stores, 'the module went through the cache').to.equal(1);
    expect(cache.primable(app.url), 'nothing to prime').to.deep.equal([]);
    const second = await openApp(router, '/module');
    expect(second.runsAfter, 'the module ran in the lease\'s page').to.equal('1');
    expect(second.pauses, 'it came from the cache over CDP').to.equal(1);
    expect(cache.primedPages).to.equal(0);
  });

  it('does not prime a page made for a lease that waits for it (that would be on the call\'s path)', async () => {
    const cache = new SharedAssetCache({ maxBytes: 10_000_000 });
    const router = await routerWith(0, pagePreparer({ composerUrl: app.url, apiUrl: API, assetCache: cache }));
    await openApp(router);
    const second = await openApp(router);
    expect(second.pauses, 'the script came from the cache, over CDP').to.equal(1);
    expect(cache.hits).to.equal(1);
    expect(cache.primedPages).to.equal(0);
  });
});
