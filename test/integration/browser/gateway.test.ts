import { expect } from 'chai';
import { rm } from 'node:fs/promises';
import { PassThrough } from 'node:stream';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { chromium as playwright } from 'playwright-core';
import { createLogger } from '#common/logger.ts';
import { startGateway, type Gateway } from '#browser/gateway/gateway.ts';
import { launchChromium, type LaunchedChromium } from '#browser/launcher/launch-chromium.ts';
import {
  cdpCall, eventually, getWithHost, makeTestRoot, pidAlive, processesInGroup, processesMentioning, SecretVolume, startPageServer, tryWebSocket,
} from './browser-test-kit.ts';

const quiet = createLogger({ component: 'gateway-test', level: process.env['LOG_LEVEL'] ?? 'error' });

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Starts Chromium + gateway under a fresh root; `teardown` stops both and asserts nothing of them is left. */
async function startPair(prefix: string, token: string, healthTimeoutMs = 2000): Promise<{
  root: string; volume: SecretVolume; chromium: LaunchedChromium; gateway: Gateway; auth: Record<string, string>; teardown(): Promise<void>;
}> {
  const root = await makeTestRoot(prefix);
  const volume = new SecretVolume(join(root, 'cdp-token'));
  await volume.init(token);
  const chromium = await launchChromium({ rootDir: root, logger: quiet });
  const gateway = await startGateway({
    listenHost: '127.0.0.1', listenPort: 0, upstreamPort: chromium.port, tokenFile: volume.file, healthTimeoutMs, tokenPollIntervalMs: 500, logger: quiet,
  });
  return {
    root, volume, chromium, gateway, auth: { Authorization: `Bearer ${token}` },
    teardown: async () => {
      await gateway.close();
      await chromium.stop();
      expect(await pidAlive(chromium.pid), 'browser pid alive after stop').to.equal(false);
      expect(await processesMentioning(root), 'processes left from this test').to.deep.equal([]);
      expect(await processesInGroup(chromium.pid), 'processes left in the browser\'s group').to.deep.equal([]);
      await rm(root, { recursive: true, force: true });
    },
  };
}

