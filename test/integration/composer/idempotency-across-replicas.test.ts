import { expect } from 'chai';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { ComposerStandin } from '#support/composer-standin/standin.ts';
import { createTestNamespace, sharedKubeConfig, type TestNamespace } from '#support/control-plane/kube-test-kit.ts';
import { IdempotentReplicas, type IdempotentReplica } from '#support/idempotent-replicas.ts';
import { contentIdempotencyKey } from '#server/composer/storage/idempotency-key.ts';
import { IDEMPOTENCY_LABELS, idempotencyObjectName, KubernetesIdempotencyStore } from '#server/composer/storage/kubernetes-idempotency-store.ts';
import type { ComposerSettings } from '#server/tools/services.ts';
import { composerErrorFrom as toolError, oneTextWidgetComposition as composition, startStandinWithSettings } from './composer-fixtures.ts';

const JWT_SECRET = 'standin-idempotency-secret-0123456789';
const STALE_MS = 60_000;

describe('exactly-once saves across replicas with the Kubernetes idempotency store (real apiserver, Composer stand-in)', function () {
  this.timeout(60_000);
  let kc: KubeConfig;
  let core: CoreV1Api;
  let ns: TestNamespace;
  let standin: ComposerStandin;
  let settings: ComposerSettings;
  let run = 0;
  let replicas: IdempotentReplicas;

  before(async () => {
    kc = sharedKubeConfig();
    core = kc.makeApiClient(CoreV1Api);
    ns = await createTestNamespace(kc, 'idem');
    ({ standin, settings } = await startStandinWithSettings({ jwtSecret: JWT_SECRET }));
    replicas = new IdempotentReplicas(kc, settings);
  });
  after(async () => {
    await replicas?.stopAll();
    await standin?.stop();
    await ns?.remove();
  });
  beforeEach(() => {
    standin.resetFaults();
    run += 1;
  });

  /** A "replica": its own store instance (own claims, own local cache) and storage client, sharing the namespace. */
  function replica(options: { claimWaitMs?: number; retries?: number; now?: () => number; ttlMs?: number; uploadTimeoutMs?: number } = {}): IdempotentReplica {
    return replicas.make(
      ns.name,
      { staleAfterMs: STALE_MS, ...(options.now ? { now: options.now } : {}), ...(options.ttlMs ? { ttlMs: options.ttlMs } : {}) },
      { claimPollMs: 50, ...(options.claimWaitMs ? { claimWaitMs: options.claimWaitMs } : {}), ...(options.retries !== undefined ? { retries: options.retries } : {}), ...(options.uploadTimeoutMs ? { uploadTimeoutMs: options.uploadTimeoutMs } : {}) },
    );
  }
  const scoped = (key: string) => `${settings.apiUrl}\n${settings.connectorUid}\n${key}`;
  const storedWithTitle = (title: string) => standin.compositions().filter((c) => (JSON.parse(c.content) as { metadata: { title: string } }).metadata.title === title);
  const readObject = (key: string) => core.readNamespacedConfigMap({ name: idempotencyObjectName(scoped(key)), namespace: ns.name });

  it('stores exactly one composition when two replicas save the same content at the same time; both answer its uid, one created', async () => {
    standin.setFaults({ latencyMs: { upload: 400 } });
    const title = `Concurrent ${run}`;
    const [a, b] = [replica(), replica()];
    const results = await Promise.all([a.client.upload(composition(title)), b.client.upload(composition(title)), a.client.upload(composition(title)), b.client.upload(composition(title))]);
    expect(storedWithTitle(title)).to.have.length(1);
    expect(new Set(results.map((r) => r.uid))).to.deep.equal(new Set([storedWithTitle(title)[0]!.uid]));
    expect(results.filter((r) => r.created)).to.have.length(1);
    const object = await readObject(results[0]!.idempotencyKey);
    expect(object.data).to.include({ uid: results[0]!.uid, contentKey: results[0]!.idempotencyKey });
    expect(object.metadata?.labels).to.include(IDEMPOTENCY_LABELS);
  });

  it('answers a retry that lands on another replica with the first uid and created: false, uploading nothing', async () => {
    const title = `Sequential ${run}`;
    const first = await replica().client.upload(composition(title), { idempotencyKey: `lesson-${run}` });
    const retried = await replica().client.upload(composition(title), { idempotencyKey: `lesson-${run}` });
    expect(first.created).to.equal(true);
    expect(retried).to.include({ uid: first.uid, created: false });
    expect(storedWithTitle(title)).to.have.length(1);
  });

  it('refuses a key reused for different content on another replica (INVALID_INPUT), storing nothing new', async () => {
    const key = `reused-${run}`;
    const first = await replica().client.upload(composition(`Original ${run}`), { idempotencyKey: key });
    const error = await toolError(replica().client.upload(composition(`Changed ${run}`), { idempotencyKey: key }));
    expect(error.code).to.equal('INVALID_INPUT');
    expect(error.message).to.include(first.uid);
    expect(storedWithTitle(`Changed ${run}`)).to.have.length(0);
  });

  it('refuses different content while another replica is still uploading under the same key', async () => {
    standin.setFaults({ latencyMs: { upload: 800 } });
    const key = `racing-${run}`;
    const first = replica().client.upload(composition(`Racing A ${run}`), { idempotencyKey: key });
    await new Promise((r) => setTimeout(r, 300));
    const error = await toolError(replica().client.upload(composition(`Racing B ${run}`), { idempotencyKey: key }));
    expect(error.code).to.equal('INVALID_INPUT');
    expect((await first).created).to.equal(true);
    expect(storedWithTitle(`Racing B ${run}`)).to.have.length(0);
  });

  it('treats a claim whose claimer died mid-upload (no uid, older than the stale age) as an unknown outcome: nothing is uploaded until the caller confirms', async () => {
    const title = `Abandoned ${run}`;
    const doc = composition(title);
    const { client, store } = replica();
    // What a crashed replica leaves: the claim object without a uid, claimed longer ago than the stale age.
    const contentKey = contentIdempotencyKey(doc);
    await core.createNamespacedConfigMap({ namespace: ns.name, body: { metadata: { name: idempotencyObjectName(scoped(contentKey)), labels: { ...IDEMPOTENCY_LABELS } }, data: { contentKey, createdAt: new Date(Date.now() - STALE_MS - 1_000).toISOString() } } });
    const error = await toolError(client.upload(doc));
    expect(error.code).to.equal('SAVE_OUTCOME_UNKNOWN');
    expect(storedWithTitle(title)).to.have.length(0);
    const saved = await client.upload(doc, { retryUnknown: true });
    expect(saved.created).to.equal(true);
    expect(storedWithTitle(title)).to.have.length(1);
    expect((await readObject(contentKey)).data?.['uid']).to.equal(saved.uid);
    expect(await store.get(scoped(contentKey))).to.deep.equal({ uid: saved.uid, contentKey });
  });

  it('keeps an upload that was stored and never answered pending on every replica: one copy, SAVE_OUTCOME_UNKNOWN everywhere, until confirmed', async () => {
    const title = `Silent ${run}`;
    const key = `silent-${run}`;
    standin.setFaults({ storeThenHangNext: 1 });
    const [a, b] = [replica({ uploadTimeoutMs: 400 }), replica({ uploadTimeoutMs: 400 })];
    const first = await toolError(a.client.upload(composition(title), { idempotencyKey: key }));
    expect(first.code).to.equal('SAVE_OUTCOME_UNKNOWN');
    const object = await readObject(key);
    expect(object.data).to.include({ outcome: 'unknown', contentKey: contentIdempotencyKey(composition(title)) });
    expect(object.data?.['fileName']).to.match(/^composition-[0-9a-f]{32}\.rdpcomposer$/);
    const elsewhere = await toolError(b.client.upload(composition(title), { idempotencyKey: key }));
    expect(elsewhere.code).to.equal('SAVE_OUTCOME_UNKNOWN');
    expect(elsewhere.message).to.contain('Nothing was uploaded now');
    expect(storedWithTitle(title)).to.have.length(1);
    const confirmed = await b.client.upload(composition(title), { idempotencyKey: key, retryUnknown: true });
    expect(confirmed.created).to.equal(true);
    expect(await a.client.upload(composition(title), { idempotencyKey: key })).to.include({ uid: confirmed.uid, created: false });
    expect(storedWithTitle(title)).to.have.length(2);
  });

  it('waits on a live claim and returns the uid its claimer writes (created: false), and gives up with UPSTREAM_TIMEOUT when none comes', async () => {
    const title = `Waiting ${run}`;
    const doc = composition(title);
    const contentKey = contentIdempotencyKey(doc);
    const name = idempotencyObjectName(scoped(contentKey));
    await core.createNamespacedConfigMap({ namespace: ns.name, body: { metadata: { name, labels: { ...IDEMPOTENCY_LABELS } }, data: { contentKey, createdAt: new Date().toISOString() } } });
    const timedOut = await toolError(replica({ claimWaitMs: 500 }).client.upload(doc));
    expect(timedOut.code).to.equal('UPSTREAM_TIMEOUT');
    const waiting = replica().client.upload(doc);
    await new Promise((r) => setTimeout(r, 300));
    const claim = await core.readNamespacedConfigMap({ name, namespace: ns.name });
    await core.replaceNamespacedConfigMap({ name, namespace: ns.name, body: { ...claim, data: { ...claim.data, uid: 'H4sI-written-by-the-claimer' } } });
    expect(await waiting).to.include({ uid: 'H4sI-written-by-the-claimer', created: false });
    expect(storedWithTitle(title)).to.have.length(0);
  });

  it('releases the claim when the upload fails, so the next save (on any replica) uploads at once', async () => {
    const title = `Failed first ${run}`;
    standin.setFaults({ failNext: { upload: 1 } });
    const error = await toolError(replica({ retries: 0 }).client.upload(composition(title), { idempotencyKey: `fails-${run}` }));
    expect(error.code).to.equal('UPSTREAM_ERROR');
    const missing = await readObject(`fails-${run}`).then(() => 'present', () => 'absent');
    expect(missing).to.equal('absent');
    const saved = await replica({ claimWaitMs: 1_000 }).client.upload(composition(title), { idempotencyKey: `fails-${run}` });
    expect(saved.created).to.equal(true);
    expect(storedWithTitle(title)).to.have.length(1);
  });

  it('sweeps records older than the TTL and only those (fresh records, claims and unlabelled ConfigMaps stay), in bounded steps', async () => {
    const sweepNs = await createTestNamespace(kc, 'idem-sweep');
    try {
      const now = Date.now();
      const make = (name: string, ageMs: number, labels: Record<string, string> = { ...IDEMPOTENCY_LABELS }, uid = 'H4sI-x') =>
        core.createNamespacedConfigMap({ namespace: sweepNs.name, body: { metadata: { name, labels }, data: { uid, contentKey: 'sha256:aa', createdAt: new Date(now - ageMs).toISOString() } } });
      await Promise.all([
        make('composer-mcp-save-old-1', 3 * 3_600_000), make('composer-mcp-save-old-2', 2 * 3_600_000), make('composer-mcp-save-old-3', 90 * 60_000),
        make('composer-mcp-save-fresh', 10 * 60_000), make('composer-mcp-save-fresh-claim', 60_000, undefined, ''),
        make('unrelated-old', 5 * 3_600_000, { 'app.kubernetes.io/part-of': 'composer-mcp' }),
      ]);
      const store = new KubernetesIdempotencyStore({ kubeConfig: kc, namespace: sweepNs.name, staleAfterMs: STALE_MS, ttlMs: 3_600_000, sweepIntervalMs: 0, sweepMaxDeletes: 2 });
      expect(await store.sweep()).to.equal(2);
      expect(await store.sweep()).to.equal(1);
      expect(await store.sweep()).to.equal(0);
      const left = (await core.listNamespacedConfigMap({ namespace: sweepNs.name })).items.map((c) => c.metadata!.name!).filter((n) => n !== 'kube-root-ca.crt');
      expect(left.toSorted()).to.deep.equal(['composer-mcp-save-fresh', 'composer-mcp-save-fresh-claim', 'unrelated-old']);
    } finally {
      await sweepNs.remove();
    }
  });
});
