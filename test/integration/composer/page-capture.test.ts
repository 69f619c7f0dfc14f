import { expect } from 'chai';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { capturePng, DEFAULT_CAPTURE_LIMITS, pngSize } from '#server/composer/session/page-capture.ts';
import { DEFAULT_PAGE_SETTINGS } from '#server/composer/session/page-settings.ts';
import { PageSession } from '#server/composer/session/page-session.ts';
import { awaitContentSeen, awaitRendered } from '#server/composer/session/readiness-probe.ts';
import { renderExpectationOf } from '#server/composer/session/render-evidence.ts';
import { probeSpecOf } from '#server/composer/session/visit-composition.ts';
import { samePixels } from '#support/png/png-pixels.ts';
import { connectToLocalGateway, type ConnectedLocalGateway } from './composer-fixtures.ts';

/**
 * A lesson-like page that tests what a screenshot prepares: taller than the viewport, a slow fade-in (a finite
 * animation), a spinner (an infinite one) and a focused text field (a blinking caret).
 */
const PAGE = `<!doctype html><html><head><style>
  body { margin: 0; font-family: sans-serif; }
  .fade { animation: fade 60s forwards; }
  @keyframes fade { from { opacity: 0; } to { opacity: 1; } }
  .spinner { width: 40px; height: 40px; border: 6px solid #00643e; border-right-color: transparent; border-radius: 50%; animation: spin 0.7s linear infinite; }
  @keyframes spin { to { transform: rotate(360deg); } }
  section { height: 900px; border-bottom: 4px solid #aa2c23; padding: 16px; }
</style></head><body>
  <section><h1 class="fade">A slow fade-in</h1><div class="spinner"></div><input id="field" value="Texto"></section>
  <section><p>Second screen</p></section>
  <section><p>Third screen</p></section>
</body></html>`;

