import { expect } from 'chai';
import { CoreV1Api, type KubeConfig, type KubernetesObject, type V1ConfigMap } from '@kubernetes/client-node';
import { Writable } from 'node:stream';
import { createLogger } from '#common/logger.ts';
import { sharedControlPlane } from '#support/control-plane/shared.ts';
import { createInformer, Informer, type InformerEvent } from '#kube/runtime/informer.ts';
import { isGone } from '#kube/runtime/kube-errors.ts';
import { kubeListWatchClient, resourcePath, type ListWatchClient } from '#kube/runtime/list-watch-client.ts';
import { PROBE_GROUP, createProbeCrd, eventually, testKubeConfig, testNamespace } from './kube-test-kit.ts';

function configMap(name: string, labels: Record<string, string>, data: Record<string, string> = {}): V1ConfigMap {
  return { metadata: { name, labels }, data };
}

describe('Informer against a real kube-apiserver', function () {
  this.timeout(60_000);
  let kc: KubeConfig;
  let core: CoreV1Api;
  let ns: { name: string; remove(): Promise<void> };
  const informers: Array<Informer<KubernetesObject>> = [];
  const cleanups: Array<() => Promise<void>> = [];

  before(async () => {
    kc = testKubeConfig();
    core = kc.makeApiClient(CoreV1Api);
    ns = await testNamespace(kc, 'rt-informer');
  });

  afterEach(async () => {
    for (const informer of informers.splice(0)) await informer.stop();
  });

  after(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
    await ns?.remove();
  });

  it('lists, then watches ConfigMaps matching a label selector, reporting old and new on update', async () => {
    await core.createNamespacedConfigMap({ namespace: ns.name, body: configMap('one', { app: 'rt' }, { v: '1' }) });
    await core.createNamespacedConfigMap({ namespace: ns.name, body: configMap('two', { app: 'rt' }) });
    await core.createNamespacedConfigMap({ namespace: ns.name, body: configMap('other', { app: 'else' }) });
    const informer = createInformer<KubernetesObject>(kc, { version: 'v1', plural: 'configmaps', namespace: ns.name }, {
      labelSelector: 'app=rt',
    });
    informers.push(informer);
    const events: Array<InformerEvent<KubernetesObject>> = [];
    informer.onEvent((e) => events.push(e));
    informer.start();
    expect(await informer.waitForSync(AbortSignal.timeout(20_000))).to.equal(true);
    expect(informer.list().map((o) => o.metadata?.name).toSorted()).to.deep.equal(['one', 'two']);
    expect(informer.get(`${ns.name}/one`)?.kind).to.equal('ConfigMap');

    await core.createNamespacedConfigMap({ namespace: ns.name, body: configMap('three', { app: 'rt' }) });
    await core.patchNamespacedConfigMap({ name: 'one', namespace: ns.name, body: [{ op: 'replace', path: '/data/v', value: '2' }] });
    await core.deleteNamespacedConfigMap({ name: 'two', namespace: ns.name });
    await eventually(() => events.some((e) => e.type === 'delete' && e.object.metadata?.name === 'two'), 10_000, 'the delete of "two" is seen');

    const added = events.filter((e) => e.type === 'add').map((e) => e.object.metadata?.name);
    expect(added.toSorted()).to.deep.equal(['one', 'three', 'two']);
    const update = events.find((e) => e.type === 'update' && e.object.metadata?.name === 'one');
    expect(update?.type === 'update' && (update.old as V1ConfigMap).data?.['v']).to.equal('1');
    expect((update?.object as V1ConfigMap | undefined)?.data?.['v']).to.equal('2');
    expect(informer.list().map((o) => o.metadata?.name).toSorted()).to.deep.equal(['one', 'three']);
    expect(events.some((e) => e.object.metadata?.name === 'other')).to.equal(false);
  });

  it('resumes from its last resourceVersion, without relisting or warning, when the server ends a watch on schedule', async () => {
    const lines: string[] = [];
    const logger = createLogger({
      component: 'test',
      level: 'debug',
      format: 'json',
      stream: new Writable({ write: (chunk: Buffer, _enc, cb) => (lines.push(chunk.toString()), cb()) }),
    });
    let lists = 0;
    let watches = 0;
    const real = kubeListWatchClient<KubernetesObject>(kc, resourcePath({ version: 'v1', plural: 'configmaps', namespace: ns.name }));
    const client: ListWatchClient<KubernetesObject> = {
      list: (options) => (lists++, real.list(options)),
      watch: (options, onEvent, onDone) => (watches++, real.watch(options, onEvent, onDone)),
    };
    const informer = new Informer<KubernetesObject>({ client, logger, labelSelector: 'app=short', watchTimeoutSeconds: 1 });
    informers.push(informer);
    informer.start();
    await informer.waitForSync(AbortSignal.timeout(20_000));
    await eventually(() => watches >= 3, 15_000, 'the server ended two 1 s watches and the informer resumed');
    await core.createNamespacedConfigMap({ namespace: ns.name, body: configMap('late', { app: 'short' }) });
    await eventually(() => informer.get(`${ns.name}/late`) !== undefined, 10_000, 'an object created later is seen');
    expect(lists).to.equal(1);
    expect(lines.filter((l) => /"level":"(warn|error)"/.test(l))).to.deep.equal([]);
  });

  it('watches a cluster-scoped resource, keyed by name alone', async () => {
    const marker = ns.name;
    const informer = createInformer<KubernetesObject>(kc, { version: 'v1', plural: 'namespaces' }, { labelSelector: `rt-marker=${marker}` });
    informers.push(informer);
    informer.start();
    await informer.waitForSync(AbortSignal.timeout(20_000));
    expect(informer.list()).to.deep.equal([]);
    const name = `${marker}-cluster`;
    await core.createNamespace({ body: { metadata: { name, labels: { 'rt-marker': marker } } } });
    cleanups.push(async () => {
      await core.deleteNamespace({ name }).catch(() => undefined);
    });
    await eventually(() => informer.get(name) !== undefined, 10_000, 'the labelled namespace is seen under its bare name');
    expect(informer.get(name)?.kind).to.equal('Namespace');
  });

  it('relists after a real 410 Gone when its watch resourceVersion is too old', async function () {
    this.timeout(90_000);
    // A CRD's watch cache starts at the CRD's creation, so resourceVersion "1" is older than anything the server
    // still holds and it answers 410 (built-in resources keep every version since a fresh control plane started).
    const probes = await createProbeCrd(kc);
    cleanups.push(probes.remove);
    const location = { group: PROBE_GROUP, version: 'v1', plural: 'probes', namespace: ns.name };
    const real = kubeListWatchClient<KubernetesObject>(kc, resourcePath(location));

    let rawWatch: { stop(): void } | undefined;
    const gone = await new Promise<unknown>((resolve) => {
      real
        .watch(
          { resourceVersion: '1', allowWatchBookmarks: true },
          (type, object) => {
            if (type === 'ERROR') resolve(object);
          },
          (err) => resolve(err ?? 'closed without an error'),
        )
        .then((handle) => (rawWatch = handle), resolve);
    });
    rawWatch?.stop();
    expect(isGone(gone), `expected 410 from the server, got ${JSON.stringify(gone)}`).to.equal(true);

    // An informer whose first watch starts from that too-old version must relist and carry on.
    let watches = 0;
    let lists = 0;
    const client: ListWatchClient<KubernetesObject> = {
      list: async (options) => {
        lists++;
        return real.list(options);
      },
      watch: (options, onEvent, onDone) => {
        watches++;
        return real.watch(watches === 1 ? { ...options, resourceVersion: '1' } : options, onEvent, onDone);
      },
    };
    await probes.create(ns.name, 'before-gone');
    const informer = new Informer<KubernetesObject>({ client, name: 'probes' });
    informers.push(informer);
    informer.start();
    expect(await informer.waitForSync(AbortSignal.timeout(20_000))).to.equal(true);
    await eventually(() => lists >= 2 && watches >= 2, 10_000, 'the informer relisted and watched again');
    await probes.create(ns.name, 'after-gone');
    await eventually(() => informer.get(`${ns.name}/after-gone`) !== undefined, 10_000, 'the watch after the relist delivers new objects');
    expect(informer.list().map((o) => o.metadata?.name).toSorted()).to.deep.equal(['after-gone', 'before-gone']);
    expect(informer.get(`${ns.name}/after-gone`)?.kind).to.equal('Probe');
  });

  it('survives an API server restart and catches up on changes made meanwhile', async function () {
    this.timeout(180_000);
    const informer = createInformer<KubernetesObject>(kc, { version: 'v1', plural: 'configmaps', namespace: ns.name }, {
      labelSelector: 'app=restart',
      backoff: { initialMs: 200, maxMs: 2000 },
    });
    informers.push(informer);
    informer.start();
    await informer.waitForSync(AbortSignal.timeout(20_000));
    await core.createNamespacedConfigMap({ namespace: ns.name, body: configMap('r1', { app: 'restart' }) });
    await eventually(() => informer.get(`${ns.name}/r1`) !== undefined, 10_000, 'r1 is seen before the restart');

    await sharedControlPlane().restartApiserver();
    await core.createNamespacedConfigMap({ namespace: ns.name, body: configMap('r2', { app: 'restart' }) });
    await core.deleteNamespacedConfigMap({ name: 'r1', namespace: ns.name });
    const since = Date.now();
    await eventually(
      () => informer.get(`${ns.name}/r2`) !== undefined && informer.get(`${ns.name}/r1`) === undefined,
      15_000,
      'changes after the restart are seen',
    );
    console.log(`      informer caught up ${Date.now() - since} ms after the restarted apiserver was ready`);
  });
});
