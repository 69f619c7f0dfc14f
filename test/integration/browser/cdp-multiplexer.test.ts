import { expect } from 'chai';
import { chromium as playwright, type Browser } from 'playwright-core';
import { eventually, pidAlive, startPageServer } from './browser-test-kit.ts';
import { gatewayStatus, RawCdpClient, startPair, type GatewayPair } from './gateway-harness.ts';

describe('CDP multiplexer: several clients on one Chromium pipe', function () {
  this.timeout(90_000);
  const token = 'mux-token-0123456789abcdef';
  let pair: GatewayPair;
  let site: Awaited<ReturnType<typeof startPageServer>>;

  before(async () => {
    site = await startPageServer('<title>Shared</title><p id="p">page</p>');
    pair = await startPair('mux', token, { allowedOrigins: [new URL(site.url).origin], maxContexts: 3, host: { maxClientBufferBytes: 2 * 1024 * 1024 } });
  });
  after(async () => {
    await site?.close();
    await pair?.teardown();
  });

  const connect = (): Promise<Browser> => playwright.connectOverCDP(pair.gateway.url, { headers: pair.auth, timeout: 10_000 });

  it('serves three Playwright clients at once, each in its own contexts, none seeing another\'s pages', async function () {
    this.timeout(30_000);
    const clients = await Promise.all([connect(), connect(), connect()]);
    try {
      const results = await Promise.all(clients.map(async (browser, i) => {
        const context = await browser.newContext();
        const tab = await context.newPage();
        await tab.goto(`${site.url}?client=${i}`);
        await tab.evaluate((n) => { document.title = `client ${n}`; }, i);
        return { title: await tab.title(), shot: (await tab.screenshot()).length };
      }));
      expect(results.map((r) => r.title)).to.deep.equal(['client 0', 'client 1', 'client 2']);
      for (const r of results) expect(r.shot).to.be.above(1000);
      for (const browser of clients) {
        const pages = browser.contexts().flatMap((c) => c.pages());
        expect(pages, 'a client sees only its own page').to.have.length(1);
      }
      expect(await gatewayStatus(pair)).to.include({ contexts: 3, pages: 3 });
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
    expect(await eventually(async () => (await gatewayStatus(pair)).contexts === 0, 5000)).to.equal(true);
  });

  it('disposes every context of a client whose connection drops, and leaves the other clients\' contexts alone', async function () {
    this.timeout(30_000);
    const keeper = await connect();
    try {
      const kept = await keeper.newContext();
      const keptPage = await kept.newPage();
      await keptPage.goto(site.url);
      const raw = await RawCdpClient.connect(pair.gateway.url, pair.auth);
      const { browserContextId } = await raw.result('Target.createBrowserContext');
      await raw.result('Target.createTarget', { url: 'about:blank', browserContextId });
      await raw.result('Target.createTarget', { url: 'about:blank', browserContextId });
      expect(await gatewayStatus(pair)).to.include({ contexts: 2, pages: 3 });
      raw.ws.terminate(); // no close handshake: as if the client's process crashed
      expect(await eventually(async () => (await gatewayStatus(pair)).contexts === 1, 5000), 'the dropped client\'s context disposed').to.equal(true);
      expect(await eventually(async () => (await gatewayStatus(pair)).pages === 1, 5000), 'its pages closed').to.equal(true);
      expect(await keptPage.textContent('#p')).to.equal('page');
    } finally {
      await keeper.close();
    }
  });

  it('answers hostile client messages with CDP errors, refuses what would hurt the browser or other clients, and stays healthy', async function () {
    this.timeout(30_000);
    const victim = await connect();
    const attacker = await RawCdpClient.connect(pair.gateway.url, pair.auth);
    try {
      const victimContext = await victim.newContext();
      const victimPage = await victimContext.newPage();
      await victimPage.goto(site.url);
      const victimTarget = (await attacker.result('Target.getTargets')).targetInfos as Array<{ targetId: string; browserContextId: string; type: string }>;
      const theirs = victimTarget.find((t) => t.type === 'page')!;

      // Malformed input: each gets an error, the connection stays usable.
      attacker.ws.send('not json at all');
      attacker.ws.send('[1,2,3]');
      attacker.ws.send('{"method":"Browser.getVersion"}');
      expect(await attacker.sendRaw('{"id":5,"method":"Runtime.evaluate","params":[1]}', 5)).to.have.nested.property('error.code', -32602);
      expect(await attacker.sendRaw('{"id":6}', 6)).to.have.nested.property('error.code', -32600);
      expect(await eventually(() => attacker.unmatched.length >= 3, 3000), 'errors without an id for unreadable messages').to.equal(true);
      expect(attacker.unmatched.map((m) => (m['error'] as { code: number }).code)).to.include.members([-32700, -32600]);

      // Another client's sessions and contexts are out of reach.
      const borrowed = await attacker.send('Runtime.evaluate', { expression: '1+1' }, 'A'.repeat(32));
      expect(borrowed).to.have.nested.property('error.code', -32001);
      const dispose = await attacker.send('Target.disposeBrowserContext', { browserContextId: theirs.browserContextId });
      expect(String((dispose['error'] as { message: string }).message)).to.match(/not created by this client/);

      // Commands that would end the browser, bypass the egress proxy or hand CDP to a page are refused.
      for (const [method, params, message] of [
        ['Browser.close', {}, /Browser\.close is refused/],
        ['Browser.crash', {}, /Browser\.crash is refused/],
        ['Target.setRemoteLocations', { locations: [{ host: '10.0.0.1', port: 9222 }] }, /around the egress policy/],
        ['Target.exposeDevToolsProtocol', { targetId: theirs.targetId }, /page script/],
        ['Target.createBrowserContext', { proxyServer: 'http://127.0.0.2:8080' }, /egress proxy/],
        ['Gateway.doSomething', {}, /wasn't found/],
      ] as const) {
        const answer = await attacker.send(method, params);
        expect(String((answer['error'] as { message: string } | undefined)?.message), method).to.match(message);
      }
      const version = await attacker.result('Browser.getVersion');
      expect(String(version['product'])).to.match(/HeadlessChrome/);
      expect(await victimPage.textContent('#p'), 'the victim\'s page still works').to.equal('page');
      expect(await pidAlive(pair.host.pid)).to.equal(true);
      expect((await fetch(`${pair.gateway.url}/healthz`)).status).to.equal(200);
      expect(pair.gateway.metrics.value('cdp_gateway_cdp_refused_total', { kind: 'policy' })).to.be.at.least(5);
      expect(pair.gateway.metrics.value('cdp_gateway_cdp_refused_total', { kind: 'session' })).to.be.at.least(1);
      expect(pair.gateway.metrics.value('cdp_gateway_cdp_refused_total', { kind: 'malformed' })).to.be.at.least(5);
    } finally {
      attacker.close();
      await victim.close();
    }
  });

  it('holds the context cap over all clients: a create beyond it is refused with a recognisable error until one closes', async function () {
    this.timeout(30_000);
    const a = await connect();
    const b = await connect();
    try {
      const first = await Promise.all([a.newContext(), a.newContext()]);
      await b.newContext();
      let refusal: unknown;
      try {
        await b.newContext();
      } catch (error) {
        refusal = error;
      }
      expect(String(refusal)).to.match(/GATEWAY_AT_CAPACITY: this browser already holds its cap of 3 browser contexts/);
      expect(await gatewayStatus(pair)).to.include({ contexts: 3 });
      // Concurrent creates from two clients never pass the cap either.
      await first[0]!.close();
      const race = await Promise.allSettled([a.newContext(), b.newContext(), a.newContext(), b.newContext()]);
      expect(race.filter((r) => r.status === 'fulfilled')).to.have.length(1);
      expect((await gatewayStatus(pair)).contexts).to.equal(3);
      expect(pair.gateway.metrics.value('cdp_gateway_cdp_refused_total', { kind: 'capacity' })).to.be.at.least(4);
    } finally {
      await a.close();
      await b.close();
    }
    expect(await eventually(async () => (await gatewayStatus(pair)).contexts === 0, 5000)).to.equal(true);
  });

  it('pushes load changes to a client that subscribed, with the contexts that are its own', async function () {
    this.timeout(20_000);
    const watcher = await RawCdpClient.connect(pair.gateway.url, pair.auth);
    const other = await connect();
    try {
      const first = await watcher.result('Gateway.subscribeLoad');
      expect(first).to.include({ contexts: 0, maxContexts: 3, yours: 0 });
      const context = await other.newContext();
      expect(await eventually(() => watcher.events.some((e) => e.method === 'Gateway.loadChanged' && e.params['contexts'] === 1), 3000)).to.equal(true);
      await watcher.result('Target.createBrowserContext');
      expect(await eventually(() => watcher.events.some((e) => e.method === 'Gateway.loadChanged' && e.params['contexts'] === 2 && e.params['yours'] === 1), 3000)).to.equal(true);
      await context.close();
      expect(await eventually(() => watcher.events.at(-1)?.params['contexts'] === 1, 3000)).to.equal(true);
      expect(watcher.events.filter((e) => e.method === 'Gateway.loadChanged').every((e) => e.sessionId === undefined), 'root-session events carry no sessionId').to.equal(true);
    } finally {
      watcher.close();
      await other.close();
    }
  });

  it('disconnects a client that stops reading its answers, and keeps serving the others', async function () {
    this.timeout(30_000);
    const healthy = await connect();
    const slow = await RawCdpClient.connect(pair.gateway.url, pair.auth);
    try {
      const { browserContextId } = await slow.result('Target.createBrowserContext');
      const { targetId } = await slow.result('Target.createTarget', { url: 'about:blank', browserContextId });
      const { sessionId } = await slow.result('Target.attachToTarget', { targetId, flatten: true });
      const closed = new Promise<number>((resolve) => slow.ws.once('close', (code) => resolve(code)));
      (slow.ws as unknown as { _socket: { pause(): void } })._socket.pause();
      // Each answer is ~1 MiB; the gateway holds at most 2 MiB for this client before it lets go of it.
      for (let i = 0; i < 40; i++) {
        slow.ws.send(JSON.stringify({ id: 1000 + i, method: 'Runtime.evaluate', params: { expression: `'x'.repeat(${1024 * 1024})`, returnByValue: true }, sessionId }));
      }
      expect(await eventually(() => pair.gateway.metrics.value('cdp_gateway_clients_dropped_total', { reason: 'slow-client' }) === 1, 15_000), 'slow client dropped').to.equal(true);
      (slow.ws as unknown as { _socket: { resume(): void } })._socket.resume();
      expect(await closed).to.be.oneOf([1006, 1008]);
      const context = await healthy.newContext();
      const tab = await context.newPage();
      await tab.goto(site.url);
      expect(await tab.textContent('#p')).to.equal('page');
      expect(await eventually(async () => (await gatewayStatus(pair)).contexts === 1, 5000), 'the slow client\'s context disposed').to.equal(true);
    } finally {
      await healthy.close();
    }
  });

  it('ends what a departed client set up in nested browser sessions: its request interception no longer holds other clients\' requests', async function () {
    this.timeout(30_000);
    const interceptor = await connect();
    const session = await interceptor.newBrowserCDPSession();
    let paused = 0;
    session.on('Fetch.requestPaused', () => { paused++; }); // pauses every request and never answers
    await session.send('Fetch.enable', { patterns: [{ urlPattern: '*', requestStage: 'Request' }] });
    const other = await connect();
    try {
      const context = await other.newContext();
      const tab = await context.newPage();
      const stuck = await tab.goto(site.url, { timeout: 2000 }).then(() => false, () => true);
      expect(stuck && paused > 0, 'the interceptor holds requests while it is connected').to.equal(true);
      await interceptor.close();
      const next = await context.newPage();
      await next.goto(site.url, { timeout: 10_000 });
      expect(await next.textContent('#p'), 'requests flow once it is gone').to.equal('page');
    } finally {
      await other.close();
    }
  });
});
