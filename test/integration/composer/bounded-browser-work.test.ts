import { expect } from 'chai';
import type { BrowserRouter } from '#server/browsers/router.ts';
import { pngSize } from '#server/composer/session/page-capture.ts';
import { DOM_READ_LIMITS } from '#server/composer/session/visit-composition.ts';
import { openCompositionTool } from '#server/tools/open-composition.ts';
import { previewCompositionTool } from '#server/tools/preview-composition.ts';
import type { BrowserLeaser, ComposerServices, ComposerSettings } from '#server/tools/services.ts';
import type { ToolDefinition } from '#server/tools/tool-definition.ts';
import type { ComposerStandin } from '#support/composer-standin/standin.ts';
import { APP_SCRIPTS } from '#support/hostile/hostile-compositions.ts';
import { pdfText } from '#support/pdf/pdf-text.ts';
import { callTool, composerServices, errorOf, everyWidgetComposition, type StandinWithLocalBrowsers, startStandinWithLocalBrowsers } from './composer-fixtures.ts';

const SECRET = 'bounded-work-secret-0123456789abcdef';
const DEADLINE_MS = 4_000;
const asTool = (tool: unknown) => tool as ToolDefinition<ComposerServices>;
const open = asTool(openCompositionTool);
const preview = asTool(previewCompositionTool);

