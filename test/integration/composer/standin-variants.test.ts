import { expect } from 'chai';
import type { BrowserRouter } from '#server/browsers/router.ts';
import { HttpStorageClient } from '#server/composer/storage-client.ts';
import { pngSize } from '#server/composer/session/page-capture.ts';
import { openCompositionTool } from '#server/tools/open-composition.ts';
import { previewCompositionTool } from '#server/tools/preview-composition.ts';
import type { ComposerServices, ComposerSettings } from '#server/tools/services.ts';
import type { ToolDefinition } from '#server/tools/tool-definition.ts';
import type { ComposerStandin, StandinRender } from '#support/composer-standin/standin.ts';
import { callTool, composerServices, errorOf, everyWidgetComposition, type StandinWithLocalBrowsers, startStandinWithLocalBrowsers } from './composer-fixtures.ts';

const SECRET = 'standin-variants-secret-0123456789';
const open = openCompositionTool as unknown as ToolDefinition<ComposerServices>;
const preview = previewCompositionTool as unknown as ToolDefinition<ComposerServices>;

interface VisitReport {
  ready: boolean;
  timings: { readyAt: number };
  documentWidgets: { type: string; id: string }[];
  renderedWidgets: { type: string; id: string | null }[];
  missingWidgetIds: string[];
  notSeen: string[];
}

/** One way a Composer may render: the render switches of the stand-in, and whether it ever shows every widget. */
interface Variant {
  name: string;
  render: Partial<StandinRender>;
  /** How many of the document's widgets ever appear (undefined: all). */
  shows?: number;
}

/** The variants every browser tool is run against (composer.md is silent on all of these). */
const VARIANTS: Variant[] = [
  { name: 'our stand-in, rendering at once', render: {} },
  { name: 'our stand-in, rendering 300 ms after its read', render: { delayMs: 300 } },
  { name: 'our stand-in, a loading placeholder, then the lesson 3 s after its read', render: { delayMs: 3_000, placeholder: true } },
  { name: 'our stand-in, widgets appearing one by one 80 ms apart', render: { stepMs: 80 } },
  { name: 'a foreign React-like app (own DOM, data fetched after mount, a placeholder, 300 ms render delay)', render: { app: 'foreign', delayMs: 300, placeholder: true } },
  { name: 'a foreign app rendering in chunks 60 ms apart', render: { app: 'foreign', stepMs: 60 } },
  { name: 'our stand-in, a partial render (4 of the widgets, then nothing)', render: { maxWidgets: 4, placeholder: true }, shows: 4 },
  { name: 'a foreign app, a partial render (3 widgets, then nothing)', render: { app: 'foreign', maxWidgets: 3 }, shows: 3 },
];

