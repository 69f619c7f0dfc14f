import { expect } from 'chai';
import type { BrowserRouter } from '#server/browsers/router.ts';
import { openCompositionTool } from '#server/tools/open-composition.ts';
import type { ComposerServices, ComposerSettings } from '#server/tools/services.ts';
import type { ToolDefinition } from '#server/tools/tool-definition.ts';
import type { ComposerStandin } from '#support/composer-standin/standin.ts';
import { callTool, composerServices, errorOf, everyWidgetComposition, type StandinWithLocalBrowsers, startStandinWithLocalBrowsers } from './composer-fixtures.ts';

const JWT_SECRET = 'visit-report-secret-0123456789abcdef';
const open = openCompositionTool as unknown as ToolDefinition<ComposerServices>;

/**
 * Page script (run as an XSS hole in the app would run it) that makes more of everything than a report lists:
 * 120 console errors, 70 requests to a blocked origin, 60 API calls the read-only lease refuses. Then, once the
 * lesson is on the page, it makes the stand-in hang the next platform request and calls a configured route, whose
 * relay times out; it marks the page `#relay-done` when that call has ended (the test's ready signal).
 */
const FLOOD_THEN_FAILED_RELAY = `(async () => {
  const API = window.COMPOSER_STANDIN_CONFIG.apiUrl;
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  for (let i = 0; i < 120; i++) console.error('flood ' + i);
  for (let i = 0; i < 70; i++) { const img = new Image(); img.src = 'http://exfil.attacker.example/blocked/' + i + '.png'; }
  const token = (JSON.parse(localStorage.getItem('rdp-composer-user-data') || '{}')).access_token || '';
  await Promise.all(Array.from({ length: 60 }, (_, i) => fetch(API + '/storage/v1.0/upload/connector/uid/c' + i, { method: 'POST', headers: { Authorization: 'Bearer ' + token }, body: 'x' }).catch(() => undefined)));
  while (!document.querySelector('[data-widget-type]')) await sleep(20);
  await fetch(API + '/__standin/config', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ hangNext: { api: 1 } }) });
  await fetch(API + '/storage/v1.0/assets/lesson.png?x=1', { headers: { Authorization: 'Bearer ' + token } }).catch(() => undefined);
  document.body.insertAdjacentHTML('beforeend', '<div id="relay-done">done</div>');
})();`;

interface Report {
  consoleErrors: string[];
  blockedNavigations: unknown[];
  refusedApiCalls: unknown[];
  failedApiRelays: Array<{ method: string; origin: string; path: string; reason: string }>;
  documentWidgets: unknown[];
  totals: Record<string, number>;
}

/**
 * What a visit reports when a page makes more than the lists hold, when the server cannot complete an allowed API
 * call of the page, and when what is stored under a uid is not a composition. Real Chromium, the router, the
 * credential broker and the stand-in.
 */
