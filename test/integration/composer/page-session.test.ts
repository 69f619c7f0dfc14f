import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startLocalBrowser, type LocalBrowser } from '#browser/local-browser.ts';
import { PageSession } from '#server/composer/session/page-session.ts';
import { installReadinessProbe } from '#server/composer/session/readiness-probe.ts';
import { installComposerSession } from '#server/composer/session/session-seed.ts';
import { startComposerStandin, type ComposerStandin } from '#support/composer-standin/standin.ts';
import { quietLogger } from './composer-fixtures.ts';

/** What the call's own CDP session installs before the app's first script: the sign-in seed and the readiness probe. */
describe('the call\'s CDP session prepares every document of the page before its scripts run (real Chromium)', function () {
  this.timeout(60_000);
  let dir: string;
  let standin: ComposerStandin;
  let local: LocalBrowser;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let session: PageSession;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'composer-mcp-page-session-'));
    standin = await startComposerStandin({ jwtSecret: 'page-session-secret-0123456789abcdef' });
    writeFileSync(join(dir, 'token'), 'page-session-token\n', { mode: 0o600 });
    local = await startLocalBrowser({ tokenFile: join(dir, 'token'), rootDir: dir, allowedOrigins: [standin.appUrl, standin.apiUrl], logger: quietLogger() });
    browser = await chromium.connectOverCDP(local.endpoint, { headers: { Authorization: 'Bearer page-session-token' } });
  });
  beforeEach(async () => {
    context = await browser.newContext();
    page = await context.newPage();
    session = await PageSession.attach(context, page);
  });
  afterEach(async () => {
    session.detach();
    await context.close();
  });
  after(async () => {
    await browser?.close().catch(() => undefined);
    await local?.stop();
    await standin?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('seeds the session into the Composer origin\'s localStorage before the app reads it, and into no other origin', async () => {
    await installComposerSession(session.cdp, standin.appUrl, { 'rdp-composer-user-data': '{"access_token":"look-alike"}' });
    await page.goto(`${standin.appUrl}/#/home`);
    expect(await page.evaluate(() => document.body.dataset['activeProject'])).to.not.equal(undefined);
    expect(await page.evaluate(() => localStorage.getItem('rdp-composer-user-data'))).to.equal('{"access_token":"look-alike"}');
    await page.goto(`${standin.apiUrl}/nothing-here`);
    expect(await page.evaluate(() => localStorage.length), 'the API origin gets nothing').to.equal(0);
  });

  it('installs the readiness probe in its isolated world at the document\'s start, not later at the first wait', async () => {
    await installReadinessProbe(session.cdp);
    await page.goto(`${standin.appUrl}/#/home`);
    const world = await session.world();
    const answer = (await session.cdp.send('Runtime.evaluate', { expression: 'typeof globalThis.__composerMcpReadiness', contextId: world, returnByValue: true })) as { result: { value: string } };
    expect(answer.result.value).to.equal('object');
    const mainWorld = await page.evaluate(() => typeof (globalThis as Record<string, unknown>)['__composerMcpReadiness']);
    expect(mainWorld, 'invisible to the page\'s own scripts').to.equal('undefined');
  });
});