describe('browser work is bounded: a lease deadline, capture limits, crashed renderers', function () {
  this.timeout(90_000);
  let standin: ComposerStandin;
  let started: StandinWithLocalBrowsers | undefined;
  let router: BrowserRouter;
  let settings: ComposerSettings;
  /** The router with a lease deadline of `deadlineMs` for every lease taken through it. */
  const withDeadline = (deadlineMs: number): BrowserLeaser => ({ stats: () => router.stats(), withLease: (work, options) => router.withLease(work, { ...options, deadlineMs }) });
  const services = (overrides: Partial<ComposerSettings> = {}, browsers: BrowserLeaser = router) => composerServices({ settings: { ...settings, ...overrides }, browsers });
  const normalUid = async () => {
    const { HttpStorageClient } = await import('#server/composer/storage-client.ts');
    return (await new HttpStorageClient(settings).upload(everyWidgetComposition('Depois'))).uid;
  };

  before(async () => {
    started = await startStandinWithLocalBrowsers({ jwtSecret: SECRET, leasesAllowOnlyStandinOrigins: true, router: { healthIntervalMs: 2_000 } });
    ({ standin, router, settings } = started);
  });
  afterEach(() => {
    standin.setAppScript(undefined);
    standin.resetFaults();
  });
  after(() => started?.stop());

  it('a page spinning in while(true){} frees its lease and browser slot at the deadline, and the browser serves the next call', async () => {
    const uid = await normalUid();
    standin.setAppScript(APP_SCRIPTS.spin);
    // The lesson renders after the spin begins (readiness no longer waits 250 ms of network idle, so a page that
    // renders at once would be captured before its spin).
    standin.setFaults({ render: { delayMs: 2_000 } });
    const started = Date.now();
    const { result } = await callTool(open, { uid }, services({}, withDeadline(DEADLINE_MS)));
    const elapsed = Date.now() - started;
    expect(errorOf(result)?.code, JSON.stringify(result.content)).to.equal('UPSTREAM_TIMEOUT');
    expect(errorOf(result)?.message).to.contain(`deadline of ${DEADLINE_MS} ms`);
    expect(errorOf(result)?.fix).to.contain('browsers.leaseDeadlineMs');
    expect(elapsed, 'answered within the deadline and a small margin').to.be.within(DEADLINE_MS - 100, DEADLINE_MS + 3_000);
    expect(router.stats().sessionsInUse, 'the slot is free').to.equal(0);
    standin.setAppScript(undefined);
    standin.resetFaults();
    const next = await callTool(open, { uid: await normalUid() }, services());
    expect(errorOf(next.result), JSON.stringify(next.result.content)).to.equal(undefined);
    expect((next.result.structuredContent as { ready: boolean }).ready).to.equal(true);
  });

  it('a 30 000 000 px page prints its first pages only, labelled truncated, in seconds (it made a 22 MB PDF in 6 min 40 s)', async () => {
    const uid = await normalUid();
    standin.setAppScript(APP_SCRIPTS.tall);
    const started = Date.now();
    const { result } = await callTool(preview, { uid, format: 'pdf' }, services({ capture: { maxPdfPages: 5 } }));
    const elapsed = Date.now() - started;
    expect(errorOf(result), JSON.stringify(result.content)).to.equal(undefined);
    const report = result.structuredContent as { preview: { bytes: number; truncated?: { limit: string; kept: number } } };
    expect(report.preview.truncated).to.deep.equal({ limit: 'maxPdfPages', kept: 5 });
    const text = (result.content[0] as { text: string }).text;
    expect(text).to.contain('TRUNCATED: only the first 5 pages');
    const blob = (result.content.find((c) => c.type === 'resource') as { resource: { blob: string } }).resource.blob;
    expect((await pdfText(Buffer.from(blob, 'base64'))).pages).to.equal(5);
    expect(report.preview.bytes).to.be.below(200_000);
    // Two prints at most (the pages, then one page more to learn that the document goes on): each paginates the
    // whole 30 000 000 px layout, a few seconds on a busy machine; bounded by composer.capture.timeoutMs anyway.
    expect(elapsed).to.be.below(25_000);
  });

  it('a short document is not labelled truncated when it has exactly the page limit or fewer', async () => {
    const uid = await normalUid();
    const { result } = await callTool(preview, { uid, format: 'pdf' }, services({ capture: { maxPdfPages: 50 } }));
    expect(errorOf(result)).to.equal(undefined);
    expect((result.structuredContent as { preview: { truncated?: unknown } }).preview.truncated).to.equal(undefined);
  });

  it('a full-page screenshot of that page stops at the height limit, labelled truncated', async () => {
    const uid = await normalUid();
    standin.setAppScript(APP_SCRIPTS.tall);
    const { result } = await callTool(preview, { uid, format: 'png', fullPage: true }, services({ capture: { maxScreenshotHeightPx: 3_000 } }));
    expect(errorOf(result), JSON.stringify(result.content)).to.equal(undefined);
    const report = result.structuredContent as { preview: { height: number; truncated?: { limit: string; kept: number; total: number } } };
    expect(report.preview.truncated?.limit).to.equal('maxScreenshotHeightPx');
    expect(report.preview.truncated?.kept).to.equal(3_000);
    expect(report.preview.truncated?.total).to.be.greaterThan(29_000_000);
    const image = result.content.find((c) => c.type === 'image') as { data: string };
    expect(pngSize(Buffer.from(image.data, 'base64'))?.height).to.equal(3_000);
  });

  it('a screenshot larger than composer.capture.maxScreenshotBytes is refused, naming its size and the setting, and no image is returned', async () => {
    const uid = await normalUid();
    const { result } = await callTool(preview, { uid, format: 'png' }, services({ capture: { maxScreenshotBytes: 2_000 } }));
    const error = errorOf(result);
    expect(error?.code, JSON.stringify(result.content.filter((c) => c.type === 'text'))).to.equal('CAPTURE_TOO_LARGE');
    expect(error?.message).to.match(/^The screenshot is \d+ bytes, more than the 2000 bytes allowed\.$/);
    expect(error?.fix).to.contain('composer.capture.maxScreenshotBytes');
    expect(result.content.filter((c) => c.type === 'image'), 'no image in the result').to.deep.equal([]);
    const next = await callTool(preview, { uid, format: 'png' }, services());
    expect(errorOf(next.result), 'the same screenshot within the default limit').to.equal(undefined);
  });

  it('a PDF larger than composer.capture.maxPdfBytes is refused, naming its size and the setting, and no PDF is returned', async () => {
    const uid = await normalUid();
    const { result } = await callTool(preview, { uid, format: 'pdf' }, services({ capture: { maxPdfBytes: 2_000 } }));
    const error = errorOf(result);
    expect(error?.code, JSON.stringify(result.content.filter((c) => c.type === 'text'))).to.equal('CAPTURE_TOO_LARGE');
    expect(error?.message).to.match(/^The PDF is \d+ bytes, more than the 2000 bytes allowed\.$/);
    expect(error?.fix).to.contain('composer.capture.maxPdfBytes');
    expect(result.content.filter((c) => c.type === 'resource'), 'no PDF in the result').to.deep.equal([]);
  });

  it('a PDF that takes longer than composer.capture.timeoutMs is stopped with UPSTREAM_TIMEOUT naming the setting, well before the lease deadline, and the browser serves the next call', async () => {
    const uid = await normalUid();
    standin.setAppScript(APP_SCRIPTS.tall); // paginating 30 000 000 px takes seconds
    const started = Date.now();
    const { result } = await callTool(preview, { uid, format: 'pdf' }, services({ capture: { timeoutMs: 500, maxPdfPages: 50 } }));
    const elapsed = Date.now() - started;
    const error = errorOf(result);
    expect(error?.code, JSON.stringify(result.content.filter((c) => c.type === 'text'))).to.equal('UPSTREAM_TIMEOUT');
    expect(error?.message).to.equal('Capturing the PDF took longer than 500 ms and was stopped.');
    expect(error?.fix).to.contain('composer.capture.timeoutMs');
    expect(elapsed, 'answered long before the lease deadline').to.be.below(20_000);
    standin.setAppScript(undefined);
    const next = await callTool(preview, { uid, format: 'pdf' }, services());
    expect(errorOf(next.result), JSON.stringify(next.result.content)).to.equal(undefined);
    // A lease's context is closed just after its answer (ADR 29): the slots are free within moments, not held by
    // the stopped print.
    const freeBy = Date.now() + 5_000;
    while (router.stats().sessionsInUse > 0 && Date.now() < freeBy) await new Promise((r) => setTimeout(r, 50));
    expect(router.stats().sessionsInUse, 'the slots are free').to.equal(0);
  });

  it('a page with 50 000 widget-like elements is read up to the DOM read limits', async () => {
    const uid = await normalUid();
    standin.setAppScript(APP_SCRIPTS.manyWidgets);
    // Widgets by selector (the DOM read the limits bound): by content, nothing is read per element.
    const page = { widgetSelector: '[data-widget-type]', widgetTypeAttribute: 'data-widget-type', widgetIdAttribute: 'data-widget-id', readyTimeoutMs: 8_000 };
    const { result } = await callTool(open, { uid }, services({ page } as Partial<ComposerSettings>));
    expect(errorOf(result), JSON.stringify(result.content)).to.equal(undefined);
    const rendered = (result.structuredContent as { renderedWidgets: { type: string; id: string | null }[] }).renderedWidgets;
    expect(rendered).to.have.length(DOM_READ_LIMITS.elements);
    expect(Math.max(...rendered.map((w) => w.type.length))).to.equal(DOM_READ_LIMITS.attributeChars);
  });

  it('a renderer that crashes during the call answers BROWSER_FAILED with a fix, and the browser serves the next call', async () => {
    const uid = await normalUid();
    // Kill the page's renderer from outside (as the per-renderer heap limit or an OOM kill would) once its read answered.
    const crashing: BrowserLeaser = {
      stats: () => router.stats(),
      withLease: (work, options) =>
        router.withLease(async (lease) => {
          const cdp = await lease.context.newCDPSession(lease.page);
          lease.page.on('response', (response) => {
            if (response.url().includes('/storage/v1.0/content')) void cdp.send('Page.crash').catch(() => undefined);
          });
          return work(lease);
        }, options),
    };
    const started = Date.now();
    const { result } = await callTool(open, { uid }, services({}, crashing));
    expect(errorOf(result)?.code, JSON.stringify(result.content)).to.equal('BROWSER_FAILED');
    expect(errorOf(result)?.message).to.contain('renderer crashed');
    expect(errorOf(result)?.fix).to.contain('Call the tool again');
    expect(Date.now() - started).to.be.below(DEADLINE_MS);
    const next = await callTool(open, { uid }, services());
    expect(errorOf(next.result), JSON.stringify(next.result.content)).to.equal(undefined);
  });
});
