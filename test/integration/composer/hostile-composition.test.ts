import { expect } from 'chai';
import type { CallToolResult } from '@modelcontextprotocol/server';
import { BrowserRouter } from '#server/browsers/router.ts';
import type { LocalEndpointSource } from '#server/browsers/local-source.ts';
import { StaticEndpointSource } from '#server/browsers/static-source.ts';
import { HttpStorageClient } from '#server/composer/storage-client.ts';
import { openCompositionTool } from '#server/tools/open-composition.ts';
import { previewCompositionTool } from '#server/tools/preview-composition.ts';
import type { BrowserLease, BrowserLeaser, ComposerServices, ComposerSettings } from '#server/tools/services.ts';
import type { ToolDefinition } from '#server/tools/tool-definition.ts';
import type { ComposerStandin } from '#support/composer-standin/standin.ts';
import { canaryLeaks, makeCanaries, type Canaries } from '#support/hostile/canaries.ts';
import { recordRequests, startLocalHttpServer, type LocalHttpServer } from '#support/local-http-server.ts';
import { credentialThiefComposition, credentialThiefScript, STOLEN_SELECTOR } from '#support/hostile/hostile-compositions.ts';
import { pdfText } from '#support/pdf/pdf-text.ts';
import { callTool, composerServices, errorOf, everyWidgetComposition, quietLogger, type StandinWithLocalBrowsers, startStandinWithLocalBrowsers } from './composer-fixtures.ts';

const JWT_SECRET = 'hostile-test-secret-0123456789abcdef';
const asTool = (tool: unknown) => tool as ToolDefinition<ComposerServices>;
const open = asTool(openCompositionTool);
const preview = asTool(previewCompositionTool);

/** What a page held when its capture was taken: its HTML, its text, its storage. */
interface PageSnapshot {
  html: string;
  text: string;
  storage: string;
}

/** Leases the recording leaser started, to wait for: a tool answers once captured, before its lease has ended. */
const recordingLeases: Promise<unknown>[] = [];
const leasesEnded = () => Promise.allSettled(recordingLeases.splice(0));

/** A leaser over the real router that records each page as it was when the tool's work ended. */
function recordingLeaser(router: BrowserRouter, snapshots: PageSnapshot[]): BrowserLeaser {
  const snapshot = async (lease: BrowserLease) => {
    const taken = await Promise.race([
      lease.page.evaluate(() => ({ html: document.documentElement.outerHTML, text: document.body.innerText, storage: JSON.stringify({ ...localStorage }) })),
      new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 3_000)),
    ]).catch(() => undefined);
    if (taken) snapshots.push(taken);
  };
  return {
    stats: () => router.stats(),
    withLease: (work, options) => {
      const leased = router.withLease(async (lease) => {
        try {
          return await work(lease);
        } finally {
          await snapshot(lease);
        }
      }, options);
      recordingLeases.push(leased);
      return leased;
    },
  };
}