describe('browser tools against every Composer stand-in variant (real Chromium)', function () {
  this.timeout(120_000);
  let standin: ComposerStandin;
  let started: StandinWithLocalBrowsers | undefined;
  let router: BrowserRouter;
  let settings: ComposerSettings;

  const services = (page: Record<string, unknown> = {}): ComposerServices =>
    composerServices({ settings: { ...settings, page: { readyTimeoutMs: 8_000, ...page } } as ComposerSettings, storage: new HttpStorageClient(settings), browsers: router });

  const saveFresh = async (title: string) => {
    const storage = new HttpStorageClient(settings);
    const doc = everyWidgetComposition(title);
    const { uid } = await storage.upload(doc);
    return { uid, doc };
  };

  before(async () => {
    started = await startStandinWithLocalBrowsers({ jwtSecret: SECRET, router: { healthIntervalMs: 2_000 } });
    ({ standin, router, settings } = started);
  });
  after(() => started?.stop());
  afterEach(() => standin.resetFaults());

  for (const [index, variant] of VARIANTS.entries()) {
    for (const tool of [open, preview]) {
      it(`${tool.name} on ${variant.name}: ready only once the lesson is on the page, the widgets seen by their content`, async () => {
        standin.setFaults({ render: variant.render });
        const { uid, doc } = await saveFresh(`Variante ${index} ${tool.name}`);
        const structure = doc['structure'] as { id: string; type: string }[];
        const { result } = await callTool(tool, { uid }, services());
        expect(errorOf(result), JSON.stringify(result.content)).to.equal(undefined);
        const report = result.structuredContent as unknown as VisitReport;
        const render = standin.renders().find((r) => r.uid === uid);
        // A capture is always returned, labelled.
        const image = result.content.find((c) => c.type === 'image') as { data: string } | undefined;
        expect(image, 'a PNG capture').to.not.equal(undefined);
        expect(pngSize(Buffer.from(image!.data, 'base64'))?.width).to.be.greaterThan(0);
        const text = (result.content.find((c) => c.type === 'text') as { text: string }).text;
        if (variant.shows === undefined) {
          expect(report.ready, `ready (${text})`).to.equal(true);
          expect(render, 'the stand-in had finished rendering before the tool said ready').to.not.equal(undefined);
          expect(render!.finishedAt, 'finished rendering before ready').to.be.at.most(report.timings.readyAt);
          expect(render!.widgetsRendered).to.equal(structure.length);
          expect(report.renderedWidgets.map((w) => w.id)).to.deep.equal(structure.map((w) => w.id));
          expect(report.missingWidgetIds).to.deep.equal([]);
          expect(text).to.not.match(/not ready/i);
        } else {
          expect(report.ready, `not ready on a partial render (${text})`).to.equal(false);
          expect(report.renderedWidgets.map((w) => w.id)).to.deep.equal(structure.slice(0, variant.shows).map((w) => w.id));
          expect(report.missingWidgetIds).to.deep.equal(structure.slice(variant.shows).map((w) => w.id));
          expect(report.notSeen.length).to.be.greaterThan(0);
          expect(text).to.match(/not ready/i);
        }
      });
    }
  }

  it('never says ready on a placeholder, over sequential and concurrent opens of a lesson rendered 300 ms after its read', async () => {
    standin.setFaults({ render: { app: 'foreign', delayMs: 300, placeholder: true } });
    const docs = await Promise.all([1, 2, 3, 4, 5, 6].map((i) => saveFresh(`Concorrente ${i}`)));
    const calls = [
      ...(await (async () => {
        const out = [];
        for (const { uid } of docs.slice(0, 3)) out.push({ uid, ...(await callTool(open, { uid }, services())) });
        return out;
      })()),
      ...(await Promise.all(docs.slice(3).map(async ({ uid }) => ({ uid, ...(await callTool(preview, { uid }, services())) })))),
    ];
    for (const call of calls) {
      const report = call.result.structuredContent as unknown as VisitReport;
      const render = standin.renders().find((r) => r.uid === call.uid);
      expect(report.ready).to.equal(true);
      expect(render?.finishedAt, `rendered before ready (${call.uid})`).to.be.at.most(report.timings.readyAt);
    }
  });

  it('looks for every widget a report lists: a 600-widget lesson rendered only to its 500th is not ready, and says which are missing', async () => {
    const base = everyWidgetComposition('Longa') as { structure: Array<Record<string, unknown>> };
    const text = base.structure.find((w) => w['type'] === 'text-1')!;
    const structure = [base.structure[0]!, ...Array.from({ length: 599 }, (_, i) => ({ ...text, id: `bloco-${i + 1}`, content: `<p>Bloco ${String(i + 1).padStart(4, '0')} da lição longa</p>` }))];
    const uid = standin.storeRaw(JSON.stringify({ ...base, structure }));
    standin.setFaults({ render: { maxWidgets: 500 } });
    const { result } = await callTool(open, { uid }, services({ readyTimeoutMs: 20_000 }));
    expect(errorOf(result), JSON.stringify(result.content).slice(0, 300)).to.equal(undefined);
    const report = result.structuredContent as unknown as VisitReport;
    expect(report.documentWidgets).to.have.length(600);
    expect(report.ready, 'widgets 501 to 600 never appeared').to.equal(false);
    expect(report.missingWidgetIds).to.deep.equal(Array.from({ length: 100 }, (_, i) => `bloco-${i + 500}`));
    expect(report.renderedWidgets).to.have.length(500);
  });

  it('is not fooled by a page script (an XSS hole of the app) that hides the lesson and patches the page\'s DOM APIs', async () => {
    const { uid } = await saveFresh('Hostil');
    // The probe lives in an isolated world: patched prototypes and globals of the page's world do not reach it.
    standin.setAppScript([
      'Element.prototype.checkVisibility=function(){return true};',
      "Object.defineProperty(HTMLElement.prototype,'innerText',{get(){return document.documentElement.textContent}});",
      'window.MutationObserver=function(){return {observe(){},disconnect(){}}};',
      'document.elementFromPoint=function(){return null};',
      "var style=document.createElement('style');style.textContent='#composition{visibility:hidden}';document.head.appendChild(style);",
    ].join(''));
    try {
      const { result } = await callTool(open, { uid }, services({ readyTimeoutMs: 2_500, partialRenderSettleMs: 1_000 }));
      const report = result.structuredContent as unknown as VisitReport;
      expect(report.ready).to.equal(false);
      expect(report.renderedWidgets).to.deep.equal([]);
    } finally {
      standin.setAppScript(undefined);
    }
  });

  it('serves the app bundle of a far-away Composer to the next lease from the shared cache, and never an API answer', async () => {
    // A unique bundle size gives a content-hashed URL no earlier test has cached.
    standin.setFaults({ render: { bundleBytes: 400_000 + Math.floor(Math.random() * 100_000) }, latencyMs: { asset: 300 } });
    const first = await saveFresh('Cache 1');
    const second = await saveFresh('Cache 2');
    const before = standin.appRequests().assets;
    const a = await callTool(open, { uid: first.uid }, services());
    expect((a.result.structuredContent as unknown as VisitReport).ready).to.equal(true);
    expect(standin.appRequests().assets - before).to.equal(1);
    const b = await callTool(preview, { uid: second.uid }, services());
    expect((b.result.structuredContent as unknown as VisitReport).ready).to.equal(true);
    expect(standin.appRequests().assets - before, 'the second lease got the bundle from the cache').to.equal(1);
    // The read of a composition always goes to the API: a failing API fails the open.
    standin.setFaults({ failNext: { read: 1 }, failStatus: 500 });
    const c = await callTool(open, { uid: first.uid }, services());
    expect(errorOf(c.result)?.code).to.equal('UPSTREAM_ERROR');
  });

  it('reports widgets by the configured selector and attributes on a DOM that has them', async () => {
    const { uid } = await saveFresh('Por seletor');
    const selector = { widgetSelector: '[data-widget-type]', widgetTypeAttribute: 'data-widget-type', widgetIdAttribute: 'data-widget-id' };
    const { result } = await callTool(open, { uid }, services(selector));
    const report = result.structuredContent as unknown as VisitReport & { evidence: { method: string } };
    expect(report.ready).to.equal(true);
    expect(report.evidence.method).to.equal('selector');
    expect(report.renderedWidgets.map((w) => w.type)).to.deep.equal(report.documentWidgets.map((w) => w.type));
  });

  it('says which widgets are missing by selector on a DOM that does not have it, instead of claiming all of them missing silently', async () => {
    standin.setFaults({ render: { app: 'foreign' } });
    const { uid } = await saveFresh('Seletor ausente');
    const { result } = await callTool(open, { uid }, services({ widgetSelector: '[data-widget-type]', readyTimeoutMs: 2_000 }));
    const report = result.structuredContent as unknown as VisitReport;
    expect(report.ready).to.equal(false);
    expect(report.missingWidgetIds.length).to.equal(report.documentWidgets.length);
    expect(report.notSeen.join(' ')).to.contain('[data-widget-type]');
  });
});
