import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium, type Browser, type Page } from 'playwright-core';
import { BrowserRouter } from '#server/browsers/router.ts';
import { StaticEndpointSource } from '#server/browsers/static-source.ts';
import { HttpStorageClient } from '#server/composer/storage-client.ts';
import { openCompositionTool } from '#server/tools/open-composition.ts';
import type { ComposerServices, ComposerSettings } from '#server/tools/services.ts';
import type { ToolDefinition } from '#server/tools/tool-definition.ts';
import { startComposerStandin, type ComposerStandin } from '#support/composer-standin/standin.ts';
import { gatewayStatus, RawCdpClient, startPair, type GatewayPair } from '../browser/gateway-harness.ts';
import { startSite, until, type TestSite } from '../browsers/gateway-probe.ts';
import { callTool, composerServices, errorOf, everyWidgetComposition, quietLogger, standinSettings, standinToken } from '../composer/composer-fixtures.ts';

const TOKEN = 'hung-client-test-token-0123456789abcdef';
const HOLDER = fileURLToPath(new URL('./fixtures/fetch-holding-client.ts', import.meta.url));
/** The test's gateway settings: a ping every 500 ms, a client silent for 2 s is hung. */
const PING = { pingIntervalMs: 500, pingTimeoutMs: 2_000 };

/** The holder process (fixtures/fetch-holding-client.ts) and the lines it printed. */
interface Holder {
  child: ChildProcess;
  lines: string[];
  exited: Promise<number | null>;
}