describe('a hostile composition in open and preview: the Composer credentials never reach the page', function () {
  this.timeout(90_000);
  let standin: ComposerStandin;
  let canaries: Canaries;
  let source: LocalEndpointSource;
  let started: StandinWithLocalBrowsers | undefined;
  let router: BrowserRouter;
  let listener: LocalHttpServer | undefined;
  let listenerUrl: string;
  const listenerHits: string[] = [];
  let settings: ComposerSettings;
  const snapshots: PageSnapshot[] = [];

  const services = (): ComposerServices =>
    composerServices({
      // The thief's DOM write is the ready signal: the capture then holds whatever the script found and got.
      settings: { ...settings, page: { readySelector: STOLEN_SELECTOR, readyTimeoutMs: 20_000 } } as ComposerSettings,
      storage: new HttpStorageClient(settings, { timeoutMs: 3_000 }),
      browsers: recordingLeaser(router, snapshots),
    });

  before(async () => {
    canaries = await makeCanaries(JWT_SECRET);
    started = await startStandinWithLocalBrowsers({ jwtSecret: JWT_SECRET, credentials: { accessToken: canaries.token, projectKey: canaries.projectKey }, leasesAllowOnlyStandinOrigins: true, router: { healthIntervalMs: 2_000 } });
    ({ standin, source, router, settings } = started);
    listener = await startLocalHttpServer(recordRequests(listenerHits));
    listenerUrl = listener.url;
  });
  afterEach(() => standin.setAppScript(undefined));
  after(async () => {
    await started?.stop();
    listener?.close();
  });

  /**
   * A normal lesson saved by this server, and a thief "uploaded by someone else" that targets it. With `runs`, the
   * thief's script also runs in the page whatever the sanitiser does (as an XSS hole of the app would make it):
   * what is left to stop it is the broker.
   */
  const plant = async (options: { runs: boolean }) => {
    const saved = await new HttpStorageClient(settings).upload(everyWidgetComposition('Lição de outra pessoa'));
    const thiefOptions = { otherUid: saved.uid, exfiltrationOrigin: listenerUrl };
    const thief = standin.storeRaw(credentialThiefComposition(thiefOptions));
    if (options.runs) standin.setAppScript(credentialThiefScript(thiefOptions));
    return { otherUid: saved.uid, thief };
  };

  /** Asserts what holds after any call on the thief's composition. */
  const assertNothingLeaked = async (result: CallToolResult, before: { compositions: number; requests: number }, thief: string) => {
    await leasesEnded();
    expect(canaryLeaks(JSON.stringify(result), canaries), 'tool result (text, structuredContent, _meta)').to.deep.equal([]);
    const snapshot = snapshots.at(-1);
    expect(snapshot, 'the page was snapshotted at capture').to.not.equal(undefined);
    expect(canaryLeaks(`${snapshot!.html}\n${snapshot!.text}\n${snapshot!.storage}`, canaries), 'the page at capture').to.deep.equal([]);
    // The script did run and did find the session: the look-alike token, with the real token's header and claims.
    const [header, claims, signature] = canaries.token.split('.');
    expect(snapshot!.text).to.include(`${header}.${claims}.`);
    expect(snapshot!.text).to.not.include(signature);
    // No write reached the storage: nothing was stored, and the API saw the real token only on the allowed calls.
    expect(standin.compositions().length, 'compositions stored').to.equal(before.compositions);
    const requests = standin.apiRequests().slice(before.requests);
    const real = requests.filter((r) => r.bearer === canaries.token || r.queryToken === canaries.token || r.projectKey === canaries.projectKey);
    expect(real.length, 'allowed calls were made with the real credentials').to.be.greaterThan(0);
    for (const r of real) {
      const allowed = r.method === 'GET' && (r.path === '/auth/v1.0/user/me' || (r.path === '/storage/v1.0/content' && new URLSearchParams(r.query).get('uid') === thief));
      expect(allowed, `the real credentials went with ${r.method} ${r.path}?${r.query.slice(0, 80)}`).to.equal(true);
    }
    for (const r of requests.filter((q) => !['GET', 'HEAD', 'OPTIONS'].includes(q.method))) {
      expect([r.bearer, r.queryToken, r.projectKey].some((v) => v === canaries.token || v === canaries.projectKey), `write ${r.method} ${r.path} carried a credential`).to.equal(false);
    }
    expect(listenerHits, 'the listener on another port').to.deep.equal([]);
  };

  it('the composition\'s own script never runs: the app reads it sanitised, and the result says which fields were', async () => {
    const { thief } = await plant({ runs: false });
    const before = standin.apiRequests().length;
    const { result } = await callTool(open, { uid: thief }, composerServices({ settings, storage: new HttpStorageClient(settings), browsers: recordingLeaser(router, snapshots) }));
    expect(errorOf(result), JSON.stringify(result.content)).to.equal(undefined);
    const report = result.structuredContent as { ready: boolean; sanitizedFields: string[]; refusedApiCalls: unknown[]; consoleErrors: string[] };
    expect(report.ready).to.equal(true);
    expect(report.sanitizedFields).to.deep.equal(['$.structure[0].content']);
    expect((result.content[0] as { text: string }).text).to.contain('1 fields of the stored composition were sanitised');
    expect(report.refusedApiCalls, 'no script ran to make API calls').to.deep.equal([]);
    await leasesEnded();
    const snapshot = snapshots.at(-1)!;
    expect(snapshot.html).to.not.include('onerror');
    expect(snapshot.html).to.not.include('id="stolen"');
    expect(snapshot.text).to.include('Lição');
    expect(standin.apiRequests().slice(before).map((r) => `${r.method} ${r.path}`)).to.have.members(['GET /auth/v1.0/user/me', 'GET /storage/v1.0/content']);
    expect(canaryLeaks(JSON.stringify(result), canaries)).to.deep.equal([]);
  });

  it('open, with a script that runs anyway: it finds only look-alikes, every API call it makes is refused and reported, no canary anywhere', async () => {
    const { thief } = await plant({ runs: true });
    const before = { compositions: standin.compositions().length, requests: standin.apiRequests().length };
    const { result } = await callTool(open, { uid: thief }, services());
    expect(errorOf(result), JSON.stringify(result.content)).to.equal(undefined);
    await assertNothingLeaked(result, before, thief);
    const report = result.structuredContent as { refusedApiCalls: { method: string; origin: string; path: string }[]; blockedNavigations: { url: string }[]; consoleErrors: string[] };
    const refused = report.refusedApiCalls.map((c) => `${c.method} ${c.path}`);
    expect(refused).to.include.members(['POST /storage/v1.0/upload/connector/uid/connector-1', 'GET /storage/v1.0/content', 'POST /storage/v1.0/content/versions/dynamic', 'GET /auth/v1.0/users', 'PUT /storage/v1.0/content']);
    expect(report.refusedApiCalls.every((c) => c.origin === standin.apiUrl && !c.path.includes('?'))).to.equal(true);
    // The page's own reports carry no query and no long opaque run (the base64 the script packed into URLs and logs).
    for (const text of [...report.blockedNavigations.map((b) => b.url), ...report.consoleErrors]) {
      expect(text).to.not.match(/[?#]/);
      expect(text).to.not.match(/[A-Za-z0-9+/=_-]{40,}/);
    }
    expect(report.blockedNavigations.some((b) => b.url.startsWith(listenerUrl))).to.equal(true);
    // What the script got back from the API: refusals, and the sign-in check answered.
    await leasesEnded();
    const snapshot = snapshots.at(-1)!;
    const got = (JSON.parse(snapshot.text.slice(snapshot.text.indexOf('{"found"')).split('\n')[0]!) as { got: Record<string, unknown> }).got;
    expect(String(got['me'])).to.match(/^200 /);
    for (const name of ['uploadHeaders', 'uploadQuery', 'otherRead', 'otherReadQuery', 'versions', 'otherPath', 'xhr', 'dedicatedWorker']) {
      expect(String(got[name]), name).to.match(/^403 /);
    }
    // A SharedWorker's CORS preflight reaches the broker (Playwright answers only the page's): refused there, so its
    // fetch fails before the call is made.
    expect(String(got['sharedWorker']), 'sharedWorker').to.match(/^(403 |ERR )/);
  });

  it('preview as PDF, with a script that runs anyway: the PDF text holds the look-alike at most, never a canary', async () => {
    const { thief } = await plant({ runs: true });
    const before = { compositions: standin.compositions().length, requests: standin.apiRequests().length };
    const { result } = await callTool(preview, { uid: thief, format: 'pdf' }, services());
    expect(errorOf(result), JSON.stringify(result.content)).to.equal(undefined);
    await assertNothingLeaked(result, before, thief);
    const resource = result.content.find((c) => c.type === 'resource') as { resource: { blob: string } };
    const { text } = await pdfText(Buffer.from(resource.resource.blob, 'base64'));
    expect(text, 'the PDF shows what the script wrote').to.include('rdp-composer-user-data');
    expect(canaryLeaks(text, canaries), 'PDF text').to.deep.equal([]);
    expect(canaryLeaks(text.replace(/\s+/g, ''), canaries), 'PDF text without line breaks').to.deep.equal([]);
  });

  it('two server replicas sharing one browser: each answers only its own leases\' calls, the other\'s pass through it', async () => {
    // A second replica: its own router and CDP connection (so its own browser-level broker) on the same browser.
    const [endpoint] = source.current();
    const replica = new BrowserRouter({ source: new StaticEndpointSource({ endpoints: [endpoint!.url], token: endpoint!.token }), logger: quietLogger(), prewarmPerBrowser: 0, allowedOrigins: [standin.appUrl, standin.apiUrl] });
    await replica.start();
    try {
      const { thief } = await plant({ runs: false });
      const normal = (await new HttpStorageClient(settings).upload(everyWidgetComposition('Réplica'))).uid;
      const before = { compositions: standin.compositions().length, requests: standin.apiRequests().length };
      // The thief's script runs in both replicas' pages; each replica's broker must answer its own page's calls.
      standin.setAppScript(credentialThiefScript({ otherUid: normal, exfiltrationOrigin: listenerUrl }));
      const onReplica = composerServices({ settings: { ...settings, page: { readySelector: STOLEN_SELECTOR, readyTimeoutMs: 20_000 } } as ComposerSettings, browsers: replica });
      const [thiefResult, normalResult] = await Promise.all([callTool(open, { uid: thief }, services()), callTool(open, { uid: normal }, onReplica)]);
      expect(errorOf(thiefResult.result), JSON.stringify(thiefResult.result.content)).to.equal(undefined);
      expect(errorOf(normalResult.result), JSON.stringify(normalResult.result.content)).to.equal(undefined);
      for (const { result } of [thiefResult, normalResult]) {
        const report = result.structuredContent as { ready: boolean; refusedApiCalls: unknown[] };
        expect(report.ready).to.equal(true);
        expect(report.refusedApiCalls.length, 'each replica refused its own page\'s calls').to.be.greaterThan(4);
      }
      const requests = standin.apiRequests().slice(before.requests);
      const realReads = requests.filter((r) => r.bearer === canaries.token && r.path === '/storage/v1.0/content').map((r) => new URLSearchParams(r.query).get('uid'));
      expect([...new Set(realReads)], "reads made with the real token").to.have.members([thief, normal]);
      expect(canaryLeaks(JSON.stringify([thiefResult.result, normalResult.result]), canaries)).to.deep.equal([]);
      expect(standin.compositions().length).to.equal(before.compositions);
    } finally {
      await replica.stop();
    }
  });

  it('a normal composition still opens signed in through the broker', async () => {
    const saved = await new HttpStorageClient(settings).upload(everyWidgetComposition('Normal'));
    const before = standin.apiRequests().length;
    const { result } = await callTool(open, { uid: saved.uid }, composerServices({ settings, storage: new HttpStorageClient(settings), browsers: router }));
    expect(errorOf(result), JSON.stringify(result.content)).to.equal(undefined);
    const report = result.structuredContent as { ready: boolean; readStatus: number; refusedApiCalls: unknown[] };
    expect(report).to.include({ ready: true, readStatus: 200 });
    expect(report.refusedApiCalls).to.deep.equal([]);
    const calls = standin.apiRequests().slice(before);
    expect(calls.map((c) => `${c.method} ${c.path}`)).to.include.members(['GET /auth/v1.0/user/me', 'GET /storage/v1.0/content']);
    expect(calls.every((c) => c.bearer === canaries.token)).to.equal(true);
  });
});
