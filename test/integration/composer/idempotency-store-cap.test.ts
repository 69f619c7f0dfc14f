import { expect } from 'chai';
import { PassThrough } from 'node:stream';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { createLogger } from '#common/logger.ts';
import type { ComposerStandin } from '#support/composer-standin/standin.ts';
import { createTestNamespace, eventually, sharedKubeConfig, type TestNamespace } from '#support/control-plane/kube-test-kit.ts';
import { IdempotentReplicas, type ReplicaStoreOptions } from '#support/idempotent-replicas.ts';
import { IdempotencyStoreFullError } from '#server/composer/storage/idempotency-store.ts';
import { IDEMPOTENCY_LABELS } from '#server/composer/storage/kubernetes-idempotency-store.ts';
import { composerErrorFrom as failure, oneTextWidgetComposition as composition, startStandinWithSettings } from './composer-fixtures.ts';

const JWT_SECRET = 'standin-idempotency-cap-secret-0123456789';

/** A logger whose JSON lines the test reads. */
function recordingLogger(): { logger: ReturnType<typeof createLogger>; lines: () => Array<Record<string, unknown>> } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (c: Buffer) => (text += c.toString()));
  return { logger: createLogger({ component: 'test', format: 'json', stream, level: 'info' }), lines: () => text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

/**
 * The Kubernetes idempotency store caps its records in code (issue 9 item 8): a save with a new key past the cap is
 * refused with IDEMPOTENCY_STORE_FULL (what is full, what to do) before anything is uploaded, keys already recorded
 * still answer, and a ResourceQuota refusal of the API server gets the same clear error instead of whatever a 403
 * maps to. Real apiserver, Composer stand-in.
 */
describe('the Kubernetes idempotency store is capped, with a clear error (real apiserver, Composer stand-in)', function () {
  this.timeout(90_000);
  let kc: KubeConfig;
  let core: CoreV1Api;
  let standin: ComposerStandin;
  const namespaces: TestNamespace[] = [];
  let replicas: IdempotentReplicas;

  before(async () => {
    kc = sharedKubeConfig();
    core = kc.makeApiClient(CoreV1Api);
    const started = await startStandinWithSettings({ jwtSecret: JWT_SECRET });
    standin = started.standin;
    replicas = new IdempotentReplicas(kc, started.settings);
  });
  after(async () => {
    await replicas?.stopAll();
    await standin?.stop();
    for (const ns of namespaces) await ns.remove();
  });

  const replica = (namespace: string, options: ReplicaStoreOptions = {}) => replicas.make(namespace, options);
  const uploadsOf = (title: string) => standin.compositions().filter((c) => c.content.includes(`"title":"${title}"`)).length;

  it('refuses a new key at maxRecords on every replica, uploading nothing; recorded keys still answer; the sweep makes room', async () => {
    const ns = await createTestNamespace(kc, 'idem-cap');
    namespaces.push(ns);
    let now = Date.now();
    const a = replica(ns.name, { maxRecords: 3, recountAfterMs: 0, ttlMs: 3_600_000, now: () => now });
    const first = await a.client.upload(composition('Cap 1'));
    await a.client.upload(composition('Cap 2'));
    await a.client.upload(composition('Cap 3'));
    const full = await failure(a.client.upload(composition('Cap 4')));
    expect(full.code).to.equal('IDEMPOTENCY_STORE_FULL');
    expect(full.message).to.include(`3 records in namespace ${ns.name} reach composer.idempotency.maxRecords (3)`).and.include('nothing was uploaded');
    expect(full.fix).to.include('records expire after composer.idempotency.ttlSeconds').and.include('server.idempotency.maxRecords');
    expect(full.details).to.deep.include({ store: 'kubernetes', reason: 'cap', limit: 3, held: 3, namespace: ns.name });
    expect(uploadsOf('Cap 4')).to.equal(0);
    // Another replica counts the namespace's records before its first new key, and refuses too.
    const b = replica(ns.name, { maxRecords: 3 });
    expect((await failure(b.client.upload(composition('Cap 5')))).code).to.equal('IDEMPOTENCY_STORE_FULL');
    // A retry of a recorded save is still answered at the cap, on any replica.
    expect(await b.client.upload(composition('Cap 1'))).to.include({ uid: first.uid, created: false });
    // Past the TTL the sweep deletes the records; the next claim counts again and saves.
    now += 2 * 3_600_000;
    expect(await a.store.sweep()).to.equal(3);
    expect(await a.client.upload(composition('Cap 4'))).to.include({ created: true });
    expect(uploadsOf('Cap 4')).to.equal(1);
  });

  it('says so when the sweep expires a key whose save was never settled (uploading or outcome unknown)', async () => {
    const ns = await createTestNamespace(kc, 'idem-expire');
    namespaces.push(ns);
    let now = Date.now();
    const { logger, lines } = recordingLogger();
    const { store } = replica(ns.name, { ttlMs: 60_000, now: () => now, logger });
    await store.claim('k-unknown', 'sha256:aa');
    await store.markUnknown('k-unknown', { contentKey: 'sha256:aa', since: new Date(now).toISOString(), fileName: 'composition-x.rdpcomposer' });
    await store.claim('k-done', 'sha256:bb');
    await store.set('k-done', { uid: 'H4sIdone', contentKey: 'sha256:bb' });
    now += 120_000;
    expect(await store.sweep()).to.equal(2);
    const warning = lines().find((l) => String(l['message']).startsWith('Expired idempotency keys whose save was never settled'));
    expect(warning, JSON.stringify(lines())).to.include({ expired: 1 });
    expect(warning?.['names']).to.have.length(1);
  });

  it('maps the namespace\'s ConfigMap quota refusing a claim to IDEMPOTENCY_STORE_FULL naming the quota, not a bare 403', async () => {
    const ns = await createTestNamespace(kc, 'idem-quota');
    namespaces.push(ns);
    // The namespace's own ConfigMaps (the root CA bundle, published by the controller manager) count against the quota.
    await eventually(async () => (await core.listNamespacedConfigMap({ namespace: ns.name })).items.some((c) => c.metadata?.name === 'kube-root-ca.crt'), 30_000, 'the root CA ConfigMap').catch(() => undefined);
    const existing = (await core.listNamespacedConfigMap({ namespace: ns.name })).items.length;
    await core.createNamespacedResourceQuota({ namespace: ns.name, body: { metadata: { name: 'configmaps' }, spec: { hard: { 'count/configmaps': String(existing + 1) } } } });
    await eventually(async () => (await core.readNamespacedResourceQuota({ namespace: ns.name, name: 'configmaps' })).status?.hard?.['count/configmaps'] !== undefined, 60_000, 'the quota controller to account the namespace');
    const { store, client } = replica(ns.name, { maxRecords: 1_000 });
    const saved = await client.upload(composition('Quota 1'));
    const error = await failure(client.upload(composition('Quota 2')));
    expect(error.code).to.equal('IDEMPOTENCY_STORE_FULL');
    expect(error.message).to.include(`namespace ${ns.name} has reached its ConfigMap quota`).and.include('Nothing was uploaded');
    expect(error.fix).to.include('server.idempotency.maxConfigMaps');
    expect(error.details).to.deep.include({ store: 'kubernetes', reason: 'quota' });
    expect(uploadsOf('Quota 2')).to.equal(0);
    expect(await client.upload(composition('Quota 1'))).to.include({ uid: saved.uid, created: false });
    const direct = await store.claim('another-key', 'sha256:cc').then(() => undefined, (e: unknown) => e);
    expect(direct).to.be.instanceOf(IdempotencyStoreFullError);
    // Only this store's records are counted toward its own cap.
    expect(await store.countRecords()).to.equal((await core.listNamespacedConfigMap({ namespace: ns.name, labelSelector: Object.entries(IDEMPOTENCY_LABELS).map(([k, v]) => `${k}=${v}`).join(',') })).items.length);
  });
});
