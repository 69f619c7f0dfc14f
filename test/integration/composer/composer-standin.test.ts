import { expect } from 'chai';
import type { BrowserRouter } from '#server/browsers/router.ts';
import type { ComposerStandin } from '#support/composer-standin/standin.ts';
import { standinToken, type StandinWithLocalBrowsers, startStandinWithLocalBrowsers } from './composer-fixtures.ts';

const SECRET = 'standin-contract-secret-0123456789';

/** A multipart body with one file part. */
function form(name = 'file', fileName = 'lesson.rdpcomposer', content = '{"version":"1.1","structure":[]}'): FormData {
  const f = new FormData();
  f.append(name, new Blob([content], { type: 'digitalpages/composer' }), fileName);
  return f;
}

describe('Composer stand-in keeps the composer.md contract', function () {
  this.timeout(60_000);
  let standin: ComposerStandin;
  let token: string;
  let started: StandinWithLocalBrowsers | undefined;
  let router: BrowserRouter;

  before(async () => {
    started = await startStandinWithLocalBrowsers({ jwtSecret: SECRET, tokens: ['listed-token-123'], router: { prewarmPerBrowser: 0 } });
    ({ standin, token, router } = started);
  });
  after(() => started?.stop());
  afterEach(() => standin.resetFaults());

  const upload = async (body: FormData, headers: Record<string, string>) =>
    fetch(`${standin.apiUrl}/storage/v1.0/upload/connector/uid/c-1`, { method: 'POST', body, headers });
  const auth = (t = token) => ({ Authorization: `Bearer ${t}`, 'Project-Key': 'pk', 'Api-Env': 'prd' });

  it('accepts HS256 JWTs signed with the secret and listed tokens; rejects others with 401', async () => {
    const me = (t: string) => fetch(`${standin.apiUrl}/auth/v1.0/user/me`, { headers: { Authorization: `Bearer ${t}` } }).then((r) => r.status);
    expect(await me(token)).to.equal(200);
    expect(await me('listed-token-123')).to.equal(200);
    expect(await me(await standinToken('another-secret-0123456789abcdef'))).to.equal(401);
    expect((await fetch(`${standin.apiUrl}/auth/v1.0/user/me`)).status).to.equal(401);
    standin.setFaults({ rejectAllTokens: true });
    expect(await me(token)).to.equal(401);
  });

  it('requires the upload headers, one .rdpcomposer part named file, and answers a uid starting H4sI', async () => {
    const before = standin.compositions().length;
    expect((await upload(form(), { Authorization: `Bearer ${token}`, 'Api-Env': 'prd' })).status).to.equal(400);
    expect((await upload(form(), { Authorization: `Bearer ${token}`, 'Project-Key': 'pk' })).status).to.equal(400);
    expect((await upload(form(), { 'Project-Key': 'pk', 'Api-Env': 'prd' })).status).to.equal(401);
    expect((await upload(form('document'), auth())).status).to.equal(400);
    expect((await upload(form('file', 'lesson.json'), auth())).status).to.equal(400);
    expect((await upload(form('file', 'lesson.rdpcomposer', 'not json'), auth())).status).to.equal(400);
    expect(standin.compositions().length).to.equal(before);
    const ok = await upload(form(), auth());
    expect(ok.status).to.equal(200);
    const { uid } = (await ok.json()) as { uid: string };
    expect(uid).to.match(/^H4sI/);
    const admin = (await (await fetch(`${standin.apiUrl}/__standin/compositions`)).json()) as { count: number };
    expect(admin.count).to.equal(before + 1);
  });

  it('reads by uid with a Bearer header or with access_token/project_key/api_env query parameters', async () => {
    const { uid } = (await (await upload(form(), auth())).json()) as { uid: string };
    const byHeader = await fetch(`${standin.apiUrl}/storage/v1.0/content?${new URLSearchParams({ uid })}`, { headers: auth() });
    expect(byHeader.status).to.equal(200);
    const byQuery = await fetch(`${standin.apiUrl}/storage/v1.0/content?${new URLSearchParams({ uid, access_token: token, project_key: 'pk', api_env: 'prd' })}`);
    expect(await byQuery.json()).to.deep.equal({ version: '1.1', structure: [] });
    expect((await fetch(`${standin.apiUrl}/storage/v1.0/content?${new URLSearchParams({ uid })}`)).status).to.equal(401);
  });

  it('answers CORS preflights for the app origin only', async () => {
    const preflight = (origin: string) =>
      fetch(`${standin.apiUrl}/auth/v1.0/user/me`, { method: 'OPTIONS', headers: { Origin: origin, 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'authorization' } });
    const ok = await preflight(standin.appUrl);
    expect(ok.headers.get('access-control-allow-origin')).to.equal(standin.appUrl);
    expect(ok.headers.get('access-control-allow-headers')).to.match(/Authorization/i);
    expect((await preflight('http://127.0.0.1:1')).headers.get('access-control-allow-origin')).to.equal(null);
  });

  it('injects N failures with the configured status, then recovers; the admin route validates its input', async () => {
    const set = await fetch(`${standin.apiUrl}/__standin/config`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ failNext: { me: 2 }, failStatus: 502 }) });
    expect(set.status).to.equal(200);
    const me = () => fetch(`${standin.apiUrl}/auth/v1.0/user/me`, { headers: { Authorization: `Bearer ${token}` } }).then((r) => r.status);
    expect([await me(), await me(), await me()]).to.deep.equal([502, 502, 200]);
    const bad = await fetch(`${standin.apiUrl}/__standin/config`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ latencyMs: { nowhere: 5 } }) });
    expect(bad.status).to.equal(400);
    expect(((await bad.json()) as { error: string }).error).to.contain('latencyMs.nowhere');
  });

  it('delays a route by the configured latency (slow app load)', async () => {
    standin.setFaults({ latencyMs: { app: 300 } });
    const started = Date.now();
    expect((await fetch(standin.appUrl)).status).to.equal(200);
    expect(Date.now() - started).to.be.at.least(290);
  });

  it('stays blank without a valid session, signs in through the auth-with-token route, and keeps the token in localStorage', async () => {
    await router.withLease(async ({ page }) => {
      await page.goto(`${standin.appUrl}/#/home`);
      await page.waitForFunction(() => document.body.dataset['appState'] !== 'loading');
      expect(await page.evaluate(() => document.body.dataset['appState'])).to.equal('blank');
      expect(await page.locator('#root').innerHTML()).to.equal('');

      await page.goto(`${standin.appUrl}/#/embed/auth-with-token/pt_br/home/${encodeURIComponent(token)}`);
      await page.waitForFunction(() => document.body.dataset['appState'] === 'home');
      expect(await page.getByText('Nova composição').count()).to.be.greaterThan(0);
      const stored = await page.evaluate(() => JSON.parse(localStorage.getItem('rdp-composer-user-data') ?? 'null') as { access_token: string } | null);
      expect(stored?.access_token).to.equal(token);
    });
  });

  it('renders the editor with the Portuguese menu and every widget with data-widget-type/-id', async () => {
    const doc = {
      version: '1.1',
      metadata: { title: 'Título', description: '', thumb: null, tags: [] },
      structure: [
        { id: 'w1', type: 'head-1', category: '<p>Ciências</p>', author_name: '<p>Ana</p>' },
        { id: 'w2', type: 'text-1', content: '<p>Texto</p>' },
        { id: 'w3', type: 'quiz-1', questions: [{ id: 'q1', question: '<p>?</p>', choices: [{ id: 'c1', correct: true, text: '<p>Sim</p>' }] }] },
        { id: 'w4', type: 'brand-new-9' },
      ],
    };
    const { uid } = (await (await upload(form('file', 'x.rdpcomposer', JSON.stringify(doc)), auth())).json()) as { uid: string };
    await router.withLease(async ({ page, context }) => {
      await context.addInitScript((t: string) => localStorage.setItem('rdp-composer-user-data', JSON.stringify({ access_token: t })), token);
      await page.goto(`${standin.appUrl}/#/composer/${encodeURIComponent(uid)}`);
      await page.waitForFunction(() => document.body.dataset['appState'] === 'rendered');
      for (const label of ['Salvar composição', 'Configurações', 'Histórico de versões', 'Preview']) expect(await page.getByText(label).count()).to.equal(1);
      const widgets = await page.$$eval('[data-widget-type]', (els) => els.map((e) => [e.getAttribute('data-widget-type'), e.getAttribute('data-widget-id'), e.getAttribute('data-widget-placeholder')]));
      expect(widgets).to.deep.equal([['head-1', 'w1', null], ['text-1', 'w2', null], ['quiz-1', 'w3', null], ['brand-new-9', 'w4', 'true']]);
      await page.goto(`${standin.appUrl}/#/embed/composer/${encodeURIComponent(uid)}`);
      await page.waitForFunction(() => document.body.dataset['appState'] === 'rendered' && !document.querySelector('.toolbar'));
      expect(await page.locator('[data-widget-type]').count()).to.equal(4);
    });
  });

  describe('variants where composer.md is silent', () => {
    const auth2 = () => auth();
    const saveDoc = async (doc: unknown) => ((await (await upload(form('file', 'v.rdpcomposer', JSON.stringify(doc)), auth2())).json()) as { uid: string }).uid;
    const lesson = {
      version: '1.1',
      metadata: { title: 'Variante', description: '', thumb: null, tags: [] },
      structure: [
        { id: 'w1', type: 'text-1', content: '<p>Primeiro bloco</p>' },
        { id: 'w2', type: 'text-1', content: '<p>Segundo bloco</p>' },
        { id: 'w3', type: 'mystery-1', foo: 'bar' },
      ],
    };
    const openIn = async <T>(uid: string, work: (page: import('playwright-core').Page) => Promise<T>): Promise<T> =>
      router.withLease(async ({ page, context }) => {
        await context.addInitScript((t: string) => localStorage.setItem('rdp-composer-user-data', JSON.stringify({ access_token: t })), token);
        await page.goto(`${standin.appUrl}/#/embed/composer/${encodeURIComponent(uid)}`);
        return work(page);
      });

    it('renders after a delay behind a loading placeholder, and reports when it finished', async () => {
      standin.setFaults({ render: { delayMs: 400, placeholder: true } });
      const uid = await saveDoc(lesson);
      const since = Date.now();
      let render: Awaited<ReturnType<typeof standin.waitForRender>>;
      await openIn(uid, async (page) => {
        await page.getByText('Carregando a composição…').waitFor();
        expect(await page.getByText('Primeiro bloco').count()).to.equal(0);
        await page.getByText('Segundo bloco').waitFor();
        // The app reports its render after the lesson shows (a frame and a task later): wait for the report while
        // the page is still open, since the lease closes its context when this returns.
        render = await standin.waitForRender(uid, since);
      });
      expect(render).to.deep.include({ uid, view: 'embed', app: 'standin', widgetsRendered: 3, widgetsTotal: 3 });
      expect(render!.finishedAt).to.be.within(since + 400, Date.now());
    });

    it('renders only the first N widgets in a partial render', async () => {
      standin.setFaults({ render: { maxWidgets: 1 } });
      const uid = await saveDoc(lesson);
      await openIn(uid, async (page) => {
        await page.getByText('Primeiro bloco').waitFor();
        await page.waitForFunction(() => document.body.dataset['appState'] === 'rendered');
        expect(await page.getByText('Segundo bloco').count()).to.equal(0);
        expect((await standin.waitForRender(uid, 0))?.widgetsRendered).to.equal(1);
      });
    });

    it('serves a foreign app: its own markup without data attributes, the read by query parameters, unknown types left out', async () => {
      standin.setFaults({ render: { app: 'foreign' } });
      const uid = await saveDoc(lesson);
      await openIn(uid, async (page) => {
        const reads: string[] = [];
        page.on('request', (r) => { if (r.url().includes('/storage/v1.0/content')) reads.push(r.url()); });
        await page.reload();
        await page.getByText('Segundo bloco').waitFor();
        expect(await page.locator('[data-widget-type], [data-widget-id]').count()).to.equal(0);
        expect(await page.locator('.lsn-title').innerText()).to.equal('VARIANTE');
        expect(reads.some((u) => new URL(u).searchParams.has('access_token'))).to.equal(true);
        expect((await standin.waitForRender(uid, 0))).to.deep.include({ app: 'foreign', widgetsRendered: 2, widgetsTotal: 3 });
      });
    });

    it('serves the app script under a content-hashed, immutable name, padded to the configured bundle size', async () => {
      standin.setFaults({ render: { bundleBytes: 200_000 } });
      const html = await (await fetch(`${standin.appUrl}/`)).text();
      const path = /<script src="(\/static\/standin-app\.[0-9a-f]{12}\.js)"/.exec(html)?.[1];
      expect(path).to.be.a('string');
      const before = standin.appRequests().assets;
      const script = await fetch(`${standin.appUrl}${path}`);
      expect(script.headers.get('cache-control')).to.contain('immutable');
      expect((await script.text()).length).to.be.at.least(200_000);
      expect(standin.appRequests().assets).to.equal(before + 1);
    });

    it('never answers a hung request, and stores an upload it then never answers', async () => {
      standin.setFaults({ hangNext: { me: 1 }, storeThenHangNext: 1 });
      const hung = await fetch(`${standin.apiUrl}/auth/v1.0/user/me`, { headers: { Authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(500) }).then(() => 'answered', (e: Error) => e.name);
      expect(hung).to.equal('TimeoutError');
      const before = standin.compositions().length;
      const lost = await fetch(`${standin.apiUrl}/storage/v1.0/upload/connector/uid/c-1`, { method: 'POST', body: form(), headers: auth(), signal: AbortSignal.timeout(1_000) }).then(() => 'answered', () => 'no answer');
      expect(lost).to.equal('no answer');
      expect(standin.compositions().length).to.equal(before + 1);
    });

    it('slows every API request, its base URL included, with latencyMs.api', async () => {
      standin.setFaults({ latencyMs: { api: 300 } });
      const started = Date.now();
      expect((await fetch(standin.apiUrl, { method: 'HEAD' })).status).to.equal(404);
      expect(Date.now() - started).to.be.at.least(290);
    });
  });
});
