import { expect } from 'chai';
import { SignJWT } from 'jose';
import { startComposerStandin, type ComposerStandin } from '#support/composer-standin/standin.ts';
import { LruIdempotencyStore } from '#server/composer/storage/idempotency-store.ts';
import { HttpStorageClient } from '#server/composer/storage-client.ts';
import { ComposerError } from '#server/composer/composer-error.ts';
import type { ComposerSettings } from '#server/tools/services.ts';
import { nodeHttpSender, type Sender } from '#server/composer/storage/http-sender.ts';

const JWT_SECRET = 'standin-test-secret-0123456789abcdef';

function sampleComposition(title = 'Fotossíntese'): Record<string, unknown> {
  return {
    version: '1.1',
    metadata: { title, description: '', thumb: null, tags: [] },
    interface: { content_language: 'pt_br', index_option: 'buttons', font_family: 'Lato', show_summary: 'disabled', finish_btn: 'disabled' },
    structure: [{ id: 'b3f5a7c0-0000-11ef-8000-000000000001', type: 'text-1', content_title: null, background_color: '#FFFFFF', padding_top: 0, padding_bottom: 0, dam_assets: [], content: '<p>Olá</p>' }],
    assets: [],
  };
}

async function expectToolError(promise: Promise<unknown>, code: string): Promise<ComposerError> {
  try {
    await promise;
  } catch (error) {
    expect(error).to.be.instanceOf(ComposerError);
    expect((error as ComposerError).code, (error as Error).message).to.equal(code);
    return error as ComposerError;
  }
  expect.fail(`expected a ${code} ComposerError`);
}

