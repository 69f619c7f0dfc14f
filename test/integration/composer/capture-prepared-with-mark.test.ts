import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startLocalBrowser, type LocalBrowser } from '#browser/local-browser.ts';
import { isCaptureGeometry } from '#server/composer/session/capture-geometry.ts';
import { capturePng, capturePreparationSource, DEFAULT_CAPTURE_LIMITS } from '#server/composer/session/page-capture.ts';
import { DEFAULT_PAGE_SETTINGS } from '#server/composer/session/page-settings.ts';
import { PageSession } from '#server/composer/session/page-session.ts';
import { awaitContentSeen, awaitRendered } from '#server/composer/session/readiness-probe.ts';
import { renderExpectationOf } from '#server/composer/session/render-evidence.ts';
import { probeSpecOf } from '#server/composer/session/visit-composition.ts';
import { samePixels } from '#support/png/png-pixels.ts';
import { quietLogger } from './composer-fixtures.ts';

/** A lesson-like page with what a capture prepares: a running animation, a spinner and a focused field (a caret). */
const PAGE = `<!doctype html><html><head><style>
  body { margin: 0; font-family: sans-serif; }
  .fade { animation: fade 60s forwards; }
  @keyframes fade { from { opacity: 0; } to { opacity: 1; } }
  .spinner { width: 40px; height: 40px; border: 6px solid #00643e; border-right-color: transparent; border-radius: 50%; animation: spin 0.7s linear infinite; }
  @keyframes spin { to { transform: rotate(360deg); } }
  section { height: 900px; padding: 16px; }
</style></head><body>
  <section><h1>Uma lição</h1><p class="fade">Aparece devagar</p><div class="spinner"></div><input id="field" value="Texto"></section>
  <section><p>Segunda tela</p></section>
</body></html>`;

/**
 * The capture started at the probe's content-seen mark has its page prepared and measured by the probe in the same
 * round trip (ADR 32): the same pixels as Playwright's page.screenshot, the preparation's own writes not counted as
 * the page changing, a change of the page after the mark still counted, and a preparation that fails leaving the
 * mark intact.
 */
describe('a capture prepared by the probe with its content-seen mark (real Chromium)', function () {
  this.timeout(60_000);
  let dir: string;
  let local: LocalBrowser;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'composer-mcp-capture-mark-'));
    writeFileSync(join(dir, 'token'), 'capture-mark-token\n', { mode: 0o600 });
    local = await startLocalBrowser({ tokenFile: join(dir, 'token'), rootDir: dir, allowedOrigins: [], logger: quietLogger() });
    browser = await chromium.connectOverCDP(local.endpoint, { headers: { Authorization: 'Bearer capture-mark-token' } });
  });
  afterEach(async () => {
    for (const context of contexts.splice(0)) await context.close().catch(() => undefined);
  });
  after(async () => {
    await browser?.close().catch(() => undefined);
    await local?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const openPage = async (): Promise<Page> => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    contexts.push(context);
    const page = await context.newPage();
    await page.setContent(PAGE);
    await page.focus('#field');
    return page;
  };
  // A long window: the content is seen (and marked) long before it is over.
  const spec = probeSpecOf(renderExpectationOf({ metadata: { title: 'Uma lição' }, structure: [] }), { ...DEFAULT_PAGE_SETTINGS, domQuietMs: 400 }, 5_000);

  for (const fullPage of [false, true]) {
    it(`${fullPage ? 'a full-page' : 'a viewport'} PNG from the probe's preparation has Playwright's pixels, and the preparation is not the page changing`, async () => {
      const theirs = await (await openPage()).screenshot({ type: 'png', fullPage, animations: 'disabled' });
      const page = await openPage();
      const session = await PageSession.attach(page.context(), page);
      try {
        const seen = await awaitContentSeen(session.cdp, spec, undefined, capturePreparationSource());
        expect(seen.mark, 'the content was seen before the window was over').to.be.a('number');
        expect(isCaptureGeometry(seen.then), 'the probe answered the geometry with its mark').to.equal(true);
        const caret = await page.evaluate(() => (document.getElementById('field') as HTMLInputElement).style.getPropertyValue('caret-color'));
        expect(caret, 'the probe hid the caret').to.equal('transparent');
        session.notePreparedCapture(seen.then as Parameters<PageSession['notePreparedCapture']>[0]);
        const ours = await capturePng(page, { fullPage, limits: DEFAULT_CAPTURE_LIMITS, session });
        expect(session.takePreparedCapture(), 'the capture took the preparation').to.equal(undefined);
        expect(samePixels(ours.bytes, theirs), 'identical pixels').to.equal(true);
        const result = await awaitRendered(session.cdp, { ...spec, unchangedSince: seen.mark });
        expect(result.outcome).to.equal('ready');
        expect(result.changedSince, 'the preparation\'s own writes are not a change of the page').to.equal(false);
      } finally {
        session.detach();
      }
    });
  }

  it('still counts a change of the page made after the mark', async () => {
    const page = await openPage();
    const session = await PageSession.attach(page.context(), page);
    try {
      const seen = await awaitContentSeen(session.cdp, spec, undefined, capturePreparationSource());
      expect(seen.mark).to.be.a('number');
      await page.evaluate(() => document.body.append('mudou'));
      const result = await awaitRendered(session.cdp, { ...spec, unchangedSince: seen.mark });
      expect(result.changedSince).to.equal(true);
    } finally {
      session.detach();
    }
  });

  it('answers the mark without a preparation when the preparation fails (the capture then prepares on its own)', async () => {
    const page = await openPage();
    const session = await PageSession.attach(page.context(), page);
    try {
      const seen = await awaitContentSeen(session.cdp, spec, undefined, 'async function () { throw new Error("no"); }');
      expect(seen.mark).to.be.a('number');
      expect(seen.then).to.equal(undefined);
      expect(session.takePreparedCapture()).to.equal(undefined);
      const shot = await capturePng(page, { fullPage: false, limits: DEFAULT_CAPTURE_LIMITS, session });
      expect(shot.bytes.length).to.be.greaterThan(0);
    } finally {
      session.detach();
    }
  });
});
