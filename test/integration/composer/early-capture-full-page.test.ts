import { expect } from 'chai';
import type { BrowserRouter } from '#server/browsers/router.ts';
import { HttpStorageClient } from '#server/composer/storage-client.ts';
import { previewCompositionTool } from '#server/tools/preview-composition.ts';
import type { ComposerServices, ComposerSettings } from '#server/tools/services.ts';
import type { ToolDefinition } from '#server/tools/tool-definition.ts';
import type { ComposerStandin } from '#support/composer-standin/standin.ts';
import { callTool, composerServices, everyWidgetComposition, type StandinWithLocalBrowsers, startStandinWithLocalBrowsers } from './composer-fixtures.ts';
import { isRedAt, redSquareAfterLesson, saidAt } from './early-capture-attacks.ts';

const SECRET = 'early-capture-full-page-secret-0123456789';
const preview = previewCompositionTool as unknown as ToolDefinition<ComposerServices>;

/**
 * The page changes `afterMs` after the lesson is there — inside the quiet window, while the full-page capture started
 * then is being taken — by a red square at the top right corner of the document (outside the lesson's column, which
 * stays visible). Readiness waits for the DOM to be quiet after that change, so a result that says ready was decided
 * after it: its picture must show the square.
 */
const changeAfterLesson = (afterMs: number) => redSquareAfterLesson(afterMs, 'position:absolute;top:0;right:0');

/** Whether the pixel near the top right corner of a PNG is the red square's. */
const showsRedSquare = (png: Buffer) => isRedAt(png, (width) => [width - 16, 16]);

/** When the page said it changed, epoch ms; undefined when it did not before the answer. */
const changedAt = (report: { consoleErrors: string[] }) => saidAt(report, 'changed');

/**
 * The preview tool's full-page PNG is captured during the readiness window (once the lesson is seen, fonts and
 * images settled) to save time, as the open tool's is. A page that changes right after the lesson appears — during
 * that capture, which takes longer than the window — must not get a ready result with the picture from before its
 * change; a page that stays still gets its picture as it was at ready.
 */
describe('preview: a full-page PNG captured during the quiet window is used only for a page that stayed still (real Chromium)', function () {
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

  /** Previews `uid` as a full-page PNG with the page script changing `afterMs` after the lesson is there. */
  const previewChanging = async (uid: string, afterMs: number, page: Record<string, unknown>) => {
    standin.setAppScript(changeAfterLesson(afterMs));
    const { result } = await callTool(preview, { uid, format: 'png', fullPage: true }, services(page));
    const report = result.structuredContent as { ready: boolean; timings: { readyAt: number }; consoleErrors: string[]; preview: { height?: number } };
    const image = result.content.find((c) => c.type === 'image') as { data: string } | undefined;
    expect(image, 'the preview returned a PNG').to.not.equal(undefined);
    return { report, png: Buffer.from(image!.data, 'base64'), changedAt: changedAt(report) };
  };

  it('never answers ready with the full-page picture of a capture started before a change made inside the quiet window', async () => {
    // A 300 ms window and a change 150 ms into it: long after a full-page capture started early has its pixels, long
    // before readiness can be decided (300 ms after that change). Used without checking that the page stayed still,
    // the early picture would be the page without the square, labelled ready.
    const { uid } = await new HttpStorageClient(settings).upload(everyWidgetComposition('Muda na janela longa da prévia'));
    for (let i = 0; i < 3; i++) {
      const { report, png, changedAt: at } = await previewChanging(uid, 150, { domQuietMs: 300 });
      expect(report.ready, 'the page is quiet after its one change').to.equal(true);
      expect(at, 'the page changed before readiness was decided').to.be.a('number').and.lessThan(report.timings.readyAt);
      expect(report.preview.height, 'a full-page picture, taller than the viewport').to.be.greaterThan(800);
      expect(showsRedSquare(png), 'the picture shows the page after its change').to.equal(true);
    }
  });

  it('never answers ready with a full-page picture from before a change at any moment of the default 30 ms window', async () => {
    const { uid } = await new HttpStorageClient(settings).upload(everyWidgetComposition('Muda na janela da prévia'));
    const stale: string[] = [];
    let changedBeforeReady = 0;
    for (const afterMs of [0, 6, 12, 18, 22, 26, 30, 34, 40, 60, 80]) {
      const { report, png, changedAt: at } = await previewChanging(uid, afterMs, {});
      expect(report.ready, 'the page is quiet after its one change').to.equal(true);
      // A change after readiness was decided need not be in the picture; one before it must (2 ms for the clocks).
      if (at === undefined || at >= report.timings.readyAt - 2) continue;
      changedBeforeReady++;
      if (!showsRedSquare(png)) stale.push(`a change ${afterMs} ms after the lesson, ${Math.round(report.timings.readyAt - at)} ms before ready`);
    }
    expect(changedBeforeReady, 'some changes fell inside the window (else this test proves nothing)').to.be.greaterThan(0);
    expect(stale, 'ready results whose picture is from before the page changed').to.deep.equal([]);
  });

  it('answers a still page ready with the picture at ready, without the square', async () => {
    const { uid } = await new HttpStorageClient(settings).upload(everyWidgetComposition('Página parada'));
    const { result } = await callTool(preview, { uid, format: 'png', fullPage: true }, services({}));
    const report = result.structuredContent as { ready: boolean; preview: { height?: number } };
    const image = result.content.find((c) => c.type === 'image') as { data: string };
    expect(report.ready).to.equal(true);
    expect(report.preview.height).to.be.greaterThan(800);
    expect(showsRedSquare(Buffer.from(image.data, 'base64'))).to.equal(false);
  });
});
