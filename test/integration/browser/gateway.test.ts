import { expect } from 'chai';
import { rm } from 'node:fs/promises';
import { PassThrough } from 'node:stream';
import { join } from 'node:path';
import { chromium as playwright } from 'playwright-core';
import { createLogger } from '#common/logger.ts';
import { startGateway } from '#browser/gateway/gateway.ts';
import { eventually, getWithHost, makeTestRoot, processesInGroup, SecretVolume, startPageServer, tryWebSocket } from './browser-test-kit.ts';
import { gatewayStatus, startPair, type GatewayPair } from './gateway-harness.ts';

describe('CDP gateway owning Chromium over a pipe', function () {
  this.timeout(60_000);
  const token = 'cdp-token-0123456789abcdef';
  let pair: GatewayPair;
  let page: Awaited<ReturnType<typeof startPageServer>>;

  before(async () => {
    page = await startPageServer('<html><head><title>Lesson</title></head><body><h1 id="h">Hello from the page server</h1></body></html>');
    pair = await startPair('gateway', token, { allowedOrigins: [new URL(page.url).origin] });
  });
  after(async () => {
    await page?.close();
    await pair?.teardown();
  });

  it('refuses /json/*, /status and missing, wrong or malformed tokens with 401 and WWW-Authenticate: Bearer', async function () {
    this.timeout(10_000);
    const url = pair.gateway.url;
    for (const [path, headers, challenge] of [
      ['/json/version', {}, /^Bearer realm="cdp"$/],
      ['/json/version', { Authorization: 'Bearer wrong-token-0123456789' }, /error="invalid_token"/],
      ['/json/list', { Authorization: `Basic ${Buffer.from('a:b').toString('base64')}` }, /error="invalid_token"/],
      ['/json/list', { Authorization: `Bearer ${token}x` }, /error="invalid_token"/],
      ['/status', {}, /^Bearer/],
    ] as const) {
      const res = await fetch(`${url}${path}`, { headers });
      expect(res.status, `${path} ${JSON.stringify(headers)}`).to.equal(401);
      expect(res.headers.get('www-authenticate')).to.match(challenge);
      const body = (await res.json()) as { error: string };
      expect(body.error).to.equal('unauthorized');
    }
    const ok = await fetch(`${url}/json/version`, { headers: pair.auth });
    expect(ok.status).to.equal(200);
    expect(pair.gateway.metrics.value('cdp_gateway_auth_failures_total', { kind: 'http', reason: 'missing' })).to.be.at.least(2);
  });

  it('refuses a WebSocket upgrade without the right token with 401 and lets the right one through to a browser session', async function () {
    this.timeout(10_000);
    const version = (await (await fetch(`${pair.gateway.url}/json/version`, { headers: pair.auth })).json()) as { webSocketDebuggerUrl: string };
    const wsUrl = version.webSocketDebuggerUrl;
    const missing = await tryWebSocket(wsUrl);
    expect(missing).to.deep.include({ opened: false, status: 401 });
    expect(missing.opened === false && missing.wwwAuthenticate).to.match(/^Bearer/);
    const wrong = await tryWebSocket(wsUrl, { Authorization: 'Bearer not-the-token-at-all' });
    expect(wrong).to.deep.include({ opened: false, status: 401 });
    expect(await tryWebSocket(wsUrl, pair.auth)).to.deep.equal({ opened: true });
    expect(await tryWebSocket(`ws://127.0.0.1:${pair.gateway.port}/devtools/page/ABC`, pair.auth)).to.deep.include({ opened: false, status: 404 });
    expect(pair.gateway.metrics.value('cdp_gateway_auth_failures_total', { kind: 'websocket', reason: 'invalid' })).to.be.at.least(1);
  });

  it('lets Playwright connectOverCDP with the bearer header open a page of an allowed origin', async function () {
    this.timeout(20_000);
    const browser = await playwright.connectOverCDP(pair.gateway.url, { headers: pair.auth, timeout: 10_000 });
    try {
      expect(browser.version()).to.match(/^156\./);
      const context = await browser.newContext();
      const tab = await context.newPage();
      await tab.goto(page.url, { timeout: 10_000 });
      expect(await tab.title()).to.equal('Lesson');
      expect(await tab.textContent('#h')).to.equal('Hello from the page server');
      expect((await tab.screenshot()).length).to.be.above(1000);
      await context.close();
    } finally {
      await browser.close();
    }
  });

  it('builds webSocketDebuggerUrl from the Host the client used, lists targets, and serves no target-creating /json routes', async function () {
    this.timeout(20_000);
    const viaName = await getWithHost(`${pair.gateway.url}/json/version`, 'browser-0.pool.svc:9222', pair.auth);
    expect(viaName.status).to.equal(200);
    const version = JSON.parse(viaName.body) as { webSocketDebuggerUrl: string; Browser: string };
    expect(version.webSocketDebuggerUrl).to.equal('ws://browser-0.pool.svc:9222/devtools/browser/gateway');
    expect(version.Browser).to.match(/^HeadlessChrome\//);
    const tls = await getWithHost(`${pair.gateway.url}/json/version/`, 'cdp.example.com', { ...pair.auth, 'x-forwarded-proto': 'https' });
    expect((JSON.parse(tls.body) as { webSocketDebuggerUrl: string }).webSocketDebuggerUrl).to.equal('wss://cdp.example.com/devtools/browser/gateway');
    const injected = await getWithHost(`${pair.gateway.url}/json/version`, 'evil"/x', pair.auth);
    expect((JSON.parse(injected.body) as { webSocketDebuggerUrl: string }).webSocketDebuggerUrl).to.equal(`ws://127.0.0.1:${pair.gateway.port}/devtools/browser/gateway`);

    const localhostUrl = `http://localhost:${pair.gateway.port}`;
    const browser = await playwright.connectOverCDP(localhostUrl, { headers: pair.auth, timeout: 10_000 });
    try {
      const context = await browser.newContext();
      const tab = await context.newPage();
      await tab.goto(page.url, { timeout: 10_000 });
      const list = (await (await fetch(`${localhostUrl}/json/list`, { headers: pair.auth })).json()) as Array<{ type: string; url: string }>;
      expect(list.filter((t) => t.type === 'page').map((t) => t.url)).to.include(page.url);
      await context.close();
    } finally {
      await browser.close();
    }
    expect((await fetch(`${pair.gateway.url}/json/new?about:blank`, { method: 'PUT', headers: pair.auth })).status).to.equal(405);
    expect((await fetch(`${pair.gateway.url}/json/close/X`, { headers: pair.auth })).status).to.equal(404);
    expect((await fetch(`${pair.gateway.url}/nope`)).status).to.equal(404);
  });

  it('reports contexts, pages, leased and warm contexts, leases served and the browser\'s memory in /status', async function () {
    this.timeout(20_000);
    expect(await eventually(async () => (await gatewayStatus(pair)).contexts === 0, 5000), 'no contexts before').to.equal(true);
    const before = await gatewayStatus(pair);
    const browser = await playwright.connectOverCDP(pair.gateway.url, { headers: pair.auth, timeout: 10_000 });
    try {
      const leasedContext = await browser.newContext();
      const warmContext = await browser.newContext();
      await Promise.all([leasedContext.newPage(), leasedContext.newPage()]);
      const warmPage = await warmContext.newPage();
      const session = await warmContext.newCDPSession(warmPage);
      await session.send('Gateway.setContextState' as never, { state: 'warm' } as never);
      const s = await gatewayStatus(pair);
      expect(s).to.include({ contexts: 2, leased: 1, warm: 1, pages: 3, leasesServed: before.leasesServed + 2, maxContexts: 4 });
      expect(s.rssBytes).to.be.above(50 * 1024 * 1024);
      expect(s['browserVersion']).to.match(/^HeadlessChrome\/\d+/);
      await session.send('Gateway.setContextState' as never, { state: 'leased' } as never);
      expect(await gatewayStatus(pair)).to.include({ leased: 2, warm: 0 });
      await leasedContext.close();
      expect(await eventually(async () => (await gatewayStatus(pair)).pages === 1, 5000), 'pages of the closed context gone').to.equal(true);
      expect(await gatewayStatus(pair)).to.include({ contexts: 1, leased: 1 });
    } finally {
      await browser.close();
    }
    expect(await eventually(async () => (await gatewayStatus(pair)).contexts === 0, 5000), 'the departed client\'s context disposed').to.equal(true);
  });

  it('starts the contexts a client creates in the state it declared (Gateway.setNewContextState), for that client only', async function () {
    this.timeout(20_000);
    expect(await eventually(async () => (await gatewayStatus(pair)).contexts === 0, 5000), 'no contexts before').to.equal(true);
    const [one, other] = await Promise.all([0, 1].map(() => playwright.connectOverCDP(pair.gateway.url, { headers: pair.auth, timeout: 10_000 })));
    try {
      const session = await one!.newBrowserCDPSession();
      expect(await session.send('Gateway.setNewContextState' as never, { state: 'warm' } as never)).to.deep.equal({ state: 'warm' });
      const reports: Array<{ leased: number; warm: number }> = [];
      const observer = await other!.newBrowserCDPSession();
      observer.on('Gateway.loadChanged' as never, ((r: { leased: number; warm: number }) => reports.push({ leased: r.leased, warm: r.warm })) as never);
      await observer.send('Gateway.subscribeLoad' as never);
      await one!.newContext();
      expect(await gatewayStatus(pair)).to.include({ contexts: 1, warm: 1, leased: 0 });
      expect(reports.filter((r) => r.leased > 0), 'never reported leased, not even before a page').to.deep.equal([]);
      await other!.newContext();
      expect(await gatewayStatus(pair), 'another client\'s contexts start leased').to.include({ contexts: 2, warm: 1, leased: 1 });
      await session.send('Gateway.setNewContextState' as never, { state: 'leased' } as never);
      await one!.newContext();
      expect(await gatewayStatus(pair)).to.include({ contexts: 3, warm: 1, leased: 2 });
      const refused = await session.send('Gateway.setNewContextState' as never, { state: 'idle' } as never).then(() => undefined, (e: Error) => e.message);
      expect(refused).to.match(/needs "state": "warm" or "leased"/);
    } finally {
      await Promise.all([one?.close(), other?.close()]);
    }
    expect(await eventually(async () => (await gatewayStatus(pair)).contexts === 0, 5000), 'the departed clients\' contexts disposed').to.equal(true);
  });

  it('serves /healthz (a round trip over the pipe) and /metrics without a token', async function () {
    this.timeout(10_000);
    const health = await fetch(`${pair.gateway.url}/healthz`);
    expect(health.status).to.equal(200);
    expect(((await health.json()) as { browser: string }).browser).to.match(/HeadlessChrome/);
    const metrics = await fetch(`${pair.gateway.url}/metrics`);
    expect(metrics.status).to.equal(200);
    expect(metrics.headers.get('content-type')).to.match(/^text\/plain; version=0\.0\.4/);
    const text = await metrics.text();
    expect(text).to.match(/cdp_gateway_http_requests_total\{route="json",status="401"\} [1-9]/);
    expect(text).to.match(/cdp_gateway_websocket_connections_total [1-9]/);
    expect(text).to.include('cdp_gateway_health_up 1');
    expect(text).to.include('cdp_gateway_contexts{state="leased"}');
    expect(text).to.not.include(token);
    expect(await eventually(() => pair.gateway.metrics.value('cdp_gateway_websockets_open') === 0, 3000), 'every client WebSocket closed').to.equal(true);
  });

  it('applies a rotated token file without a restart: the old token gets 401, the new one 200', async function () {
    this.timeout(15_000);
    const newToken = 'rotated-token-fedcba9876543210';
    await pair.volume.rotate(newToken);
    const status = async (t: string): Promise<number> => (await fetch(`${pair.gateway.url}/json/version`, { headers: { Authorization: `Bearer ${t}` } })).status;
    expect(await eventually(async () => (await status(token)) === 401, 5000), 'old token refused').to.equal(true);
    expect(await status(newToken)).to.equal(200);
    const wsUrl = `ws://127.0.0.1:${pair.gateway.port}/devtools/browser/gateway`;
    expect(await tryWebSocket(wsUrl, { Authorization: `Bearer ${token}` })).to.deep.include({ opened: false, status: 401 });
    expect(await tryWebSocket(wsUrl, { Authorization: `Bearer ${newToken}` })).to.deep.equal({ opened: true });
    expect(pair.gateway.metrics.value('cdp_gateway_token_reloads_total')).to.equal(1);
    pair.auth = { Authorization: `Bearer ${newToken}` };
  });
});

describe('CDP gateway health when Chromium hangs or dies', function () {
  this.timeout(60_000);
  const token = 'health-token-0123456789';
  let pair: GatewayPair;

  before(async () => {
    pair = await startPair('gateway-health', token, { healthTimeoutMs: 1000 });
  });
  after(async () => {
    try {
      process.kill(pair.host.pid, 'SIGCONT');
    } catch {
      // gone
    }
    await pair?.teardown();
  });

  it('turns /healthz 503 within its timeout while Chromium is stopped, and 200 again when it continues', async function () {
    this.timeout(15_000);
    expect((await fetch(`${pair.gateway.url}/healthz`)).status).to.equal(200);
    process.kill(pair.host.pid, 'SIGSTOP');
    try {
      const started = Date.now();
      const res = await fetch(`${pair.gateway.url}/healthz`, { signal: AbortSignal.timeout(5000) });
      const elapsed = Date.now() - started;
      expect(res.status).to.equal(503);
      const body = (await res.json()) as { status: string; reason: string };
      expect(body.status).to.equal('unavailable');
      expect(body.reason).to.match(/timed out after 1000 ms/);
      expect(elapsed).to.be.below(3000);
      expect(pair.gateway.metrics.value('cdp_gateway_health_up')).to.equal(0);
    } finally {
      process.kill(pair.host.pid, 'SIGCONT');
    }
    expect(await eventually(async () => (await fetch(`${pair.gateway.url}/healthz`)).status === 200, 5000)).to.equal(true);
  });

  it('when Chromium is killed: /healthz 503, new clients refused, connected ones closed, `ended` says why, no process left', async function () {
    this.timeout(15_000);
    const browser = await playwright.connectOverCDP(pair.gateway.url, { headers: pair.auth, timeout: 10_000 });
    const disconnected = new Promise<void>((resolve) => browser.once('disconnected', () => resolve()));
    await (await browser.newContext()).newPage();
    process.kill(pair.host.pid, 'SIGKILL');
    expect(await pair.host.ended).to.match(/exited with code null/);
    await disconnected;
    const res = await fetch(`${pair.gateway.url}/healthz`);
    expect(res.status).to.equal(503);
    expect(((await res.json()) as { reason: string }).reason).to.match(/browser is gone/);
    const ws = await tryWebSocket(`ws://127.0.0.1:${pair.gateway.port}/devtools/browser/gateway`, pair.auth);
    expect(ws).to.deep.include({ opened: false, status: 503 });
    expect((await fetch(`${pair.gateway.url}/metrics`)).status).to.equal(200);
    expect(await eventually(async () => (await processesInGroup(pair.host.pid)).length === 0, 5000), 'no Chromium child survives its browser').to.equal(true);
  });
});

describe('CDP gateway start-up and log volume', function () {
  this.timeout(30_000);

  it('refuses to start without a readable, non-empty token file, naming the file', async () => {
    const pair = await startPair('gateway-start', 'cdp-token-start-0123456789');
    try {
      let error: unknown;
      try {
        await startGateway({ listenHost: '127.0.0.1', listenPort: 0, browser: pair.host, tokenFile: join(pair.root, 'missing'), metrics: pair.gateway.metrics, logger: createLogger({ component: 'x', level: 'error' }) });
      } catch (e) {
        error = e;
      }
      expect(String(error)).to.match(/token file .*missing.*GATEWAY_TOKEN_FILE/);
    } finally {
      await pair.teardown();
    }
  });

  it('logs one line per kind of repeated failure while /metrics counts every one', async () => {
    const stream = new PassThrough();
    const lines: Array<Record<string, unknown>> = [];
    stream.on('data', (chunk: Buffer) => { for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l)); });
    const root = await makeTestRoot('gateway-throttle');
    const volume = new SecretVolume(join(root, 'cdp-token'));
    await volume.init('cdp-token-throttle-0123456789');
    const pair = await startPair('gateway-throttle', 'cdp-token-throttle-0123456789', { logger: createLogger({ component: 'gateway', format: 'json', stream }) });
    try {
      for (let i = 0; i < 20; i++) {
        expect((await fetch(`${pair.gateway.url}/json/version`, { headers: { Authorization: 'Bearer wrong-token-0123456789' } })).status).to.equal(401);
      }
      await new Promise((r) => setImmediate(r));
      expect(lines.filter((l) => l['message'] === 'Refused request without a valid bearer token')).to.have.length(1);
      expect(pair.gateway.metrics.value('cdp_gateway_auth_failures_total', { kind: 'http', reason: 'invalid' })).to.equal(20);
    } finally {
      await pair.teardown();
      await rm(root, { recursive: true, force: true });
    }
  });
});
