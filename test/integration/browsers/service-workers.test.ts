import { expect } from 'chai';
import { createLogger } from '#common/logger.ts';
import { LocalEndpointSource } from '#server/browsers/local-source.ts';
import { BrowserRouter } from '#server/browsers/router.ts';
import { DEFAULT_PAGE_SETTINGS } from '#server/composer/session/page-settings.ts';
import { leaseContextOptions } from '#server/services-factory.ts';
import { startSite, until, type TestSite } from './gateway-probe.ts';

const quiet = () => createLogger({ component: 'router', level: 'error', format: 'json' });

/** The worker script of one attack: on install it calls home, so a worker that ever ran leaves a request. */
const workerScript = (vector: string) => `self.addEventListener('install', (e) => { self.skipWaiting(); e.waitUntil(fetch('/from-sw-${vector}')); });`;

/** Marks the attempt over in the top document, whatever the registration did. */
const settle = (vector: string, register: string) =>
  `Promise.resolve().then(() => ${register}).then((r) => { window.top.__attempts['${vector}'] = String(r); }, (e) => { window.top.__attempts['${vector}'] = 'error: ' + e; })`;

/**
 * Each way a page script may reach `ServiceWorkerContainer.prototype.register`: the page itself, a same-origin
 * iframe, a srcdoc or blob: iframe, a fresh about:blank iframe (a new realm whose initial document may come before
 * any init script), a shared or dedicated worker (no init scripts run in workers), and an original `register` kept
 * from another realm.
 */
const VECTORS: Record<string, string> = {
  page: `<script>${settle('page', `navigator.serviceWorker.register('/sw-page.js')`)}</script>`,
  'same-origin-iframe': `<iframe src="/frame"></iframe>`,
  'about-blank-iframe': `<script>{ const f = document.createElement('iframe'); document.body.appendChild(f);
    ${settle('about-blank-iframe', `f.contentWindow.navigator.serviceWorker.register(location.origin + '/sw-about-blank-iframe.js')`)}; }</script>`,
  'borrowed-register': `<script>{ const f = document.createElement('iframe'); document.body.appendChild(f);
    const original = f.contentWindow.ServiceWorkerContainer.prototype.register;
    ${settle('borrowed-register', `original.call(navigator.serviceWorker, location.origin + '/sw-borrowed-register.js')`)}; }</script>`,
  'srcdoc-iframe': `<iframe srcdoc="<script>${settle('srcdoc-iframe', `navigator.serviceWorker.register(top.location.origin + '/sw-srcdoc-iframe.js')`).replaceAll('"', '&quot;')}</script>"></iframe>`,
  'blob-iframe': `<script>{ const f = document.createElement('iframe');
    f.src = URL.createObjectURL(new Blob(['<script>' + ${JSON.stringify(settle('blob-iframe', `navigator.serviceWorker.register(top.location.origin + '/sw-blob-iframe.js')`))} + '<' + '/script>'], { type: 'text/html' }));
    document.body.appendChild(f); }</script>`,
  'shared-worker': `<script>{ const w = new SharedWorker('/shared-worker.js'); w.port.onmessage = (m) => { window.__attempts['shared-worker'] = m.data; }; }</script>`,
  'dedicated-worker': `<script>{ const w = new Worker('/worker.js'); w.onmessage = (m) => { window.__attempts['dedicated-worker'] = m.data; }; }</script>`,
};

/**
 * Ways this Chromium build refuses by itself (an initial about:blank or a blob: document is "in an invalid state";
 * a dedicated or shared worker has no `navigator.serviceWorker`). They stay in the attack: the control fails if that
 * changes.
 */
const INERT_IN_CHROMIUM = new Set(['about-blank-iframe', 'blob-iframe', 'shared-worker', 'dedicated-worker']);

function page(path: string): { type: string; body: string } {
  const script = /^\/sw-([a-z-]+)\.js$/.exec(path);
  if (script) return { type: 'text/javascript', body: workerScript(script[1]!) };
  if (path === '/frame') return { type: 'text/html', body: `<script>${settle('same-origin-iframe', `navigator.serviceWorker.register('/sw-same-origin-iframe.js')`)}</script>` };
  if (path === '/shared-worker.js') {
    return {
      type: 'text/javascript',
      body: `onconnect = (c) => { const port = c.ports[0]; Promise.resolve().then(() => navigator.serviceWorker.register('/sw-shared-worker.js')).then((r) => port.postMessage(String(r)), (e) => port.postMessage('error: ' + e)); };`,
    };
  }
  if (path === '/worker.js') {
    return {
      type: 'text/javascript',
      body: `Promise.resolve().then(() => navigator.serviceWorker.register('/sw-dedicated-worker.js')).then((r) => postMessage(String(r)), (e) => postMessage('error: ' + e));`,
    };
  }
  const vector = decodeURIComponent(path.slice(1));
  return { type: 'text/html', body: `<title>${vector}</title><body><script>window.__attempts = {};</script>${VECTORS[vector] ?? ''}</body>` };
}