describe('CDP gateway in front of a real Chromium', function () {
  this.timeout(60_000);
  const token = 'cdp-token-0123456789abcdef';
  let pair: Awaited<ReturnType<typeof startPair>>;
  let page: Awaited<ReturnType<typeof startPageServer>>;

  before(async () => {
    pair = await startPair('gateway', token);
    page = await startPageServer('<html><head><title>Lesson</title></head><body><h1 id="h">Hello from the page server</h1></body></html>');
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

  it('refuses a WebSocket upgrade without the right token with 401 and lets the right one through', async function () {
    this.timeout(10_000);
    const version = (await (await fetch(`${pair.gateway.url}/json/version`, { headers: pair.auth })).json()) as { webSocketDebuggerUrl: string };
    const wsUrl = version.webSocketDebuggerUrl;
    const missing = await tryWebSocket(wsUrl);
    expect(missing).to.deep.include({ opened: false, status: 401 });
    expect(missing.opened === false && missing.wwwAuthenticate).to.match(/^Bearer/);
    const wrong = await tryWebSocket(wsUrl, { Authorization: 'Bearer not-the-token-at-all' });
    expect(wrong).to.deep.include({ opened: false, status: 401 });
    expect(await tryWebSocket(wsUrl, pair.auth)).to.deep.equal({ opened: true });
    const result = await cdpCall(wsUrl, 'Browser.getVersion', pair.auth);
    expect(String(result['product'])).to.match(/HeadlessChrome/);
    expect(pair.gateway.metrics.value('cdp_gateway_auth_failures_total', { kind: 'websocket', reason: 'invalid' })).to.be.at.least(1);
  });

  it('lets Playwright connectOverCDP with the bearer header open a page of a local server', async function () {
    this.timeout(20_000);
    const browser = await playwright.connectOverCDP(pair.gateway.url, { headers: pair.auth, timeout: 10_000 });
    try {
      const context = await browser.newContext();
      const tab = await context.newPage();
      await tab.goto(page.url, { timeout: 10_000 });
      expect(await tab.title()).to.equal('Lesson');
      expect(await tab.textContent('#h')).to.equal('Hello from the page server');
      await context.close();
    } finally {
      await browser.close();
    }
  });

  it('rewrites Host so a client using a host name (not an IP) is served, and advertises its own address, not Chromium\'s', async function () {
    this.timeout(20_000);
    // Chromium itself refuses a non-IP Host ...
    const direct = await getWithHost(`http://127.0.0.1:${pair.chromium.port}/json/version`, 'browser-0.pool.svc:9222');
    expect(direct.status).to.equal(500);
    expect(direct.body).to.match(/Host header/);
    // ... the gateway accepts it and points the WebSocket URL at the name the client used.
    const viaName = await getWithHost(`${pair.gateway.url}/json/version`, 'browser-0.pool.svc:9222', pair.auth);
    expect(viaName.status).to.equal(200);
    expect((JSON.parse(viaName.body) as { webSocketDebuggerUrl: string }).webSocketDebuggerUrl)
      .to.match(/^ws:\/\/browser-0\.pool\.svc:9222\/devtools\/browser\//);

    const localhostUrl = `http://localhost:${pair.gateway.port}`;
    const version = (await (await fetch(`${localhostUrl}/json/version`, { headers: pair.auth })).json()) as { webSocketDebuggerUrl: string };
    expect(version.webSocketDebuggerUrl.startsWith(`ws://localhost:${pair.gateway.port}/devtools/browser/`)).to.equal(true);
    expect(version.webSocketDebuggerUrl).to.not.include(`:${pair.chromium.port}`);

    const created = await fetch(`${localhostUrl}/json/new?about:blank`, { method: 'PUT', headers: pair.auth });
    expect(created.status).to.equal(200);
    const target = (await created.json()) as { id: string; webSocketDebuggerUrl: string; devtoolsFrontendUrl: string };
    expect(target.webSocketDebuggerUrl).to.equal(`ws://localhost:${pair.gateway.port}/devtools/page/${target.id}`);
    expect(target.devtoolsFrontendUrl).to.include(`ws=localhost:${pair.gateway.port}/devtools/page/${target.id}`);
    expect((await fetch(`${localhostUrl}/json/close/${target.id}`, { headers: pair.auth })).status).to.equal(200);

    const browser = await playwright.connectOverCDP(localhostUrl, { headers: pair.auth, timeout: 10_000 });
    try {
      const context = await browser.newContext();
      const tab = await context.newPage();
      const list = (await (await fetch(`${localhostUrl}/json/list`, { headers: pair.auth })).json()) as Array<{ type: string; webSocketDebuggerUrl: string }>;
      const pages = list.filter((t) => t.type === 'page');
      expect(pages.length).to.be.at.least(1);
      for (const t of pages) expect(t.webSocketDebuggerUrl.startsWith(`ws://localhost:${pair.gateway.port}/devtools/page/`)).to.equal(true);
      await tab.goto(page.url, { timeout: 10_000 });
      expect(await tab.title()).to.equal('Lesson');
      await context.close();
    } finally {
      await browser.close();
    }
  });

  it('counts open pages in /status', async function () {
    this.timeout(20_000);
    const status = async (): Promise<{ browserVersion: string; uptimeSeconds: number; pages: number; targets: Array<{ id: string; type: string; url: string }> }> => {
      const res = await fetch(`${pair.gateway.url}/status`, { headers: pair.auth });
      expect(res.status).to.equal(200);
      return (await res.json()) as never;
    };
    expect(await eventually(async () => (await status()).pages === 0, 5000), 'no pages before').to.equal(true);
    const browser = await playwright.connectOverCDP(pair.gateway.url, { headers: pair.auth, timeout: 10_000 });
    try {
      const context = await browser.newContext();
      const tabs = await Promise.all([context.newPage(), context.newPage(), context.newPage()]);
      await tabs[0]?.goto(page.url);
      const s = await status();
      expect(s.pages).to.equal(3);
      expect(s.browserVersion).to.match(/^HeadlessChrome\/\d+/);
      expect(s.uptimeSeconds).to.be.a('number').and.at.least(0);
      expect(s.targets.filter((t) => t.type === 'page').map((t) => t.url)).to.include(page.url);
      await context.close();
      expect(await eventually(async () => (await status()).pages === 0, 5000), 'pages back to 0 after the context closed').to.equal(true);
    } finally {
      await browser.close();
    }
  });

  it('serves /healthz and /metrics without a token', async function () {
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
    expect(text).to.not.include(token);
    expect(await eventually(() => pair.gateway.metrics.value('cdp_gateway_websockets_open') === 0, 3000), 'every proxied WebSocket closed').to.equal(true);
  });

  it('refuses oversized request bodies with 413 and unknown paths with 404', async function () {
    this.timeout(10_000);
    const big = await fetch(`${pair.gateway.url}/json/new?about:blank`, { method: 'PUT', headers: pair.auth, body: 'x'.repeat(100 * 1024) });
    expect(big.status).to.equal(413);
    expect((await fetch(`${pair.gateway.url}/nope`)).status).to.equal(404);
  });

  it('applies a rotated token file without a restart: the old token gets 401, the new one 200', async function () {
    this.timeout(15_000);
    const newToken = 'rotated-token-fedcba9876543210';
    await pair.volume.rotate(newToken);
    const status = async (t: string): Promise<number> => (await fetch(`${pair.gateway.url}/json/version`, { headers: { Authorization: `Bearer ${t}` } })).status;
    expect(await eventually(async () => (await status(token)) === 401, 5000), 'old token refused').to.equal(true);
    expect(await status(newToken)).to.equal(200);
    const version = (await (await fetch(`${pair.gateway.url}/json/version`, { headers: { Authorization: `Bearer ${newToken}` } })).json()) as { webSocketDebuggerUrl: string };
    expect(await tryWebSocket(version.webSocketDebuggerUrl, { Authorization: `Bearer ${token}` })).to.deep.include({ opened: false, status: 401 });
    expect(await tryWebSocket(version.webSocketDebuggerUrl, { Authorization: `Bearer ${newToken}` })).to.deep.equal({ opened: true });
    expect(pair.gateway.metrics.value('cdp_gateway_token_reloads_total')).to.equal(1);
    pair.auth = { Authorization: `Bearer ${newToken}` };
  });
});

describe('CDP gateway health when Chromium hangs or dies', function () {
  this.timeout(60_000);
  const token = 'health-token-0123456789';
  let pair: Awaited<ReturnType<typeof startPair>>;

  before(async () => {
    pair = await startPair('gateway-health', token, 1000);
  });
  after(async () => {
    if (pair && (await pidAlive(pair.chromium.pid))) process.kill(pair.chromium.pid, 'SIGCONT');
    await pair?.teardown();
  });

  it('turns /healthz 503 within its timeout while Chromium is stopped, and 200 again when it continues', async function () {
    this.timeout(15_000);
    expect((await fetch(`${pair.gateway.url}/healthz`)).status).to.equal(200);
    process.kill(pair.chromium.pid, 'SIGSTOP');
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
      process.kill(pair.chromium.pid, 'SIGCONT');
    }
    expect(await eventually(async () => (await fetch(`${pair.gateway.url}/healthz`)).status === 200, 5000)).to.equal(true);
  });

  it('turns /healthz 503 when Chromium is killed, answers 502 on the proxied routes, and keeps serving', async function () {
    this.timeout(15_000);
    process.kill(pair.chromium.pid, 'SIGKILL');
    await pair.chromium.exited;
    const res = await fetch(`${pair.gateway.url}/healthz`);
    expect(res.status).to.equal(503);
    expect(((await res.json()) as { reason: string }).reason).to.match(/json\/version/);
    expect((await fetch(`${pair.gateway.url}/json/version`, { headers: pair.auth })).status).to.equal(502);
    expect((await fetch(`${pair.gateway.url}/status`, { headers: pair.auth })).status).to.equal(502);
    const ws = await tryWebSocket(`ws://127.0.0.1:${pair.gateway.port}/devtools/browser/gone`, pair.auth);
    expect(ws).to.deep.include({ opened: false, status: 502 });
    expect((await fetch(`${pair.gateway.url}/metrics`)).status).to.equal(200);
    expect(await eventually(async () => (await processesInGroup(pair.chromium.pid)).length === 0, 5000), 'no Chromium child survives its browser').to.equal(true);
  });
});

describe('CDP gateway start-up errors', function () {
  this.timeout(10_000);

  it('refuses to start without a readable, non-empty token file, naming the file', async () => {
    const root = await makeTestRoot('gateway-start');
    try {
      const port = await freePort();
      let error: unknown;
      try {
        await startGateway({ listenHost: '127.0.0.1', listenPort: 0, upstreamPort: port, tokenFile: join(root, 'missing'), logger: quiet });
      } catch (e) {
        error = e;
      }
      expect(String(error)).to.match(/token file .*missing.*GATEWAY_TOKEN_FILE/);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe('CDP gateway log volume under repeated failures', function () {
  this.timeout(30_000);

  it('logs one line per kind of repeated failure while /metrics counts every one', async () => {
    const root = await makeTestRoot('gateway-throttle');
    const volume = new SecretVolume(join(root, 'cdp-token'));
    await volume.init('cdp-token-throttle-0123456789');
    const stream = new PassThrough();
    const lines: Array<Record<string, unknown>> = [];
    stream.on('data', (chunk: Buffer) => { for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l)); });
    // Nothing listens upstream: every proxied request fails, as when a browser died under load.
    const gateway = await startGateway({
      listenHost: '127.0.0.1', listenPort: 0, upstreamPort: await freePort(), tokenFile: volume.file, healthTimeoutMs: 500,
      logger: createLogger({ component: 'gateway', format: 'json', stream }),
    });
    try {
      for (let i = 0; i < 20; i++) {
        expect((await fetch(`${gateway.url}/json/version`, { headers: { Authorization: 'Bearer cdp-token-throttle-0123456789' } })).status).to.equal(502);
        expect((await fetch(`${gateway.url}/json/version`, { headers: { Authorization: 'Bearer wrong-token-0123456789' } })).status).to.equal(401);
      }
      await new Promise((r) => setImmediate(r));
      expect(lines.filter((l) => l['message'] === 'Failed to proxy DevTools request')).to.have.length(1);
      expect(lines.filter((l) => l['message'] === 'Refused request without a valid bearer token')).to.have.length(1);
      expect(gateway.metrics.value('cdp_gateway_upstream_errors_total', { operation: 'json' })).to.equal(20);
      expect(gateway.metrics.value('cdp_gateway_auth_failures_total', { kind: 'http', reason: 'invalid' })).to.equal(20);
    } finally {
      await gateway.close();
      await rm(root, { recursive: true, force: true });
    }
  });
});
