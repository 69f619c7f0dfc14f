import { expect } from 'chai';
import { readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium as playwright } from 'playwright-core';
import { startLocalBrowser } from '#browser/local-browser.ts';
import { ChromiumLaunchError, launchChromium, processGroupRunning } from '#browser/launcher/launch-chromium.ts';
import { createLogger } from '#common/logger.ts';
import { eventually, makeTestRoot, pidAlive, processesInGroup, processesMentioning } from './browser-test-kit.ts';

const quiet = createLogger({ component: 'launcher-test', level: process.env['LOG_LEVEL'] ?? 'error' });

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
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

  it('starts a browser whose DevTools answers on loopback, with its own HOME, profile and TMPDIR, and leaves nothing after stop()', async function () {
    this.timeout(20_000);
    const started = performance.now();
    const browser = await launchChromium({ rootDir: root, logger: quiet });
    const coldStartMs = performance.now() - started;
    expect(browser.port).to.be.above(0);
    expect(browser.userDataDir.startsWith(root)).to.equal(true);
    const res = await fetch(`http://127.0.0.1:${browser.port}/json/version`);
    expect(((await res.json()) as { Browser: string }).Browser).to.match(/^HeadlessChrome\//);
    const environ = (await import('node:fs/promises')).readFile(`/proc/${browser.pid}/environ`, 'utf8');
    const env = (await environ).split('\0');
    expect(env).to.include(`HOME=${join(browser.baseDir, 'home')}`);
    expect(env).to.include(`TMPDIR=${join(browser.baseDir, 'tmp')}`);

    // Renderers and helpers run in the browser's process group: open pages so there are some.
    const cdp = await playwright.connectOverCDP(`http://127.0.0.1:${browser.port}`, { timeout: 10_000 });
    const context = await cdp.newContext();
    await Promise.all([context.newPage(), context.newPage()]);
    const group = await processesInGroup(browser.pid);
    expect(group.length, 'browser plus helper processes').to.be.at.least(3);
    await cdp.close();

    await browser.stop();
    expect(await pidAlive(browser.pid)).to.equal(false);
    expect(await processesInGroup(browser.pid), 'running processes in the browser group').to.deep.equal([]);
    expect(await processGroupRunning(browser.pid)).to.equal(false);
    for (const pid of group) expect(await pidAlive(pid), `process ${pid}`).to.equal(false);
    expect(await exists(browser.baseDir), 'browser dir removed').to.equal(false);
    expect([0, 143, null], "exit code after SIGTERM").to.include(await browser.exited);
    await browser.stop(); // idempotent
    expect(coldStartMs).to.be.below(15_000);
  });

  it('listens on a fixed port when asked', async function () {
    this.timeout(20_000);
    const probe = await launchChromium({ rootDir: root, logger: quiet });
    const port = probe.port; // a port that was free a moment ago
    await probe.stop();
    const browser = await launchChromium({ rootDir: root, port, logger: quiet });
    try {
      expect(browser.port).to.equal(port);
      expect((await fetch(`http://127.0.0.1:${port}/json/version`)).status).to.equal(200);
    } finally {
      await browser.stop();
    }
  });

  it('cleans up by itself after the browser dies without stop()', async function () {
    this.timeout(20_000);
    const browser = await launchChromium({ rootDir: root, logger: quiet });
    process.kill(browser.pid, 'SIGKILL');
    expect(await browser.exited).to.equal(null);
    expect(await eventually(async () => !(await exists(browser.baseDir)), 5000), 'browser dir removed').to.equal(true);
    expect(await eventually(async () => (await processesInGroup(browser.pid)).length === 0, 5000), 'helpers gone').to.equal(true);
    await browser.stop();
  });

  it('escalates to SIGKILL when the browser ignores SIGTERM (stopped process)', async function () {
    this.timeout(20_000);
    const browser = await launchChromium({ rootDir: root, logger: quiet, stopTimeoutMs: 500 });
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
      await launchChromium({ rootDir: root, executablePath: join(root, 'no-such-chromium'), logger: quiet });
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(ChromiumLaunchError);
    expect(String(error)).to.match(/no-such-chromium.*ENOENT.*CHROMIUM_PATH/);

    const fake = join(root, 'exits-at-once.sh');
    await writeFile(fake, '#!/bin/sh\nexit 3\n', { mode: 0o755 });
    error = undefined;
    try {
      await launchChromium({ rootDir: root, executablePath: fake, logger: quiet });
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(ChromiumLaunchError);
    expect(String(error)).to.match(/exited with code 3 .*before DevTools answered/);
    expect((await readdir(root)).filter((n) => n.startsWith('chromium-')), 'browser dirs removed').to.deep.equal([]);
  });
});

describe('startLocalBrowser', function () {
  this.timeout(60_000);

  it('runs Chromium behind its own gateway on loopback and stops both', async function () {
    this.timeout(30_000);
    const root = await makeTestRoot('local-browser');
    const tokenFile = join(root, 'token');
    await writeFile(tokenFile, 'local-token-0123456789\n');
    const local = await startLocalBrowser({ tokenFile, rootDir: root, logger: quiet });
    try {
      expect(local.endpoint).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(local.id).to.match(/^local-/);
      expect(local.chromiumPid).to.equal(local.chromium.pid);
      expect((await fetch(`${local.endpoint}/healthz`)).status).to.equal(200);
      expect((await fetch(`${local.endpoint}/json/version`)).status).to.equal(401);
      const cdp = await playwright.connectOverCDP(local.endpoint, { headers: { Authorization: 'Bearer local-token-0123456789' }, timeout: 10_000 });
      const context = await cdp.newContext();
      const page = await context.newPage();
      await page.setContent('<p>ok</p>');
      expect(await page.textContent('p')).to.equal('ok');
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
    const local = await startLocalBrowser({ tokenFile, rootDir: root, logger: quiet });
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
});
