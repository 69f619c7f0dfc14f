import { expect } from 'chai';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { capturePng, DEFAULT_CAPTURE_LIMITS, pngSize } from '#server/composer/session/page-capture.ts';
import { PageSession } from '#server/composer/session/page-session.ts';
import { samePixels } from '#support/png/png-pixels.ts';
import { connectToLocalGateway, type ConnectedLocalGateway } from './composer-fixtures.ts';

/**
 * A lesson page taller than the viewport whose layout shows its width: a full-width band and a right-aligned box.
 * Chromium draws a classic scrollbar on such a page unless told `--hide-scrollbars`, and a full-page capture
 * (`captureBeyondViewport`) hides it for good on chromium-headless-shell 156: the page is then laid out 15 px wider
 * than before, so the same page gave two different pictures depending on whether a full-page capture came first.
 */
const TALL_LESSON = `<!doctype html><html><head><style>
  body { margin: 0; font-family: sans-serif; }
  header { background: #00643e; color: white; padding: 16px; }
  .right { float: right; width: 200px; height: 60px; background: #aa2c23; }
  section { height: 900px; border-bottom: 4px solid #aa2c23; padding: 16px; }
</style></head><body>
  <header><span class="right"></span><h1>Uma lição longa</h1></header>
  <section><p>Primeira tela</p></section>
  <section><p>Segunda tela</p></section>
</body></html>`;

describe('every capture lays the page out at the same width (the pool\'s Chromium hides scrollbars from the start)', function () {
  this.timeout(60_000);
  let gateway: ConnectedLocalGateway | undefined;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  before(async () => {
    // The gateway's own flags (buildChromiumFlags): what local mode and every browser pod run.
    gateway = await connectToLocalGateway('capture-width');
    ({ browser } = gateway);
  });
  after(async () => {
    for (const context of contexts.splice(0)) await context.close().catch(() => undefined);
    await gateway?.stop();
  });

  const openLesson = async (): Promise<Page> => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    contexts.push(context);
    const page = await context.newPage();
    await page.setContent(TALL_LESSON);
    return page;
  };
  const layoutWidth = (page: Page) => page.evaluate(() => ({
    clientWidth: document.documentElement.clientWidth,
    headerWidth: Math.round(document.querySelector('header')!.getBoundingClientRect().width),
    boxRight: Math.round(document.querySelector('.right')!.getBoundingClientRect().right),
  }));

  it('a viewport picture taken after a full-page one shows the same layout and pixels as one taken before it', async () => {
    const page = await openLesson();
    const session = await PageSession.attach(page.context(), page);
    try {
      const before = await layoutWidth(page);
      const first = await capturePng(page, { fullPage: false, limits: DEFAULT_CAPTURE_LIMITS, session });
      const full = await capturePng(page, { fullPage: true, limits: DEFAULT_CAPTURE_LIMITS, session });
      const after = await layoutWidth(page);
      const again = await capturePng(page, { fullPage: false, limits: DEFAULT_CAPTURE_LIMITS, session });
      expect(after, 'the layout after a full-page capture').to.deep.equal(before);
      // No scrollbar gutter at any time: the page is laid out over the whole 1280 px viewport.
      expect(before).to.deep.equal({ clientWidth: 1280, headerWidth: 1280, boxRight: 1264 });
      expect(pngSize(full.bytes)?.width, 'the full-page picture is as wide as the viewport').to.equal(1280);
      expect(pngSize(first.bytes)).to.deep.equal({ width: 1280, height: 800 });
      expect(samePixels(first.bytes, again.bytes), 'the same viewport pixels before and after the full-page capture').to.equal(true);
    } finally {
      session.detach();
    }
  });

  it('a page whose first capture is full-page looks like one whose first capture is the viewport (no state carried between pages)', async () => {
    const fullFirst = await openLesson();
    const fullSession = await PageSession.attach(fullFirst.context(), fullFirst);
    const plain = await openLesson();
    const plainSession = await PageSession.attach(plain.context(), plain);
    try {
      const plainBefore = await layoutWidth(plain);
      const fullShot = await capturePng(fullFirst, { fullPage: true, limits: DEFAULT_CAPTURE_LIMITS, session: fullSession });
      const fullView = await capturePng(fullFirst, { fullPage: false, limits: DEFAULT_CAPTURE_LIMITS, session: fullSession });
      const plainView = await capturePng(plain, { fullPage: false, limits: DEFAULT_CAPTURE_LIMITS, session: plainSession });
      expect(await layoutWidth(fullFirst)).to.deep.equal(plainBefore);
      expect(await layoutWidth(plain)).to.deep.equal(plainBefore);
      expect(pngSize(fullShot.bytes)?.width).to.equal(1280);
      expect(samePixels(fullView.bytes, plainView.bytes), 'same pixels whichever capture came first').to.equal(true);
    } finally {
      fullSession.detach();
      plainSession.detach();
    }
  });
});
