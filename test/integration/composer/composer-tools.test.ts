import { expect } from 'chai';
import type { BrowserRouter } from '#server/browsers/router.ts';
import { HttpStorageClient } from '#server/composer/storage-client.ts';
import { pngSize } from '#server/composer/session/page-capture.ts';
import { getCompositionTool } from '#server/tools/get-composition.ts';
import { openCompositionTool } from '#server/tools/open-composition.ts';
import { previewCompositionTool } from '#server/tools/preview-composition.ts';
import { saveCompositionTool } from '#server/tools/save-composition.ts';
import { statusTool } from '#server/tools/status.ts';
import type { ComposerServices, ComposerSettings } from '#server/tools/services.ts';
import type { ToolDefinition } from '#server/tools/tool-definition.ts';
import type { ComposerStandin } from '#support/composer-standin/standin.ts';
import { callTool, composerServices, errorOf, everyWidgetComposition, quickStorageClient, standinSettings, standinToken, type StandinWithLocalBrowsers, startStandinWithLocalBrowsers } from './composer-fixtures.ts';

const SECRET = 'composer-tools-test-secret-0123456789';
const asTool = (tool: unknown) => tool as ToolDefinition<ComposerServices>;
const save = asTool(saveCompositionTool);
const get = asTool(getCompositionTool);
const open = asTool(openCompositionTool);
const preview = asTool(previewCompositionTool);
const status = asTool(statusTool);

