import { expect } from 'chai';
import type { BrowserRouter } from '#server/browsers/router.ts';
import { HttpStorageClient } from '#server/composer/storage-client.ts';
import { openCompositionTool } from '#server/tools/open-composition.ts';
import type { ComposerServices, ComposerSettings } from '#server/tools/services.ts';
import type { ToolDefinition } from '#server/tools/tool-definition.ts';
import type { ComposerStandin } from '#support/composer-standin/standin.ts';
import { callTool, composerServices, everyWidgetComposition, type StandinWithLocalBrowsers, startStandinWithLocalBrowsers } from './composer-fixtures.ts';
import { isRedAt, onceLessonSettled, saidAt } from './early-capture-attacks.ts';

const SECRET = 'early-capture-scroll-secret-0123456789';
const open = openCompositionTool as unknown as ToolDefinition<ComposerServices>;

/**
 * Once the lesson is there with its images and fonts loaded, the page puts a red band 1000 px down (below the first
 * screen: a DOM change, after which a capture may start early), then `afterMs` later scrolls (`how`: the window, or
 * the scrolling element directly) by 500 px, which brings the band into the first screen without changing the DOM.
 * It says when it scrolled in a console error the visit reports (`scrolled at <epoch ms>`).
 */
const scrollAfterLesson = (afterMs: number, how: 'window' | 'element') => onceLessonSettled(`
      var band = document.createElement('div');
      band.setAttribute('style', 'position:absolute;left:0;top:1000px;width:100%;height:200px;background:#ff0000;z-index:2147483647');
      document.body.appendChild(band);
      setTimeout(function () {
        ${how === 'window' ? 'window.scrollBy(0, 500);' : 'document.scrollingElement.scrollTop += 500;'}
        console.error('scrolled at ' + Date.now());
      }, ${afterMs});`);

/** Whether the picture shows the red band 600 px down its first screen (where a 500 px scroll brings it). */
const showsBand = (png: Buffer) => isRedAt(png, () => [16, 600]);

const scrolledAt = (report: { consoleErrors: string[] }) => saidAt(report, 'scrolled');

/**
 * A scroll changes what the first screen shows without changing the DOM. A page that scrolls inside the quiet window,
 * after a capture started early, must not get a ready result with the picture of the screen before its scroll.
 */
describe('open: a page that scrolls while a capture started early is taken (real Chromium)', function () {
  this.timeout(120_000);
  let standin: ComposerStandin;
  let started: StandinWithLocalBrowsers | undefined;
  let router: BrowserRouter;
  let settings: ComposerSettings;

  before(async () => {
    started = await startStandinWithLocalBrowsers({ jwtSecret: SECRET, router: { healthIntervalMs: 2_000 } });
    ({ standin, router, settings } = started);
  });
  after(() => started?.stop());
  afterEach(() => standin.setAppScript(undefined));

  const services = (page: Record<string, unknown>) => composerServices({ settings: { ...settings, page: { readyTimeoutMs: 8_000, ...page } } as ComposerSettings, storage: new HttpStorageClient(settings), browsers: router });

  for (const how of ['window', 'element'] as const) {
    it(`never answers ready with the picture of the screen before a scroll (${how}) made inside the quiet window`, async () => {
      // A 300 ms window and a scroll 150 ms into it: long after a capture started early has its pixels, long before
      // readiness is decided (the window is counted from the band's insertion; a scroll does not restart it).
      const { uid } = await new HttpStorageClient(settings).upload(everyWidgetComposition('Rola na janela'));
      for (let i = 0; i < 3; i++) {
        standin.setAppScript(scrollAfterLesson(150, how));
        const { result } = await callTool(open, { uid }, services({ domQuietMs: 300 }));
        const report = result.structuredContent as { ready: boolean; timings: { readyAt: number }; consoleErrors: string[] };
        const image = result.content.find((c) => c.type === 'image') as { data: string };
        expect(report.ready).to.equal(true);
        const at = scrolledAt(report);
        expect(at, 'the page scrolled before readiness was decided').to.be.a('number').and.lessThan(report.timings.readyAt);
        expect(showsBand(Buffer.from(image.data, 'base64')), 'the picture shows the screen after the scroll').to.equal(true);
      }
    });
  }
});