async function startHolder(pair: GatewayPair, apiOrigin: string): Promise<Holder> {
  const child = spawn(process.execPath, [HOLDER], {
    env: { PATH: process.env['PATH'] ?? '', HOLDER_ENDPOINT: pair.gateway.url, HOLDER_TOKEN: TOKEN, HOLDER_API_ORIGIN: apiOrigin },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  let rest = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    const parts = (rest + chunk.toString('utf8')).split('\n');
    rest = parts.pop() ?? '';
    lines.push(...parts);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    await until(() => lines.includes('ready') || child.exitCode !== null, 30_000, 'the holder to enable Fetch interception');
    expect(lines, 'the holder started').to.include('ready');
  } catch (error) {
    child.kill('SIGKILL');
    await exited;
    throw error;
  }
  return { child, lines, exited };
}

/** The page's no-cors fetch of the API origin: "answered" once it has a response, or the error. */
function fetchFromPage(page: Page, url: string): Promise<string> {
  return page.evaluate((u) => fetch(u, { mode: 'no-cors', cache: 'no-store' }).then(() => 'answered', (e: Error) => `ERR ${e.message}`), url);
}

/**
 * A replica whose process is stopped while connected (docs/security.md §8, "a hung replica"): its browser-level
 * `Fetch.enable` on the API origin holds, through Chromium's chained interception, every API request of every page
 * on the shared browser, another client's included. The gateway pings its clients and disconnects the one that
 * answers none (ADR 31); Chromium then lets the requests it held go on. Real Chromium, real gateway, the hung
 * client a real process stopped with SIGSTOP.
 */
describe('red team: a hung CDP client holding Fetch interception on a shared browser', function () {
  this.timeout(90_000);
  let app: TestSite;
  let api: TestSite;
  let pair: GatewayPair | undefined;
  let holder: Holder | undefined;
  let other: Browser | undefined;
  let observer: RawCdpClient | undefined;

  before(async () => {
    app = await startSite(() => ({ type: 'text/html', body: '<title>app</title><p>app</p>' }));
    api = await startSite(() => ({ type: 'application/json', body: '{"from":"the api"}' }));
  });
  after(async () => {
    await app?.close();
    await api?.close();
  });
  afterEach(async () => {
    if (holder !== undefined && holder.child.exitCode === null && holder.child.signalCode === null) {
      holder.child.kill('SIGKILL');
      await holder.exited;
    }
    holder = undefined;
    observer?.close();
    observer = undefined;
    await other?.close().catch(() => undefined);
    other = undefined;
    await pair?.teardown();
    pair = undefined;
  });

  /**
   * A gateway, the holder connected to it, and another client's page on the app origin (the other replica's lease).
   * `beforePage` runs before the page loads: Chromium applies a session's interception to documents loaded after
   * its Fetch.enable.
   */
  const setUp = async (gateway: { pingIntervalMs: number; pingTimeoutMs: number }, beforePage: () => Promise<void> = async () => {}): Promise<{ page: Page }> => {
    pair = await startPair('hung-client', TOKEN, { allowedOrigins: [app.origin, api.origin], gateway });
    holder = await startHolder(pair, api.origin);
    await beforePage();
    other = await chromium.connectOverCDP(pair.gateway.url, { headers: pair.auth });
    const page = await (await other.newContext()).newPage();
    await page.goto(`${app.origin}/`);
    return { page };
  };

  it('the gateway disconnects the stopped client, and another client\'s API request it held goes on; a live client is never dropped', async () => {
    let observerPings = 0;
    const seenByObserver: string[] = [];
    const { page } = await setUp(PING, async () => {
      // The observer is a live replica's broker in miniature: it intercepts the API origin too and continues every
      // request. Whichever of the two Chromium asks first (both orders were seen), the held request must still reach
      // it once the stopped client is gone (a live broker must see its own lease's requests), and the API once.
      observer = await RawCdpClient.connect(pair!.gateway.url, pair!.auth);
      observer.ws.on('ping', () => observerPings++);
      observer.ws.on('message', (data) => {
        const message = JSON.parse(String(data)) as { method?: string; params?: { requestId: string; request: { url: string } } };
        if (message.method !== 'Fetch.requestPaused' || message.params === undefined) return;
        seenByObserver.push(new URL(message.params.request.url).pathname);
        void observer!.send('Fetch.continueRequest', { requestId: message.params.requestId }, (message as { sessionId?: string }).sessionId).catch(() => undefined);
      });
      const { sessionId } = await observer.result('Target.attachToBrowserTarget') as { sessionId: string };
      await observer.result('Fetch.enable', { patterns: [{ urlPattern: `${api.origin}/*`, requestStage: 'Request' }] }, sessionId);
    });
    expect((await gatewayStatus(pair!)).clients, 'holder, other replica, observer').to.equal(3);

    holder!.child.kill('SIGSTOP');
    // Bounded only so that a regression fails here rather than at mocha's timeout: the margin is for a loaded machine.
    const bound = PING.pingTimeoutMs + PING.pingIntervalMs + 10_000;
    const answered = await Promise.race([fetchFromPage(page, `${api.origin}/held-by-the-stopped-client`), sleep(bound).then(() => `still held after ${bound} ms`)]);

    expect(answered, 'the other client\'s API request').to.equal('answered');
    expect(api.requests, 'reached the API once').to.deep.equal(['/held-by-the-stopped-client']);
    expect(seenByObserver, 'offered to the live interceptor once').to.deep.equal(['/held-by-the-stopped-client']);
    expect(pair!.gateway.metrics.value('cdp_gateway_clients_dropped_total', { reason: 'unresponsive' }), 'clients dropped as unresponsive').to.equal(1);
    expect((await gatewayStatus(pair!)).clients, 'the stopped client is gone').to.equal(2);

    // The stopped client did hold the request: resumed, it reads the event the gateway sent it, then its close.
    holder!.child.kill('SIGCONT');
    await until(() => holder!.lines.includes('disconnected'), 20_000, 'the resumed holder to see its connection closed');
    expect(holder!.lines.filter((l) => l.startsWith('paused ')), 'requests paused at the stopped client').to.deep.equal(['paused 1']);
    expect(await holder!.exited).to.equal(0);

    // Live clients answer pings (ws answers them itself): neither is dropped over several timeouts' worth of pings.
    await until(() => observerPings >= 3 * (PING.pingTimeoutMs / PING.pingIntervalMs), 30_000, 'the observer to be pinged for three timeouts');
    expect(observer!.ws.readyState, 'the observer').to.equal(observer!.ws.OPEN);
    expect(other!.isConnected(), 'the other replica').to.equal(true);
    expect(await fetchFromPage(page, `${api.origin}/after`)).to.equal('answered');
    expect(seenByObserver).to.deep.equal(['/held-by-the-stopped-client', '/after']);
    expect(pair!.gateway.metrics.value('cdp_gateway_clients_dropped_total', { reason: 'unresponsive' })).to.equal(1);
  });

  it('the control, with the ping off: the stopped client holds the request for as long as it stays connected, and only its exit lets it go', async () => {
    const { page } = await setUp({ pingIntervalMs: 0, pingTimeoutMs: PING.pingTimeoutMs });
    const settled: string[] = [];
    const fetching = fetchFromPage(page, `${api.origin}/held-while-connected`).then((r) => {
      settled.push(r);
      return r;
    });
    await until(() => holder!.lines.includes('paused 1'), 20_000, 'the holder to get the paused request');
    holder!.child.kill('SIGSTOP');
    // Twice the time the gateway with the ping on takes to drop a stopped client, and more.
    await sleep(2 * (PING.pingTimeoutMs + PING.pingIntervalMs) + 1_000);
    expect(settled, 'the request while the stopped client is connected').to.deep.equal([]);
    expect(api.requests.filter((p) => p === '/held-while-connected'), 'reached the API').to.deep.equal([]);
    expect((await gatewayStatus(pair!)).clients, 'the stopped client is still connected').to.equal(2);

    holder!.child.kill('SIGKILL');
    await holder!.exited;
    expect(await fetching, 'once its connection closed').to.equal('answered');
    expect(api.requests.filter((p) => p === '/held-while-connected')).to.have.length(1);
    expect(pair!.gateway.metrics.value('cdp_gateway_clients_dropped_total', { reason: 'unresponsive' })).to.equal(0);
  });
});

describe('composer_open_composition on a replica that shares its browser with a stopped one', function () {
  this.timeout(180_000);
  const open = openCompositionTool as unknown as ToolDefinition<ComposerServices>;
  let standin: ComposerStandin;
  let settings: ComposerSettings;
  let pair: GatewayPair;
  let router: BrowserRouter;

  before(async () => {
    const secret = 'hung-replica-test-secret-0123456789';
    standin = await startComposerStandin({ jwtSecret: secret });
    settings = standinSettings(standin, await standinToken(secret));
    pair = await startPair('hung-open', TOKEN, { allowedOrigins: [standin.appUrl, standin.apiUrl], gateway: PING });
    router = new BrowserRouter({
      source: new StaticEndpointSource({ endpoints: [pair.gateway.url], token: TOKEN }), logger: quietLogger(), prewarmPerBrowser: 0,
      allowedOrigins: [standin.appUrl, standin.apiUrl],
    });
    await router.start();
  });
  after(async () => {
    await router?.stop();
    await pair?.teardown();
    await standin?.stop();
  });

  it('opens ready, its API calls answered by its broker, while a replica whose process is stopped intercepts the same API origin', async () => {
    // Which browser-level Fetch session Chromium asks first is not the order they were made in (ADR 18): when this
    // replica's broker comes first it answers the call and the stopped replica never sees it. So stopped replicas
    // are tried until one held a call of the open; every open must be ready with its composition read.
    const uid = (await new HttpStorageClient(settings).upload(everyWidgetComposition('Réplica parada'))).uid;
    let held = 0;
    let attempts = 0;
    while (held === 0 && attempts < 8) {
      attempts += 1;
      const stopped = await startHolder(pair, standin.apiUrl);
      try {
        stopped.child.kill('SIGSTOP');
        const { result } = await callTool(open, { uid }, composerServices({
          settings: { ...settings, page: { readyTimeoutMs: 20_000 } } as ComposerSettings, storage: new HttpStorageClient(settings), browsers: router,
        }));
        expect(errorOf(result), JSON.stringify(result.content)).to.equal(undefined);
        expect(result.structuredContent, 'the open').to.include({ ready: true, readStatus: 200 });
        await until(() => pair.gateway.metrics.value('cdp_gateway_clients_dropped_total', { reason: 'unresponsive' }) === attempts, 20_000, 'the gateway to drop the stopped replica');
        stopped.child.kill('SIGCONT');
        await until(() => stopped.lines.includes('disconnected'), 20_000, 'the resumed replica to see its connection closed');
        held += stopped.lines.filter((l) => l.startsWith('paused ')).length;
      } finally {
        if (stopped.child.exitCode === null && stopped.child.signalCode === null) stopped.child.kill('SIGKILL');
        await stopped.exited;
      }
    }
    expect(held, `API calls of the opens the stopped replicas held, over ${attempts} attempts`).to.be.greaterThan(0);
    expect(pair.gateway.metrics.value('cdp_gateway_clients_dropped_total', { reason: 'unresponsive' }), 'clients dropped: the stopped replicas only').to.equal(attempts);
    expect(router.stats().healthy, 'this replica\'s connection to the browser').to.equal(1);
  });
});