describe('Composer tools against the stand-in and real browsers', function () {
  this.timeout(60_000);
  let standin: ComposerStandin;
  let token: string;
  let started: StandinWithLocalBrowsers | undefined;
  let router: BrowserRouter;
  let settings: ComposerSettings;

  const services = (overrides: Partial<ComposerSettings> = {}, parts: Partial<ComposerServices> = {}): ComposerServices => {
    const s = { ...settings, ...overrides };
    return composerServices({ settings: s, storage: quickStorageClient(s), browsers: router, ...parts });
  };

  const saved = async (doc = everyWidgetComposition()) => {
    const { result } = await callTool(save, { composition: doc }, services());
    expect(errorOf(result), JSON.stringify(result.structuredContent)).to.equal(undefined);
    return (result.structuredContent as { uid: string }).uid;
  };

  before(async () => {
    started = await startStandinWithLocalBrowsers({ jwtSecret: SECRET, router: { healthIntervalMs: 2_000 } });
    ({ standin, token, router } = started);
  });
  after(() => started?.stop());
  beforeEach(() => {
    standin.resetFaults();
    settings = standinSettings(standin, token);
  });

  describe('save and get', () => {
    it('saves a valid composition and reads the same document back by uid', async () => {
      const doc = everyWidgetComposition('Round trip');
      const first = await callTool(save, { composition: doc }, services());
      expect(errorOf(first.result)).to.equal(undefined);
      const out = first.result.structuredContent as { uid: string; editorUrl: string; created: boolean };
      expect(out.created).to.equal(true);
      expect(out.uid).to.match(/^H4sI/);
      expect(out.editorUrl).to.equal(`${standin.appUrl}/#/composer/${encodeURIComponent(out.uid)}`);
      expect(first.progress.map((p) => p.progress)).to.deep.equal([0, 1, 2]);
      const back = await callTool(get, { uid: out.uid }, services());
      const read = back.result.structuredContent as { composition: unknown; title: string; widgets: { type: string }[] };
      expect(read.composition).to.deep.equal(doc);
      expect(read.title).to.equal('Round trip');
      expect(read.widgets.map((w) => w.type)).to.include.members(['head-1', 'quiz-1', 'flashcards-1']);
    });

    it('rejects an invalid composition with the validation report and stores nothing', async () => {
      const before = standin.compositions().length;
      const doc = everyWidgetComposition();
      (doc['structure'] as Record<string, unknown>[])[2]!['questions'] = [{ id: 'x', question: '<p>?</p>', answers: [] }];
      const { result } = await callTool(save, { composition: doc }, services());
      const error = errorOf(result);
      expect(error?.code).to.equal('INVALID_COMPOSITION');
      const problems = (error?.details?.['problems'] ?? []) as { path: string }[];
      expect(problems.some((p) => p.path.startsWith('$.structure[2].questions'))).to.equal(true);
      // A client that passes only text content to the model still sees every problem, with its path and fix.
      const text = (result.content[0] as { text: string }).text;
      for (const p of problems as { path: string; rule: string }[]) expect(text).to.contain(p.path).and.to.contain(p.rule);
      expect(text).to.contain('Fix:');
      expect(standin.compositions().length).to.equal(before);
    });

    it('answers SAVE_OUTCOME_UNKNOWN, in text a model can act on, when the upload was stored and never answered; the retry uploads nothing until retryUnknown', async () => {
      const svc = composerServices({ settings, storage: new HttpStorageClient(settings, { uploadTimeoutMs: 400, minRetryDelayMs: 10 }) });
      const doc = everyWidgetComposition('Sem resposta');
      const before = standin.compositions().length;
      standin.setFaults({ storeThenHangNext: 1 });
      const first = await callTool(save, { composition: doc }, svc);
      expect(errorOf(first.result)?.code).to.equal('SAVE_OUTCOME_UNKNOWN');
      const text = (first.result.content[0] as { text: string }).text;
      expect(text).to.contain('SAVE_OUTCOME_UNKNOWN').and.to.contain('"Sem resposta"').and.to.contain('retryUnknown=true');
      const second = await callTool(save, { composition: doc }, svc);
      expect(errorOf(second.result)?.code).to.equal('SAVE_OUTCOME_UNKNOWN');
      expect(standin.compositions().length - before).to.equal(1);
      const confirmed = await callTool(save, { composition: doc, retryUnknown: true }, svc);
      expect((confirmed.result.structuredContent as { created: boolean }).created).to.equal(true);
      expect(standin.compositions().length - before).to.equal(2);
    });

    it('answers NOT_CONFIGURED naming the exact setting when credentials are missing', async () => {
      const { result } = await callTool(save, { composition: everyWidgetComposition() }, composerServices({ settings: { ...settings, projectKey: undefined } }));
      expect(errorOf(result)?.code).to.equal('NOT_CONFIGURED');
      expect(errorOf(result)?.message).to.contain('COMPOSER_MCP_COMPOSER__PROJECT_KEY');
      const get1 = await callTool(get, { uid: 'H4sIx' }, composerServices({ settings: { ...settings, accessToken: undefined } }));
      expect(errorOf(get1.result)?.message).to.contain('COMPOSER_MCP_COMPOSER__ACCESS_TOKEN');
    });

    it('stores exactly one composition for a save retried with the same key, even across 5xx answers', async () => {
      const before = standin.compositions().length;
      const svc = services();
      standin.setFaults({ failNext: { upload: 1 } });
      const doc = everyWidgetComposition('Retried');
      const a = await callTool(save, { composition: doc, idempotencyKey: 'lesson-7' }, svc);
      const b = await callTool(save, { composition: doc, idempotencyKey: 'lesson-7' }, svc);
      const outA = a.result.structuredContent as { uid: string; created: boolean };
      const outB = b.result.structuredContent as { uid: string; created: boolean };
      expect(outA.created).to.equal(true);
      expect(outB).to.include({ uid: outA.uid, created: false });
      expect(standin.compositions().length - before).to.equal(1);
    });

    it('answers UPSTREAM_TIMEOUT when the storage API is too slow', async () => {
      standin.setFaults({ latencyMs: { read: 5_000 } });
      const svc = composerServices({ settings, storage: new HttpStorageClient(settings, { timeoutMs: 300, retries: 1, minRetryDelayMs: 10 }) });
      const { result } = await callTool(get, { uid: 'H4sIslow' }, svc);
      expect(errorOf(result)?.code).to.equal('UPSTREAM_TIMEOUT');
    });

    it('answers NOT_FOUND for an unknown uid and UNAUTHORIZED for a bad token', async () => {
      expect(errorOf((await callTool(get, { uid: 'H4sIAAAAunknown' }, services())).result)?.code).to.equal('NOT_FOUND');
      const bad = await callTool(get, { uid: 'H4sIAAAAunknown' }, services({ accessToken: 'bad-token-value' }));
      expect(errorOf(bad.result)?.code).to.equal('UNAUTHORIZED');
      expect(errorOf(bad.result)?.fix).to.contain('COMPOSER_MCP_COMPOSER__ACCESS_TOKEN');
    });

    it('rejects bad arguments with INVALID_INPUT', async () => {
      expect(errorOf((await callTool(get, { uid: '' }, services())).result)?.code).to.equal('INVALID_INPUT');
      expect(errorOf((await callTool(save, { composition: 'not an object' }, services())).result)?.code).to.equal('INVALID_INPUT');
    });
  });

  describe('open and preview', () => {
    it('opens the editor signed in, lists every widget type of the document, and returns a PNG screenshot', async () => {
      const doc = everyWidgetComposition('Aberta');
      const uid = await saved(doc);
      const { result, progress } = await callTool(open, { uid }, services());
      expect(errorOf(result), JSON.stringify(result.structuredContent)).to.equal(undefined);
      const report = result.structuredContent as { ready: boolean; readStatus: number; documentWidgets: { type: string; id: string }[]; renderedWidgets: { type: string; id: string }[]; missingWidgetIds: string[]; pageErrors: string[]; blockedNavigations: { url: string }[]; screenshot: { width: number; height: number } };
      const types = (doc['structure'] as { type: string }[]).map((w) => w.type);
      expect(report.readStatus).to.equal(200);
      expect(report.ready).to.equal(true);
      expect(report.documentWidgets.map((w) => w.type)).to.deep.equal(types);
      expect(report.renderedWidgets.map((w) => w.type)).to.deep.equal(types);
      expect(report.missingWidgetIds).to.deep.equal([]);
      expect(report.pageErrors).to.deep.equal([]);
      // The catalog's media examples point outside the Composer's origins: the lease must block and report them.
      expect(report.blockedNavigations.length).to.be.greaterThan(0);
      expect(report.blockedNavigations.every((b) => !b.url.startsWith(standin.appUrl) && !b.url.startsWith(standin.apiUrl))).to.equal(true);
      const image = result.content.find((c) => c.type === 'image') as { data: string; mimeType: string };
      expect(image.mimeType).to.equal('image/png');
      const png = Buffer.from(image.data, 'base64');
      expect([...png.subarray(0, 8)]).to.deep.equal([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
      expect(pngSize(png)).to.deep.equal({ width: 1280, height: 800 });
      expect(report.screenshot).to.include({ width: 1280, height: 800 });
      expect(progress.at(-1)).to.include({ progress: 3, total: 3 });
    });

    it('reports a widget of an unknown type with nothing to look for as unverified by content, and as rendered by a configured selector', async () => {
      const doc = everyWidgetComposition('Desconhecido');
      (doc['structure'] as unknown[]).push({ id: 'c0ffee00-0000-11ef-8000-000000000001', type: 'mystery-1', foo: 'bar' });
      const uid = await saved(doc);
      const byContent = (await callTool(open, { uid }, services())).result.structuredContent as { ready: boolean; renderedWidgets: { type: string }[]; unverifiedWidgetIds: string[] };
      expect(byContent.ready).to.equal(true);
      expect(byContent.renderedWidgets.map((w) => w.type)).to.not.include('mystery-1');
      expect(byContent.unverifiedWidgetIds).to.deep.equal(['c0ffee00-0000-11ef-8000-000000000001']);
      const page = { widgetSelector: '[data-widget-type]', widgetTypeAttribute: 'data-widget-type', widgetIdAttribute: 'data-widget-id' };
      const bySelector = (await callTool(open, { uid }, services({ page } as Partial<ComposerSettings>))).result.structuredContent as { renderedWidgets: { type: string }[] };
      expect(bySelector.renderedWidgets.map((w) => w.type)).to.include('mystery-1');
    });

    it('previews the learner view as a full-page PNG and as a PDF', async () => {
      const uid = await saved(everyWidgetComposition('Prévia'));
      const png = await callTool(preview, { uid }, services());
      expect(errorOf(png.result)).to.equal(undefined);
      const image = png.result.content.find((c) => c.type === 'image') as { data: string };
      const size = pngSize(Buffer.from(image.data, 'base64'));
      // Full page: the whole document's height; the width is the viewport's less a scrollbar, if one is drawn.
      expect(size?.width).to.be.within(1200, 1280);
      expect(size?.height).to.be.greaterThan(800);
      expect((png.result.structuredContent as { view: string }).view).to.equal('embed');
      const pdf = await callTool(preview, { uid, format: 'pdf' }, services());
      expect(errorOf(pdf.result)).to.equal(undefined);
      const resource = pdf.result.content.find((c) => c.type === 'resource') as { resource: { mimeType: string; blob: string } };
      expect(resource.resource.mimeType).to.equal('application/pdf');
      expect(Buffer.from(resource.resource.blob, 'base64').subarray(0, 5).toString('latin1')).to.equal('%PDF-');
    });

    it('answers UNAUTHORIZED when the Composer rejects the configured token', async () => {
      const uid = await saved();
      const { result } = await callTool(open, { uid }, services({ accessToken: 'rejected-token-value' }));
      expect(errorOf(result)?.code).to.equal('UNAUTHORIZED');
      expect(errorOf(result)?.fix).to.contain('COMPOSER_MCP_COMPOSER__ACCESS_TOKEN');
    });

    it('answers NOT_FOUND for an unknown uid', async () => {
      const { result } = await callTool(open, { uid: 'H4sIAAAAAAAAAnothing+here/=' }, services());
      expect(errorOf(result)?.code).to.equal('NOT_FOUND');
    });

    it('answers UPSTREAM_TIMEOUT when the app never loads the composition in time', async () => {
      const uid = await saved();
      standin.setFaults({ latencyMs: { read: 5_000 } });
      const { result } = await callTool(open, { uid }, services({ page: { readyTimeoutMs: 1_000 } } as Partial<ComposerSettings>));
      expect(errorOf(result)?.code).to.equal('UPSTREAM_TIMEOUT');
    });

    it('stops waiting and answers CANCELLED when the call is cancelled', async () => {
      const uid = await saved();
      standin.setFaults({ latencyMs: { read: 5_000 } });
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 300);
      const started = Date.now();
      const { result } = await callTool(open, { uid }, services(), controller.signal);
      expect(errorOf(result)?.code).to.equal('CANCELLED');
      expect(Date.now() - started).to.be.below(2_000);
    });

    it('serves several opens at once, each with its own page', async () => {
      const uids = await Promise.all(['A', 'B', 'C'].map((t) => saved(everyWidgetComposition(`Paralela ${t}`))));
      const results = await Promise.all(uids.map((uid) => callTool(open, { uid }, services())));
      results.forEach(({ result }, i) => {
        expect(errorOf(result)).to.equal(undefined);
        expect((result.structuredContent as { uid: string; ready: boolean }).uid).to.equal(uids[i]);
        expect((result.structuredContent as { ready: boolean }).ready).to.equal(true);
      });
    });

    it('answers NOT_CONFIGURED without a browser pool or a token', async () => {
      const noPool = await callTool(open, { uid: 'H4sIx' }, services({}, { browsers: undefined }));
      expect(errorOf(noPool.result)?.code).to.equal('NOT_CONFIGURED');
      expect(errorOf(noPool.result)?.fix).to.contain('COMPOSER_MCP_BROWSERS__SOURCE');
      const noToken = await callTool(preview, { uid: 'H4sIx' }, composerServices({ settings: { ...settings, accessToken: undefined }, browsers: router }));
      expect(errorOf(noToken.result)?.message).to.contain('COMPOSER_MCP_COMPOSER__ACCESS_TOKEN');
    });
  });

  describe('secrets', () => {
    it('never writes the access token or project key to logs, even when retrying and failing', async () => {
      const { PassThrough } = await import('node:stream');
      const { createLogger } = await import('#common/logger.ts');
      const canary = await standinToken(SECRET, 'canary-subject');
      const lines: string[] = [];
      const stream = new PassThrough();
      stream.on('data', (chunk: Buffer) => lines.push(chunk.toString()));
      const logger = createLogger({ component: 'test', level: 'debug', format: 'json', stream });
      const s = { ...settings, accessToken: canary, projectKey: 'canary-project-key-42' };
      const svc = composerServices({ settings: s, storage: new HttpStorageClient(s, { logger, minRetryDelayMs: 10, retries: 2 }), browsers: router });
      standin.setFaults({ failNext: { upload: 1, read: 5 } });
      const saved1 = await callTool(save, { composition: everyWidgetComposition('Canário') }, svc);
      const uid = (saved1.result.structuredContent as { uid: string }).uid;
      await callTool(get, { uid }, svc);
      standin.resetFaults();
      const opened = await callTool(open, { uid }, svc);
      logger.info('Logged every result', { results: [saved1.result.structuredContent, opened.result.structuredContent], settings: s });
      await new Promise((resolve) => setTimeout(resolve, 50));
      const text = lines.join('');
      expect(text).to.contain('Retried storage request');
      expect(text).to.not.contain(canary);
      expect(text).to.not.contain(canary.split('.')[2]);
      expect(text).to.not.contain('canary-project-key-42');
      expect(JSON.stringify(opened.result)).to.not.contain(canary);
    });
  });

  describe('status', () => {
    it('reports version, pool figures and Composer reachability', async () => {
      const { result } = await callTool(status, {}, services());
      const out = result.structuredContent as { version: string; browsers: { configured: boolean; healthy: number; capacity: number }; composer: { credentialsConfigured: boolean; app: { reachable: boolean }; api: { reachable: boolean } } };
      expect(out.version).to.equal('0.0.0-test');
      expect(out.browsers).to.include({ configured: true, healthy: 1 });
      expect(out.browsers.capacity).to.be.greaterThan(0);
      expect(out.composer).to.deep.include({ credentialsConfigured: true });
      expect(out.composer.app.reachable).to.equal(true);
      expect(out.composer.api.reachable).to.equal(true);
    });

    it('tells a slow API (2 s) from a down one: slow, not unreachable, while saves succeed', async () => {
      standin.setFaults({ latencyMs: { api: 2_000 } });
      const { result } = await callTool(status, {}, services());
      const out = result.structuredContent as { composer: { app: { state: string }; api: { state: string; reachable: boolean; latencyMs: number } } };
      expect(out.composer.api).to.include({ state: 'slow', reachable: true });
      expect(out.composer.api.latencyMs).to.be.at.least(1_900);
      expect(out.composer.app.state).to.equal('ok');
      const text = (result.content[0] as { text: string }).text;
      expect(text).to.contain('API up but slow').and.to.not.contain('unreachable');
      const saved = await callTool(save, { composition: everyWidgetComposition('Lenta') }, services());
      expect(errorOf(saved.result)).to.equal(undefined);
    });

    it('reports a probe with no answer as a timeout and a refused connection as unreachable, apart', async () => {
      const { checkReachability } = await import('#server/composer/storage/reachability.ts');
      standin.setFaults({ latencyMs: { api: 1_000 } });
      const timedOut = await checkReachability(standin.apiUrl, { timeoutMs: 300, slowAfterMs: 100 });
      expect(timedOut).to.include({ state: 'timeout', reachable: false });
      const refused = await checkReachability('http://127.0.0.1:1', { timeoutMs: 300, slowAfterMs: 100 });
      expect(refused).to.include({ state: 'unreachable', reachable: false });
      standin.setFaults({ latencyMs: { api: 0 }, failNext: { api: 1 } });
      expect(await checkReachability(standin.apiUrl)).to.include({ state: 'failing', reachable: true, status: 503 });
    });

    it('says the Composer is unreachable instead of failing', async () => {
      const { result } = await callTool(status, {}, composerServices({ settings: { ...settings, apiUrl: 'http://127.0.0.1:1', accessToken: undefined } }));
      expect(result.isError).to.not.equal(true);
      const out = result.structuredContent as { browsers: { configured: boolean }; composer: { missingSettings: string[]; api: { reachable: boolean; error: string } } };
      expect(out.browsers.configured).to.equal(false);
      expect(out.composer.api.reachable).to.equal(false);
      expect((out.composer.api as unknown as { state: string }).state).to.equal('unreachable');
      expect(out.composer.missingSettings).to.include('COMPOSER_MCP_COMPOSER__ACCESS_TOKEN');
    });
  });
});