describe('screenshots through the call\'s CDP session', function () {
  this.timeout(60_000);
  let gateway: ConnectedLocalGateway | undefined;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  before(async () => {
    gateway = await connectToLocalGateway('capture');
    ({ browser } = gateway);
  });
  afterEach(async () => {
    for (const context of contexts.splice(0)) await context.close().catch(() => undefined);
  });
  after(() => gateway?.stop());

  const openPage = async (): Promise<Page> => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    contexts.push(context);
    const page = await context.newPage();
    await page.setContent(PAGE);
    await page.focus('#field');
    return page;
  };

  for (const fullPage of [false, true]) {
    it(`${fullPage ? 'a full-page' : 'a viewport'} PNG has the pixels Playwright's page.screenshot makes of the same page, animations finished and caret hidden`, async () => {
      const theirs = await (await openPage()).screenshot({ type: 'png', fullPage, animations: 'disabled' });
      const page = await openPage();
      const session = await PageSession.attach(page.context(), page);
      try {
        const ours = await capturePng(page, { fullPage, limits: DEFAULT_CAPTURE_LIMITS, session });
        expect(pngSize(ours.bytes)).to.deep.equal(pngSize(theirs));
        expect(pngSize(ours.bytes)?.height).to.equal(fullPage ? 2808 : 800);
        expect(ours.truncated).to.equal(undefined);
        expect(samePixels(ours.bytes, theirs), 'identical pixels').to.equal(true);
        // The fade-in was shown at its end and the spinner stopped: what Playwright's `animations: 'disabled'` does.
        const running = await page.evaluate(() => document.getAnimations().filter((a) => a.playState === 'running').length);
        expect(running).to.equal(0);
      } finally {
        session.detach();
      }
    });
  }

  it('a viewport PNG of a scrolled page has the pixels Playwright\'s page.screenshot makes of it', async () => {
    const scrolled = async () => {
      const page = await openPage();
      await page.evaluate(() => window.scrollTo(0, 700));
      return page;
    };
    const theirs = await (await scrolled()).screenshot({ type: 'png', animations: 'disabled' });
    const page = await scrolled();
    const session = await PageSession.attach(page.context(), page);
    try {
      const ours = await capturePng(page, { fullPage: false, limits: DEFAULT_CAPTURE_LIMITS, session });
      expect(pngSize(ours.bytes)).to.deep.equal({ width: 1280, height: 800 });
      expect(samePixels(ours.bytes, theirs), 'identical pixels').to.equal(true);
    } finally {
      session.detach();
    }
  });

  it('takes a PNG that is over maxScreenshotBytes when encoded for speed again encoded for size, and refuses one over it both ways', async () => {
    const compact = await (await openPage()).screenshot({ type: 'png', animations: 'disabled' });
    const page = await openPage();
    const session = await PageSession.attach(page.context(), page);
    try {
      const fast = await capturePng(page, { fullPage: false, limits: DEFAULT_CAPTURE_LIMITS, session });
      expect(fast.bytes.length, 'encoded for speed: larger than for size').to.be.greaterThan(compact.length);
      const fitted = await capturePng(page, { fullPage: false, limits: { ...DEFAULT_CAPTURE_LIMITS, maxScreenshotBytes: compact.length }, session });
      expect(fitted.bytes.equals(compact), 'the bytes Playwright makes').to.equal(true);
      const refused = await capturePng(page, { fullPage: false, limits: { ...DEFAULT_CAPTURE_LIMITS, maxScreenshotBytes: compact.length - 1 }, session }).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(refused).to.be.instanceOf(Error);
      expect((refused as Error).message).to.contain(`more than the ${compact.length - 1} bytes allowed`);
    } finally {
      session.detach();
    }
  });

  it('cuts a page taller than maxScreenshotHeightPx there and labels it truncated', async () => {
    const page = await openPage();
    const session = await PageSession.attach(page.context(), page);
    try {
      const shot = await capturePng(page, { fullPage: true, limits: { ...DEFAULT_CAPTURE_LIMITS, maxScreenshotHeightPx: 1000 }, session });
      expect(pngSize(shot.bytes)?.height).to.equal(1000);
      expect(shot.truncated).to.deep.equal({ limit: 'maxScreenshotHeightPx', kept: 1000, total: 2808 });
    } finally {
      session.detach();
    }
  });

  it('finds the page again when its document was replaced after the session noted it', async () => {
    const page = await openPage();
    const session = await PageSession.attach(page.context(), page);
    try {
      await session.world();
      await page.setContent('<p>Replaced</p>');
      const shot = await capturePng(page, { fullPage: false, limits: DEFAULT_CAPTURE_LIMITS, session });
      expect(pngSize(shot.bytes)).to.deep.equal({ width: 1280, height: 800 });
    } finally {
      session.detach();
    }
  });

  for (const pageChanges of [false, true]) {
    it(`a capture started before the quiet window is over: its own writes (carets hidden) are not the page changing${pageChanges ? ', a change of the page meanwhile is' : ''}`, async () => {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      contexts.push(context);
      const page = await context.newPage();
      await page.setContent('<!doctype html><html><body><h1>Uma lição</h1><input id="field" value="Texto"><textarea>Mais</textarea></body></html>');
      const session = await PageSession.attach(context, page);
      try {
        // A long window: the content is seen (and marked) long before it is over.
        const spec = probeSpecOf(renderExpectationOf({ metadata: { title: 'Uma lição' }, structure: [] }), { ...DEFAULT_PAGE_SETTINGS, domQuietMs: 400 }, 5_000);
        const { mark } = await awaitContentSeen(session.cdp, spec);
        expect(mark, 'the content was seen before the window was over').to.be.a('number');
        if (pageChanges) await page.evaluate(() => document.body.append('mudou'));
        await capturePng(page, { fullPage: false, limits: DEFAULT_CAPTURE_LIMITS, session });
        const caret = await page.evaluate(() => (document.getElementById('field') as HTMLInputElement).style.getPropertyValue('caret-color'));
        expect(caret, 'the capture hid the caret').to.equal('transparent');
        const result = await awaitRendered(session.cdp, { ...spec, unchangedSince: mark });
        expect(result.outcome).to.equal('ready');
        expect(result.changedSince).to.equal(pageChanges);
      } finally {
        session.detach();
      }
    });
  }
});

