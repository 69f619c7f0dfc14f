import { expect } from 'chai';
import { chromium } from 'playwright-core';
import { createLogger } from '#common/logger.ts';
import { BrowserCredentialBroker } from '#server/composer/broker/browser-broker.ts';
import { sanitizeCompositionJsonForView } from '#server/composer/html/sanitize-composition.ts';
import { BrowserRouter, type Lease } from '#server/browsers/router.ts';
import { LocalEndpointSource } from '#server/browsers/local-source.ts';
import { StaticEndpointSource } from '#server/browsers/static-source.ts';
import { LeaseDeadlineError } from '#server/browsers/errors.ts';
import { startSite, type TestSite } from '../browsers/gateway-probe.ts';

const TOKEN = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJyZWQtYnJva2VyIn0.cmVkLWJyb2tlci1jYW5hcnktc2lnbmF0dXJlLTAxMjM0NTY3ODk';
const KEY = 'red-broker-project-key-0042';
const UID = 'red-broker-uid';
const quiet = () => createLogger({ component: 'test', level: 'error', format: 'json' });

/** A Response whose status is any number (undici's fetch passes 600–999 from a server; the constructor refuses them). */
function answer(status: number, body: string, headers: Record<string, string> = {}): Response {
  const response = new Response(body, { status: 200, headers: { 'content-type': 'application/json', 'access-control-allow-origin': '*', ...headers } });
  Object.defineProperty(response, 'status', { value: status });
  return response;
}

/**
 * Red team against the browser-level credential broker with real Chromium: upstream answers CDP might refuse
 * (a request paused and never answered hangs its page), and what survives a lease that ends by deadline or
 * cancellation while the page's call is paused at the broker.
 */