describe('storage client against the Composer stand-in', function () {
  this.timeout(30_000);
  let standin: ComposerStandin;
  let token: string;
  let settings: ComposerSettings;

  before(async () => {
    standin = await startComposerStandin({ jwtSecret: JWT_SECRET });
    token = await new SignJWT({ name: 'Tester' }).setProtectedHeader({ alg: 'HS256' }).setSubject('tester').setIssuedAt().setExpirationTime('1h').sign(new TextEncoder().encode(JWT_SECRET));
  });
  after(async () => {
    await standin.stop();
  });
  beforeEach(() => {
    standin.resetFaults();
    settings = { composerUrl: standin.appUrl, apiUrl: standin.apiUrl, accessToken: token, projectKey: 'project-key-1', connectorUid: 'connector-1', apiEnv: 'prd' };
  });

  const client = (overrides: Partial<ComposerSettings> = {}, options: ConstructorParameters<typeof HttpStorageClient>[1] = {}) =>
    new HttpStorageClient({ ...settings, ...overrides }, { minRetryDelayMs: 10, maxRetryDelayMs: 50, ...options });

  it('uploads a composition as a .rdpcomposer file part with the three headers and reads the same document back', async () => {
    const before = standin.compositions().length;
    const doc = sampleComposition();
    const saved = await client().upload(doc);
    expect(saved.created).to.equal(true);
    expect(saved.uid).to.match(/^H4sI/);
    expect(saved.editorUrl).to.equal(`${standin.appUrl}/#/composer/${encodeURIComponent(saved.uid)}`);
    const stored = standin.compositions().slice(before);
    expect(stored).to.have.length(1);
    expect(stored[0]).to.include({ connectorUid: 'connector-1', projectKey: 'project-key-1', apiEnv: 'prd', mimeType: 'digitalpages/composer' });
    expect(stored[0]?.fileName).to.match(/\.rdpcomposer$/);
    expect(await client().read(saved.uid)).to.deep.equal(doc);
  });

  it('refuses to run without a project key, naming the setting', () => {
    let error: unknown;
    try {
      client({ projectKey: '' });
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(ComposerError);
    expect((error as ComposerError).code).to.equal('NOT_CONFIGURED');
    expect((error as ComposerError).message).to.contain('COMPOSER_MCP_COMPOSER__PROJECT_KEY');
  });

  it('surfaces the platform refusing a request without Project-Key as a clear error, without retrying', async () => {
    const before = standin.compositions().length;
    let calls = 0;
    // A sender that loses the header on the way (as a misconfigured proxy would): the platform's 400 must reach the caller.
    const dropProjectKey: Sender = async (request) => {
      calls += 1;
      const { 'Project-Key': _dropped, ...headers } = request.headers;
      return nodeHttpSender({ ...request, headers });
    };
    const error = await expectToolError(client({}, { sender: dropProjectKey }).upload(sampleComposition('no-key')), 'UPSTREAM_ERROR');
    expect(error.message).to.contain('HTTP 400').and.to.contain('Missing Project-Key header');
    expect(error.fix).to.contain('COMPOSER_MCP_COMPOSER__PROJECT_KEY');
    expect(calls).to.equal(1);
    expect(standin.compositions().length).to.equal(before);
  });

  it('maps a 4xx from the platform to a clear error naming the settings to check, and never retries it', async () => {
    const strict = await startComposerStandin({ jwtSecret: JWT_SECRET, connectorUids: ['other'] });
    try {
      const error = await expectToolError(client({ apiUrl: strict.apiUrl }).upload(sampleComposition('y')), 'NOT_FOUND');
      expect(error.fix).to.contain('COMPOSER_MCP_COMPOSER__CONNECTOR_UID');
      expect(error.details).to.include({ attempts: 1 });
      expect(strict.compositions()).to.have.length(0);
    } finally {
      await strict.stop();
    }
  });

  it('retries 5xx answers and stores exactly one composition once the platform recovers', async () => {
    standin.setFaults({ failNext: { upload: 2 } });
    const before = standin.compositions().length;
    const saved = await client().upload(sampleComposition('retry'));
    expect(saved.created).to.equal(true);
    expect(standin.compositions().length - before).to.equal(1);
  });

  it('gives UPSTREAM_ERROR with the attempt count when 5xx persists', async () => {
    standin.setFaults({ failNext: { read: 10 } });
    const error = await expectToolError(client({}, { retries: 2 }).read('H4sIwhatever'), 'UPSTREAM_ERROR');
    expect(error.details).to.include({ status: 503, attempts: 3 });
  });

  it('returns the same uid with created:false for a retried save with the same key, storing one composition', async () => {
    const storage = client();
    const before = standin.compositions().length;
    const first = await storage.upload(sampleComposition('same'), { idempotencyKey: 'lesson-42' });
    const again = await storage.upload(sampleComposition('same'), { idempotencyKey: 'lesson-42' });
    const byContent = await storage.upload(sampleComposition('same'));
    const byContentAgain = await storage.upload(JSON.parse(JSON.stringify(sampleComposition('same'))) as Record<string, unknown>);
    expect(again).to.include({ uid: first.uid, created: false });
    expect(byContentAgain).to.include({ uid: byContent.uid, created: false });
    expect(standin.compositions().length - before).to.equal(2);
  });

  it('collapses concurrent saves of the same content into one upload', async () => {
    const storage = client();
    const before = standin.compositions().length;
    standin.setFaults({ latencyMs: { upload: 200 } });
    const results = await Promise.all([1, 2, 3].map(() => storage.upload(sampleComposition('concurrent'))));
    expect(new Set(results.map((r) => r.uid)).size).to.equal(1);
    expect(results.filter((r) => r.created)).to.have.length(1);
    expect(standin.compositions().length - before).to.equal(1);
  });

  it('refuses a reused idempotency key for different content', async () => {
    const storage = client();
    await storage.upload(sampleComposition('a'), { idempotencyKey: 'k-1' });
    await expectToolError(storage.upload(sampleComposition('b'), { idempotencyKey: 'k-1' }), 'INVALID_INPUT');
  });

  it('gives UPSTREAM_TIMEOUT when the platform does not answer in time', async () => {
    standin.setFaults({ latencyMs: { read: 2_000 } });
    const started = Date.now();
    const error = await expectToolError(client({}, { timeoutMs: 200, retries: 1 }).read('H4sIslow'), 'UPSTREAM_TIMEOUT');
    expect(error.details).to.include({ attempts: 2 });
    expect(Date.now() - started).to.be.below(1_500);
  });

  it('gives UNAUTHORIZED with the setting to fix for a bad token', async () => {
    const error = await expectToolError(client({ accessToken: 'not-a-valid-token' }).read('H4sIanything'), 'UNAUTHORIZED');
    expect(error.fix).to.contain('COMPOSER_MCP_COMPOSER__ACCESS_TOKEN');
  });

  it('gives NOT_FOUND for an unknown uid', async () => {
    await expectToolError(client().read('H4sIAAAAAAAAAunknown+/='), 'NOT_FOUND');
  });

  it('says what is stored under a uid that is not a composition, and what to do (not "platform trouble")', async () => {
    for (const [content, found] of [['this is not JSON', 'not JSON'], ['[1,2,3]', 'a JSON array'], ['"text"', 'a JSON string'], ['null', 'JSON null'], ['42', 'a JSON number']] as const) {
      const uid = standin.storeRaw(content);
      const error = await expectToolError(client().read(uid), 'INVALID_COMPOSITION');
      expect(error.message, content).to.include(`uid ${JSON.stringify(uid)} is not a composition: it is ${found}`);
      expect(error.fix).to.match(/^Check the uid/).and.to.include('save the lesson again').and.not.match(/try again|trouble/i);
      expect(error.details).to.deep.equal({ found });
    }
  });

  it('reports a network failure as UPSTREAM_ERROR after retrying', async () => {
    const error = await expectToolError(client({ apiUrl: 'http://127.0.0.1:1' }, { retries: 1 }).read('H4sIx'), 'UPSTREAM_ERROR');
    expect(error.message).to.match(/Could not reach/);
  });

  describe('exactly once when the outcome is unknown', () => {
    const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    // Raw content stored by other tests (not a composition) has no title.
    const titleOf = (content: string) => {
      try {
        return (JSON.parse(content) as { metadata?: { title?: string } } | null)?.metadata?.title;
      } catch {
        return undefined;
      }
    };
    const storedWithTitle = (title: string) => standin.compositions().filter((c) => titleOf(c.content) === title);

    it('never repeats an upload sent to an API slower than its timeout: one copy, SAVE_OUTCOME_UNKNOWN, and the suggested retry uploads nothing', async () => {
      standin.setFaults({ latencyMs: { upload: 1_200 } });
      const storage = client({}, { uploadTimeoutMs: 300, retries: 2 });
      const started = Date.now();
      const error = await expectToolError(storage.upload(sampleComposition('slow-api')), 'SAVE_OUTCOME_UNKNOWN');
      expect(Date.now() - started).to.be.below(1_000);
      expect(error.message).to.contain('no usable answer');
      expect(error.fix).to.contain('retryUnknown=true').and.to.contain('"slow-api"');
      expect(error.details).to.include.keys('idempotencyKey', 'sentAt', 'fileName');
      const again = await expectToolError(storage.upload(sampleComposition('slow-api')), 'SAVE_OUTCOME_UNKNOWN');
      expect(again.message).to.contain('Nothing was uploaded now');
      await settle(1_500); // every upload the stand-in received has finished by now
      expect(storedWithTitle('slow-api')).to.have.length(1);
    });

    it('answers SAVE_OUTCOME_UNKNOWN for an upload the platform stored and never answered, and uploads again only when told to', async () => {
      standin.setFaults({ storeThenHangNext: 1 });
      const storage = client({}, { uploadTimeoutMs: 400 });
      await expectToolError(storage.upload(sampleComposition('stored-then-silent'), { idempotencyKey: 'silent-1' }), 'SAVE_OUTCOME_UNKNOWN');
      await expectToolError(storage.upload(sampleComposition('stored-then-silent'), { idempotencyKey: 'silent-1' }), 'SAVE_OUTCOME_UNKNOWN');
      expect(storedWithTitle('stored-then-silent')).to.have.length(1);
      // The caller looked, did not find it (say), and confirms: one more upload, then the key is done.
      const confirmed = await storage.upload(sampleComposition('stored-then-silent'), { idempotencyKey: 'silent-1', retryUnknown: true });
      expect(confirmed.created).to.equal(true);
      expect(await storage.upload(sampleComposition('stored-then-silent'), { idempotencyKey: 'silent-1' })).to.include({ uid: confirmed.uid, created: false });
      expect(storedWithTitle('stored-then-silent')).to.have.length(2);
    });

    it('with its memory of keys full of unknown outcomes, refuses a save with a new key (IDEMPOTENCY_STORE_FULL: what is full, what to do), uploading nothing and forgetting nothing', async () => {
      standin.setFaults({ storeThenHangNext: 1 });
      const storage = client({}, { uploadTimeoutMs: 300, retries: 0, idempotencyStore: new LruIdempotencyStore(1) });
      await expectToolError(storage.upload(sampleComposition('full-1'), { idempotencyKey: 'full-1' }), 'SAVE_OUTCOME_UNKNOWN');
      const before = standin.compositions().length;
      const error = await expectToolError(storage.upload(sampleComposition('full-2')), 'IDEMPOTENCY_STORE_FULL');
      expect(error.message).to.include('memory of save keys is full').and.include('outcome is unknown').and.include('nothing was uploaded');
      expect(error.fix).to.include('retryUnknown=true').and.include('COMPOSER_MCP_COMPOSER__IDEMPOTENCY__MAX_RECORDS');
      expect(error.details).to.deep.include({ store: 'memory', reason: 'cap', limit: 1, held: 1, pending: 1 });
      expect(standin.compositions().length).to.equal(before);
      // The unknown outcome was not evicted to make room: its key still answers SAVE_OUTCOME_UNKNOWN.
      await expectToolError(storage.upload(sampleComposition('full-1'), { idempotencyKey: 'full-1' }), 'SAVE_OUTCOME_UNKNOWN');
      expect(standin.compositions().length).to.equal(before);
    });

    it('refuses a key pending an unknown outcome for different content', async () => {
      standin.setFaults({ hangNext: { upload: 1 } });
      const storage = client({}, { uploadTimeoutMs: 300 });
      await expectToolError(storage.upload(sampleComposition('pending-a'), { idempotencyKey: 'pending-k' }), 'SAVE_OUTCOME_UNKNOWN');
      await expectToolError(storage.upload(sampleComposition('pending-b'), { idempotencyKey: 'pending-k' }), 'INVALID_INPUT');
    });

    it('gives uploads their own, longer timeout than reads', async () => {
      standin.setFaults({ latencyMs: { upload: 400, read: 400 } });
      const storage = client({}, { timeoutMs: 150, uploadTimeoutMs: 3_000, retries: 0 });
      const saved = await storage.upload(sampleComposition('long-upload'));
      expect(saved.created).to.equal(true);
      await expectToolError(storage.read(saved.uid), 'UPSTREAM_TIMEOUT');
    });

    it('repeats an upload the platform refused with a 5xx or that never left, storing one copy', async () => {
      standin.setFaults({ failNext: { upload: 2 }, failStatus: 503 });
      const refused = await client({}, { retries: 2 }).upload(sampleComposition('refused-twice'));
      expect(refused.created).to.equal(true);
      expect(storedWithTitle('refused-twice')).to.have.length(1);
      let calls = 0;
      const refusedConnection: Sender = async (request) => {
        calls += 1;
        return calls === 1 ? nodeHttpSender({ ...request, url: 'http://127.0.0.1:1/' }) : nodeHttpSender(request);
      };
      const neverSent = await client({}, { sender: refusedConnection }).upload(sampleComposition('never-sent-once'));
      expect(neverSent.created).to.equal(true);
      expect(calls).to.equal(2);
      expect(storedWithTitle('never-sent-once')).to.have.length(1);
    });

    it('treats a gateway 504 after the upload was sent as unknown, not as a failure to repeat', async () => {
      standin.setFaults({ failNext: { upload: 1 }, failStatus: 504 });
      await expectToolError(client({}, { retries: 2 }).upload(sampleComposition('gateway-504')), 'SAVE_OUTCOME_UNKNOWN');
    });
  });

  describe('redirects', () => {
    it('never follows a redirect, so the token and Project-Key never reach another origin', async () => {
      const { createServer } = await import('node:http');
      const seen: Record<string, string | string[] | undefined>[] = [];
      const elsewhere = createServer((req, res) => {
        seen.push(req.headers);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"uid":"H4sI-elsewhere"}');
      });
      const redirecting = createServer((req, res) => {
        res.writeHead(req.method === 'POST' ? 307 : 302, { location: `http://127.0.0.1:${(elsewhere.address() as { port: number }).port}${req.url}` }).end();
      });
      await Promise.all([new Promise<void>((r) => elsewhere.listen(0, '127.0.0.1', r)), new Promise<void>((r) => redirecting.listen(0, '127.0.0.1', r))]);
      try {
        const apiUrl = `http://127.0.0.1:${(redirecting.address() as { port: number }).port}`;
        const upload = await expectToolError(client({ apiUrl }).upload(sampleComposition('redirected')), 'UPSTREAM_ERROR');
        expect(upload.message).to.contain('redirect').and.to.contain('not followed');
        expect(upload.fix).to.contain('COMPOSER_MCP_COMPOSER__API_URL');
        const read = await expectToolError(client({ apiUrl }).read('H4sIredirected'), 'UPSTREAM_ERROR');
        expect(read.message).to.contain('HTTP 302');
        expect(seen).to.deep.equal([]);
      } finally {
        redirecting.close();
        elsewhere.close();
      }
    });
  });
});