describe('open reports totals beside its bounded lists, the API calls it could not complete, and a stored non-composition as such', function () {
  this.timeout(90_000);
  let standin: ComposerStandin;
  let started: StandinWithLocalBrowsers | undefined;
  let router: BrowserRouter;
  let settings: ComposerSettings;

  before(async () => {
    started = await startStandinWithLocalBrowsers({ jwtSecret: JWT_SECRET, leasesAllowOnlyStandinOrigins: true });
    ({ standin, router, settings } = started);
  });
  afterEach(() => {
    standin.setAppScript(undefined);
    standin.resetFaults();
  });
  after(() => started?.stop());

  const services = (over: Partial<ComposerSettings> = {}) => composerServices({ settings: { ...settings, ...over }, browsers: router });

  it('counts every console error, blocked request, refused and failed API call, and says how many the lists hold', async () => {
    const uid = standin.storeRaw(JSON.stringify(everyWidgetComposition('Contagem')));
    standin.setAppScript(FLOOD_THEN_FAILED_RELAY);
    const { result } = await callTool(open, { uid }, services({
      page: { readySelector: '#relay-done', readyTimeoutMs: 30_000 },
      pageAccess: { readOnlyApiCalls: ['GET /storage/v1.0/assets/**'], upstreamTimeoutMs: 1_000 },
    } as Partial<ComposerSettings>));
    expect(errorOf(result), JSON.stringify(result.content).slice(0, 400)).to.equal(undefined);
    const report = result.structuredContent as unknown as Report;
    expect(report.consoleErrors).to.have.length(50);
    expect(report.totals['consoleErrors']).to.be.at.least(120);
    expect(report.blockedNavigations).to.have.length(50);
    // The script's 70, and the lesson's own images on example.org (outside the Composer's origins too).
    expect(report.totals['blockedNavigations']).to.be.within(70, 80);
    expect(report.refusedApiCalls).to.have.length(50);
    expect(report.totals['refusedApiCalls']).to.equal(60);
    expect(report.totals['documentWidgets']).to.equal(report.documentWidgets.length);
    // The configured call was allowed, and the server could not complete it: method, origin, path (no query) and why.
    expect(report.failedApiRelays).to.deep.equal([{ method: 'GET', origin: standin.apiUrl, path: '/storage/v1.0/assets/lesson.png', reason: 'no answer within 1000 ms' }]);
    expect(report.totals['failedApiRelays']).to.equal(1);
    const text = (result.content[0] as { text: string }).text;
    expect(text).to.include(`${report.totals['consoleErrors']} (first 50 listed) console errors`);
    expect(text).to.include(`${report.totals['blockedNavigations']} (first 50 listed) blocked requests`);
    expect(text).to.include('60 (first 50 listed) refused API calls');
    expect(text).to.include(`1 API calls of the page could not be completed by the server: GET ${standin.apiUrl}/storage/v1.0/assets/lesson.png: no answer within 1000 ms`);
  });

  for (const [content, found] of [['<html>not a lesson</html>', 'not JSON'], ['[{"type":"text-1","content":"<p>x</p>"}]', 'a JSON array'], ['"H4sI"', 'a JSON string']] as const) {
    it(`a uid whose stored content is ${found}: INVALID_COMPOSITION saying what it is and what to do, not "platform trouble, try again"`, async () => {
      const uid = standin.storeRaw(content);
      const { result } = await callTool(open, { uid }, services());
      const error = errorOf(result);
      expect(error?.code, JSON.stringify(result.content)).to.equal('INVALID_COMPOSITION');
      expect(error?.message).to.include(`is not a composition: it is ${found}`);
      expect(error?.fix).to.match(/^Check the uid/).and.not.match(/try again|trouble/i);
      const details = error?.details as { found: string; failedApiRelays: Report['failedApiRelays'] };
      expect(details.found).to.equal(found);
      expect(details.failedApiRelays.map((f) => `${f.method} ${f.path}`)).to.deep.equal(['GET /storage/v1.0/content']);
      expect(details.failedApiRelays[0]!.reason).to.include(found);
    });
  }

  it('a composition with more widgets than the list holds: the total is reported and the summary counts them all', async () => {
    const base = everyWidgetComposition('Muitos') as { structure: Array<Record<string, unknown>> };
    const text = base.structure.find((w) => w['type'] === 'text-1')!;
    const structure = [base.structure[0]!, ...Array.from({ length: 2_100 }, (_, i) => ({ ...text, id: `w${i}`, content: `<p>Parte ${i}</p>` }))];
    const uid = standin.storeRaw(JSON.stringify({ ...base, structure }));
    const { result } = await callTool(open, { uid }, services({ page: { readyTimeoutMs: 20_000 } } as Partial<ComposerSettings>));
    const report = result.structuredContent as unknown as Report;
    expect(errorOf(result), JSON.stringify(result.content).slice(0, 300)).to.equal(undefined);
    expect(report.documentWidgets).to.have.length(2_000);
    expect(report.totals['documentWidgets']).to.equal(2_101);
    expect((result.content[0] as { text: string }).text).to.match(/Document: 2101 widgets \(head-1, text-1 ×1999; the first 2000 listed\)/);
    // Readiness looked for as many as the list holds, and says the rest were not looked for instead of calling it ready.
    const readiness = result.structuredContent as unknown as { ready: boolean; notSeen: string[] };
    expect(readiness.ready).to.equal(false);
    expect(readiness.notSeen.join('\n')).to.contain('widgets 2001 to 2101: not looked for');
  });
});