interface Outcome {
  /** What the page's registration attempts answered. */
  attempts: Record<string, string>;
  /** Service worker registrations of the origin, seen from the page after the attempts. */
  registrations: string[];
}

describe("service workers in the pool's lease contexts (serviceWorkers: block, a Playwright init script)", function () {
  this.timeout(90_000);
  let source: LocalEndpointSource;
  let site: TestSite;

  before(async () => {
    site = await startSite(page);
    source = new LocalEndpointSource({ browsers: 1, allowedOrigins: [site.origin], logger: quiet() });
    await source.start();
  });

  after(async () => {
    await source?.stop();
    await site?.close();
  });

  /** Runs every vector in its own lease of a router whose contexts have `contextOptions`, and reports each outcome. */
  async function attack(contextOptions: ReturnType<typeof leaseContextOptions> | { viewport: { width: number; height: number }; serviceWorkers: 'allow' }): Promise<Map<string, Outcome>> {
    const router = new BrowserRouter({ source, logger: quiet(), contextOptions, prewarmPerBrowser: 0 });
    await router.start();
    const outcomes = new Map<string, Outcome>();
    try {
      for (const vector of Object.keys(VECTORS)) {
        outcomes.set(vector, await router.withLease(async ({ page: leased }) => {
          await leased.goto(`${site.origin}/${vector}`);
          await until(() => leased.evaluate((v) => (window as unknown as { __attempts: Record<string, string> }).__attempts[v] !== undefined, vector), 15_000, `the ${vector} attempt to settle`);
          // A registration that was made installs within this window (it fetches its script, then calls home).
          await until(() => site.requests.includes(`/from-sw-${vector}`), 2_000, 'a worker call').catch(() => undefined);
          return leased.evaluate(async () => ({
            attempts: (window as unknown as { __attempts: Record<string, string> }).__attempts,
            registrations: (await navigator.serviceWorker.getRegistrations()).map((r) => r.scope),
          }));
        }));
      }
    } finally {
      await router.stop();
    }
    return outcomes;
  }

  it('the control: without the block, a page registers a service worker from the page, a same-origin or srcdoc iframe and a register borrowed from another realm, and the worker runs', async () => {
    site.requests.length = 0;
    const outcomes = await attack({ ...leaseContextOptions(DEFAULT_PAGE_SETTINGS.viewport), serviceWorkers: 'allow' });
    for (const [vector, outcome] of outcomes) {
      const what = `${vector}: registrations (the attempt answered ${JSON.stringify(outcome.attempts)})`;
      if (INERT_IN_CHROMIUM.has(vector)) {
        expect(outcome.registrations, `${what}; this way used to be refused by Chromium itself, check the block still covers it`).to.deep.equal([]);
        continue;
      }
      expect(outcome.registrations, what).to.have.length.above(0);
      expect(site.requests, `${vector}: the worker script was fetched and the worker called home`).to.include.members([`/sw-${vector}.js`, `/from-sw-${vector}`]);
    }
  });

  it("with the lease contexts' options, no way of registering works: no registration, no worker script fetched, no request from a worker", async () => {
    site.requests.length = 0;
    const outcomes = await attack(leaseContextOptions(DEFAULT_PAGE_SETTINGS.viewport));
    for (const [vector, outcome] of outcomes) {
      expect(outcome.registrations, `${vector}: registrations (the attempt answered ${JSON.stringify(outcome.attempts)})`).to.deep.equal([]);
    }
    expect(site.requests.filter((p) => /sw-/.test(p)), 'worker scripts fetched, or requests made by a service worker').to.deep.equal([]);
    expect([...outcomes.keys()].map((v) => `/${v}`), 'every attack page was loaded').to.satisfy((paths: string[]) => paths.every((p) => site.requests.includes(p)));
  });
});