describe('red team: the credential broker with a hostile upstream and leases that end mid-call', function () {
  this.timeout(90_000);
  let source: LocalEndpointSource;
  let router: BrowserRouter;
  let app: TestSite;
  let api: TestSite;

  before(async () => {
    app = await startSite(() => ({ type: 'text/html', body: '<title>app</title><p>app</p>' }));
    api = await startSite(() => ({ type: 'application/json', body: '{"from":"the api itself"}' }));
    source = new LocalEndpointSource({ browsers: 1, allowedOrigins: [app.origin, api.origin], logger: quiet() });
    await source.start();
    router = new BrowserRouter({ source, logger: quiet(), prewarmPerBrowser: 1, allowedOrigins: [app.origin, api.origin] });
    await router.start();
  });
  after(async () => {
    await router?.stop();
    await source?.stop();
    await app?.close();
    await api?.close();
  });

  /** Opens a brokered lease whose relays go to `fetchImpl`, loads the app page, and runs `work`. */
  const withBrokeredPage = <T>(fetchImpl: typeof fetch, work: (lease: Lease, lookAlike: string, broker: BrowserCredentialBroker) => Promise<T>, options: { deadlineMs?: number; signal?: AbortSignal; on?: BrowserRouter } = {}) =>
    (options.on ?? router).withLease(async (lease) => {
      const broker = await BrowserCredentialBroker.forBrowser(lease.context.browser()!, quiet());
      const brokered = await broker.open({ uid: UID, apiUrl: api.origin, apiEnv: 'prd', accessToken: TOKEN, projectKey: KEY, rules: [], upstreamTimeoutMs: 3_000, maxResponseBytes: 1_000_000, maxRelayedCalls: 20, viewDocument: sanitizeCompositionJsonForView, fetch: fetchImpl });
      try {
        await lease.page.goto(`${app.origin}/`);
        return await work(lease, brokered.credentials.token, broker);
      } finally {
        brokered.release();
      }
    }, { ...(options.deadlineMs !== undefined ? { deadlineMs: options.deadlineMs } : {}), ...(options.signal ? { signal: options.signal } : {}) });

  /** The page's fetch of the sign-in check: its status and text, or "hung" when it has no answer within 6 s. */
  const pageSignIn = (lease: Lease, lookAlike: string) =>
    lease.page.evaluate(
      async ({ url, token }) => {
        const hung = new Promise<string>((resolve) => setTimeout(() => resolve('hung'), 6_000));
        const call = fetch(url, { headers: { Authorization: `Bearer ${token}` } }).then(async (r) => `${r.status} ${(await r.text()).slice(0, 80)}`, (e: Error) => `ERR ${e.message}`);
        return Promise.race([call, hung]);
      },
      { url: `${api.origin}/auth/v1.0/user/me`, token: lookAlike },
    );

  for (const [name, make] of [
    ['status 999', () => answer(999, '{"uid":"u"}')],
    ['status 600', () => answer(600, '{"uid":"u"}')],
    ['status 204 with a body', () => answer(204, '{"uid":"u"}')],
    ['a header value of 8 KB and 200 headers', () => answer(200, '{"uid":"u"}', Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`x-h${i}`, 'v'.repeat(i === 0 ? 8192 : 10)])))],
    ['an empty JSON body claimed as JSON', () => answer(200, '')],
  ] as const) {
    it(`${name}: the page gets an answer, never a request paused for ever`, async () => {
      const got = await withBrokeredPage((async () => make()) as unknown as typeof fetch, (lease, lookAlike) => pageSignIn(lease, lookAlike));
      expect(got).to.not.equal('hung');
    });
  }

  it('a lease that ends at its deadline while its call is paused at the broker: the relay is aborted and the broker answers for no lease', async () => {
    let aborted = false;
    const stalled = ((_url: string, init: RequestInit) => new Promise<Response>((_resolve, reject) => {
      init.signal?.addEventListener('abort', () => {
        aborted = true;
        reject(new DOMException('aborted', 'AbortError'));
      });
    })) as unknown as typeof fetch;
    let broker: BrowserCredentialBroker | undefined;
    const outcome = await withBrokeredPage(stalled, async (lease, lookAlike, b) => {
      broker = b;
      return pageSignIn(lease, lookAlike);
    }, { deadlineMs: 1_500 }).then(() => 'finished', (error: unknown) => error);
    expect(outcome).to.be.instanceOf(LeaseDeadlineError);
    const deadline = Date.now() + 10_000;
    const settled = () => broker!.activeLeases === 0 && aborted;
    while (!settled() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(broker!.activeLeases, 'leases the broker still answers for').to.equal(0);
    expect(aborted, 'the relay in flight was aborted').to.equal(true);
  });

  it('a cancelled call ends the same way', async () => {
    let aborted = false;
    const stalled = ((_url: string, init: RequestInit) => new Promise<Response>((_resolve, reject) => {
      init.signal?.addEventListener('abort', () => {
        aborted = true;
        reject(new DOMException('aborted', 'AbortError'));
      });
    })) as unknown as typeof fetch;
    const controller = new AbortController();
    let broker: BrowserCredentialBroker | undefined;
    const outcome = await withBrokeredPage(stalled, async (lease, lookAlike, b) => {
      broker = b;
      setTimeout(() => controller.abort(), 800);
      return pageSignIn(lease, lookAlike);
    }, { signal: controller.signal }).then(() => 'finished', (error: unknown) => (error as Error).name);
    expect(outcome).to.equal('AbortError');
    const deadline = Date.now() + 10_000;
    const settled = () => broker!.activeLeases === 0 && aborted;
    while (!settled() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(broker!.activeLeases).to.equal(0);
    expect(aborted).to.equal(true);
  });

  it('held: a request carrying the look-alikes of two leases is refused; a look-alike beside garbage is this lease\'s, and nothing of the page\'s credentials goes upstream', async () => {
    const urls: string[] = [];
    const recording = (async (url: string, init: RequestInit) => {
      urls.push(`${url} ${JSON.stringify(init.headers)}`);
      return answer(200, '{"uid":"u"}');
    }) as unknown as typeof fetch;
    const got = await withBrokeredPage(recording, async (lease, lookAlike, broker) => {
      const other = await broker.open({ uid: 'another', apiUrl: api.origin, apiEnv: 'prd', accessToken: TOKEN, projectKey: KEY, rules: [], upstreamTimeoutMs: 3_000, maxResponseBytes: 1_000_000, maxRelayedCalls: 20, fetch: recording });
      try {
        return await lease.page.evaluate(async ({ url, mine, theirs }) => {
          const status = (r: Promise<Response>) => r.then((x) => String(x.status), (e: Error) => `ERR ${e.message}`);
          return {
            mixed: await status(fetch(`${url}?access_token=${encodeURIComponent(theirs)}`, { headers: { Authorization: `Bearer ${mine}` } })),
            garbage: await status(fetch(`${url}?access_token=garbage&project_key=x`, { headers: { Authorization: `Bearer ${mine}` } })),
          };
        }, { url: `${api.origin}/auth/v1.0/user/me`, mine: lookAlike, theirs: other.credentials.token });
      } finally {
        other.release();
      }
    });
    expect(got.mixed).to.match(/^ERR /);
    expect(got.garbage).to.equal('200');
    expect(urls).to.have.length(1);
    expect(urls[0]).to.not.include('garbage');
    expect(urls[0]).to.not.include('access_token');
    expect(urls[0]).to.include(`Bearer ${TOKEN}`);
  });

  it('another replica that holds the page\'s call and then dies: Chromium resumes the call and the page gets its answer', async () => {
    // A replica sharing the browser whose process hangs: its browser-level Fetch session pauses the API requests of
    // pages on the browser and answers none. (While it lives, pages of every replica may wait: see docs/security.md.)
    // Which of two browser-level Fetch sessions Chromium asks first is no longer the order they were made in, now
    // that every client's sessions share the gateway's pipe (ADR 18): when this replica's broker comes first it
    // answers the call and the hung one never sees it. So new replicas are tried until a hung one holds the call; each
    // attempt must still answer the page.
    const [endpoint] = source.current();
    const answers: string[] = [];
    let held = 0;
    for (let attempt = 0; attempt < 12; attempt++) {
      const hung = await chromium.connectOverCDP(endpoint!.url, { headers: { Authorization: `Bearer ${endpoint!.token}` } });
      const replica = new BrowserRouter({ source: new StaticEndpointSource({ endpoints: [endpoint!.url], token: endpoint!.token }), logger: quiet(), prewarmPerBrowser: 0, allowedOrigins: [app.origin, api.origin] });
      try {
        const session = await hung.newBrowserCDPSession();
        session.on('Fetch.requestPaused', () => {
          held += 1;
          setTimeout(() => void hung.close(), 500);
        });
        await session.send('Fetch.enable', { patterns: [{ urlPattern: `${api.origin}/*`, requestStage: 'Request' }] });
        await replica.start();
        answers.push(await withBrokeredPage((async () => answer(200, '{"uid":"u"}')) as unknown as typeof fetch, (lease, lookAlike) => pageSignIn(lease, lookAlike), { on: replica }));
      } finally {
        await replica.stop();
        await hung.close().catch(() => undefined);
      }
      if (held > 0) break;
    }
    expect(held, 'a hung replica held the call').to.equal(1);
    for (const got of answers) expect(got).to.match(/^200 /);
  });
});
