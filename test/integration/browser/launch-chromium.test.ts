import { expect } from 'chai';
import { readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium as playwright } from 'playwright-core';
import { PipeTransport } from '#browser/cdp/pipe-transport.ts';
import { startLocalBrowser } from '#browser/local-browser.ts';
import { BASE_CHROMIUM_FLAGS } from '#browser/launcher/chromium-args.ts';
import { ChromiumLaunchError, launchChromium, processGroupRunning } from '#browser/launcher/launch-chromium.ts';
import { createLogger } from '#common/logger.ts';
import { eventually, listeningSockets, makeTestRoot, pidAlive, processesInGroup, processesMentioning } from './browser-test-kit.ts';

const quiet = createLogger({ component: 'launcher-test', level: process.env['LOG_LEVEL'] ?? 'error' });

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}

/** One CDP round trip over a pipe transport (nothing else uses it in these tests). */
function pipeCall(transport: PipeTransport, method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<Record<string, unknown>> {
  const id = Math.floor(Math.random() * 1e9);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${method} timed out`)), 10_000);
    const onMessage = (text: string): void => {
      const msg = JSON.parse(text) as { id?: number; result?: Record<string, unknown>; error?: { message: string } };
      if (msg.id !== id) return;
      transport.off('message', onMessage);
      clearTimeout(timer);
      if (msg.error) reject(new Error(msg.error.message));
      else resolve(msg.result ?? {});
    };
    transport.on('message', onMessage);
    transport.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
  });
}

describe('launchChromium', function () {
  this.timeout(60_000);
  let root: string;

  beforeEach(async () => {
    root = await makeTestRoot('launcher');
  });
  afterEach(async () => {
    const left = await processesMentioning(root);
    for (const pid of left) process.kill(pid, 'SIGKILL');
    await rm(root, { recursive: true, force: true });
    expect(left, 'processes left from this test').to.deep.equal([]);
  });

  it('starts a browser that answers on its DevTools pipe and listens on no port, with its own HOME, profile and TMPDIR, and leaves nothing after stop()', async function () {
    this.timeout(20_000);
    const started = performance.now();
    const browser = await launchChromium({ flags: BASE_CHROMIUM_FLAGS, rootDir: root, logger: quiet });
    const version = await pipeCall(browser.transport, 'Browser.getVersion');
    const coldStartMs = performance.now() - started;
    expect(String(version['product'])).to.match(/^HeadlessChrome\//);
    expect(browser.userDataDir.startsWith(root)).to.equal(true);
    const env = (await (await import('node:fs/promises')).readFile(`/proc/${browser.pid}/environ`, 'utf8')).split('\0');
    expect(env).to.include(`HOME=${join(browser.baseDir, 'home')}`);
    expect(env).to.include(`TMPDIR=${join(browser.baseDir, 'tmp')}`);
    expect(await exists(join(browser.userDataDir, 'DevToolsActivePort')), 'no DevToolsActivePort file').to.equal(false);

    // Renderers and helpers run in the browser's process group: open pages so there are some.
    const { browserContextId } = await pipeCall(browser.transport, 'Target.createBrowserContext');
    await pipeCall(browser.transport, 'Target.createTarget', { url: 'about:blank', browserContextId });
    await pipeCall(browser.transport, 'Target.createTarget', { url: 'data:text/html,<p>x</p>', browserContextId });
    const group = await processesInGroup(browser.pid);
    expect(group.length, 'browser plus helper processes').to.be.at.least(3);
    expect(await listeningSockets(group), 'TCP ports Chromium listens on').to.deep.equal([]);

    await browser.stop();
    expect(await pidAlive(browser.pid)).to.equal(false);
    expect(await processesInGroup(browser.pid), 'running processes in the browser group').to.deep.equal([]);
    expect(await processGroupRunning(browser.pid)).to.equal(false);
    for (const pid of group) expect(await pidAlive(pid), `process ${pid}`).to.equal(false);
    expect(await exists(browser.baseDir), 'browser dir removed').to.equal(false);
    expect([0, 143, null], 'exit code after SIGTERM').to.include(await browser.exited);
    expect(browser.transport.closed, 'the pipe reports closed').to.be.a('string');
    await browser.stop(); // idempotent
    expect(coldStartMs).to.be.below(15_000);
  });

  it('cleans up by itself after the browser dies without stop()', async function () {
    this.timeout(20_000);
    const browser = await launchChromium({ flags: BASE_CHROMIUM_FLAGS, rootDir: root, logger: quiet });
    process.kill(browser.pid, 'SIGKILL');
    expect(await browser.exited).to.equal(null);
    expect(await eventually(async () => !(await exists(browser.baseDir)), 5000), 'browser dir removed').to.equal(true);
    expect(await eventually(async () => (await processesInGroup(browser.pid)).length === 0, 5000), 'helpers gone').to.equal(true);
    await browser.stop();
  });

  it('escalates to SIGKILL when the browser ignores SIGTERM (stopped process)', async function () {
    this.timeout(20_000);
    const browser = await launchChromium({ flags: BASE_CHROMIUM_FLAGS, rootDir: root, logger: quiet, stopTimeoutMs: 500 });
    process.kill(browser.pid, 'SIGSTOP');
    const started = Date.now();
    await browser.stop();
    expect(Date.now() - started).to.be.below(5000);
    expect(await pidAlive(browser.pid)).to.equal(false);
    expect(await processesInGroup(browser.pid)).to.deep.equal([]);
    expect(await exists(browser.baseDir)).to.equal(false);
  });

  it('fails with a clear error and leaves nothing when the binary is missing or exits at once', async function () {
    this.timeout(20_000);
    let error: unknown;
    try {
      await launchChromium({ flags: BASE_CHROMIUM_FLAGS, rootDir: root, executablePath: join(root, 'no-such-chromium'), logger: quiet });
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(ChromiumLaunchError);
    expect(String(error)).to.match(/no-such-chromium.*ENOENT.*CHROMIUM_PATH/);

    expect((await readdir(root)).filter((n) => n.startsWith('chromium-')), 'browser dirs removed').to.deep.equal([]);
  });
});

describe('startLocalBrowser', function () {
  this.timeout(60_000);

  it('runs Chromium as the child of its own gateway on loopback, with no port but the gateway\'s, and stops both', async function () {
    this.timeout(30_000);
    const root = await makeTestRoot('local-browser');
    const tokenFile = join(root, 'token');
    await writeFile(tokenFile, 'local-token-0123456789\n');
    const local = await startLocalBrowser({ tokenFile, rootDir: root, allowedOrigins: [], logger: quiet });
    try {
      expect(local.endpoint).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(local.id).to.match(/^local-/);
      expect(local.chromiumPid).to.equal(local.host.pid);
      expect((await fetch(`${local.endpoint}/healthz`)).status).to.equal(200);
      expect((await fetch(`${local.endpoint}/json/version`)).status).to.equal(401);
      const cdp = await playwright.connectOverCDP(local.endpoint, { headers: { Authorization: 'Bearer local-token-0123456789' }, timeout: 10_000 });
      const context = await cdp.newContext();
      const page = await context.newPage();
      await page.setContent('<p>ok</p>');
      expect(await page.textContent('p')).to.equal('ok');
      // The gateway process holds the only listening sockets: its own port and the egress proxy on 127.0.0.1.
      const mine = await listeningSockets([process.pid]);
      expect(mine.map((l) => l.port)).to.include.members([Number(new URL(local.endpoint).port), local.host.proxy.port]);
      expect(mine.find((l) => l.port === local.host.proxy.port)?.address).to.equal('127.0.0.1');
      expect(await listeningSockets(await processesInGroup(local.chromiumPid)), 'ports Chromium listens on').to.deep.equal([]);
      await cdp.close();
    } finally {
      await local.stop();
    }
    expect(await pidAlive(local.chromiumPid)).to.equal(false);
    expect(await processesMentioning(root)).to.deep.equal([]);
    expect(await processesInGroup(local.chromiumPid)).to.deep.equal([]);
    let refused = false;
    await fetch(`${local.endpoint}/healthz`).catch(() => (refused = true));
    expect(refused, 'gateway closed').to.equal(true);
    await rm(root, { recursive: true, force: true });
  });

  it('ends connected CDP clients when stopped, so no client hangs on a browser that is gone', async function () {
    this.timeout(30_000);
    const root = await makeTestRoot('local-browser-stop');
    const tokenFile = join(root, 'token');
    await writeFile(tokenFile, 'local-token-0123456789\n');
    const local = await startLocalBrowser({ tokenFile, rootDir: root, allowedOrigins: [], logger: quiet });
    try {
      const cdp = await playwright.connectOverCDP(local.endpoint, { headers: { Authorization: 'Bearer local-token-0123456789' }, timeout: 10_000 });
      const disconnected = new Promise<void>((resolve) => cdp.once('disconnected', () => resolve()));
      const context = await cdp.newContext();
      await context.newPage();
      expect(local.gateway.metrics.value('cdp_gateway_websockets_open')).to.equal(1);
      const started = Date.now();
      await local.stop();
      await disconnected;
      expect(Date.now() - started).to.be.below(5000);
      expect(cdp.isConnected()).to.equal(false);
    } finally {
      await local.stop();
      await rm(root, { recursive: true, force: true });
    }
    expect(await processesMentioning(root)).to.deep.equal([]);
  });

  it('fails with a clear error and leaves nothing when Chromium exits before answering on its pipe', async function () {
    this.timeout(20_000);
    const root = await makeTestRoot('local-browser-exits');
    const tokenFile = join(root, 'token');
    await writeFile(tokenFile, 'local-token-0123456789\n');
    const fake = join(root, 'exits-at-once.sh');
    await writeFile(fake, '#!/bin/sh\nexit 3\n', { mode: 0o755 });
    let error: unknown;
    try {
      await startLocalBrowser({ tokenFile, rootDir: root, allowedOrigins: [], executablePath: fake, logger: quiet });
    } catch (e) {
      error = e;
    }
    expect(String(error)).to.match(/did not answer on its DevTools pipe: .*exited with code 3 before it answered/);
    expect((await readdir(root)).filter((n) => n.startsWith('chromium-')), 'browser dirs removed').to.deep.equal([]);
    expect(await processesMentioning(root)).to.deep.equal([]);
    await rm(root, { recursive: true, force: true });
  });

  it('refuses locked Chromium flags and bad allowed origins before starting anything', async function () {
    const root = await makeTestRoot('local-browser-refuse');
    const tokenFile = join(root, 'token');
    await writeFile(tokenFile, 'local-token-0123456789\n');
    try {
      for (const [options, message] of [
        [{ extraArgs: ['--remote-debugging-port=9222'] }, /--remote-debugging-port may not be set/],
        [{ extraArgs: ['--proxy-server=direct://'] }, /--proxy-server may not be set/],
        [{ allowedOrigins: ['https://*.example.com'] }, /wildcard/],
      ] as const) {
        let error: unknown;
        try {
          await startLocalBrowser({ tokenFile, rootDir: root, allowedOrigins: [], logger: quiet, ...options } as Parameters<typeof startLocalBrowser>[0]);
        } catch (e) {
          error = e;
        }
        expect(String(error)).to.match(message);
      }
      expect((await readdir(root)).filter((n) => n.startsWith('chromium-'))).to.deep.equal([]);
      expect(await processesMentioning(root)).to.deep.equal([]);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('removes what browsers killed with their gateway left behind in its root dir, and keeps a live browser\'s directory', async function () {
    this.timeout(30_000);
    const root = await makeTestRoot('local-browser-stale');
    const tokenFile = join(root, 'token');
    await writeFile(tokenFile, 'local-token-0123456789\n');
    const { mkdir } = await import('node:fs/promises');
    const { spawnSync } = await import('node:child_process');
    const deadPid = spawnSync('true').pid!;
    await mkdir(join(root, 'chromium-dead', 'profile'), { recursive: true });
    await writeFile(join(root, 'chromium-dead', 'browser.pid'), String(deadPid));
    await mkdir(join(root, 'chromium-no-pid', 'profile'), { recursive: true });
    const first = await startLocalBrowser({ tokenFile, rootDir: root, allowedOrigins: [], logger: quiet });
    try {
      const entries = await readdir(root);
      expect(entries).to.not.include.members(['chromium-dead']);
      expect(entries).to.not.include('chromium-no-pid');
      const firstDir = entries.find((n) => n.startsWith('chromium-'))!;
      const second = await startLocalBrowser({ tokenFile, rootDir: root, allowedOrigins: [], logger: quiet });
      try {
        expect(await exists(join(root, firstDir)), 'the running browser\'s directory is kept').to.equal(true);
        expect((await fetch(`${first.endpoint}/healthz`)).status).to.equal(200);
      } finally {
        await second.stop();
      }
    } finally {
      await first.stop();
      await rm(root, { recursive: true, force: true });
    }
  });
});
