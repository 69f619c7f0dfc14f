import { expect } from 'chai';
import { Writable } from 'node:stream';
import type { KubernetesObject } from '@kubernetes/client-node';
import { FakeClock, flushMicrotasks } from '#support/fake-clock.ts';
import { createLogger } from '#common/logger.ts';
import { Informer, type InformerEvent } from '#kube/runtime/informer.ts';
import { byOwnerUid } from '#kube/runtime/indexed-cache.ts';
import { MultiNamespaceInformer, informerForNamespaces } from '#kube/runtime/multi-namespace-informer.ts';
import { ScriptedListWatch, testObject } from './fake-list-watch.ts';

const quiet = createLogger({ component: 'test', stream: new Writable({ write: (_c, _e, cb) => cb() }) });

function inNamespace(namespace: string, name: string, owner?: string): KubernetesObject {
  const o = testObject(name, '5', owner ? { kind: 'X', name: owner } : undefined);
  o.metadata!.namespace = namespace;
  return o;
}

describe('MultiNamespaceInformer (scripted API per namespace)', () => {
  let clock: FakeClock;
  let apis: Map<string, ScriptedListWatch>;
  let informer: MultiNamespaceInformer<KubernetesObject>;
  const create = (namespace: string | undefined): Informer<KubernetesObject> => {
    const api = new ScriptedListWatch();
    apis.set(namespace ?? '*', api);
    return new Informer({ client: api, clock, logger: quiet, indexers: { owner: byOwnerUid } });
  };

  beforeEach(() => {
    clock = new FakeClock();
    apis = new Map();
    informer = new MultiNamespaceInformer('things', ['team-a', 'team-b', 'team-a'], create);
  });

  afterEach(async () => {
    await informer.stop();
  });

  it('watches each namespace on its own (repeats once) and syncs only when every one has', async () => {
    expect(informer.namespaces()).to.deep.equal(['team-a', 'team-b']);
    expect([...apis.keys()]).to.deep.equal(['team-a', 'team-b']);
    apis.get('team-a')!.items = [inNamespace('team-a', 'x', 'pool-1')];
    let releaseB!: () => void;
    apis.get('team-b')!.listGate = new Promise((r) => (releaseB = r));
    apis.get('team-b')!.items = [inNamespace('team-b', 'y', 'pool-1')];
    informer.start();
    await flushMicrotasks();
    expect(informer.hasSynced(), 'team-b has not listed yet').to.equal(false);
    releaseB();
    expect(await informer.waitForSync()).to.equal(true);
    expect(informer.hasSynced()).to.equal(true);
    expect(informer.list().map((o) => o.metadata?.name).toSorted()).to.deep.equal(['x', 'y']);
    expect(informer.get('team-b/y')?.metadata?.name).to.equal('y');
    expect(informer.get('team-a/y'), 'keys are read from their own namespace').to.equal(undefined);
    expect(informer.get('y')).to.equal(undefined);
    expect(informer.byIndex('owner', 'uid-pool-1').map((o) => o.metadata?.namespace).toSorted()).to.deep.equal(['team-a', 'team-b']);
  });

  it('hands every namespace\'s events to each handler, until it is removed', async () => {
    const events: Array<InformerEvent<KubernetesObject>> = [];
    const remove = informer.onEvent((e) => events.push(e));
    informer.start();
    await informer.waitForSync();
    await flushMicrotasks();
    apis.get('team-a')!.last().emit('ADDED', inNamespace('team-a', 'p'));
    apis.get('team-b')!.last().emit('ADDED', inNamespace('team-b', 'q'));
    expect(events.map((e) => `${e.type} ${e.object.metadata?.namespace}/${e.object.metadata?.name}`)).to.deep.equal(['add team-a/p', 'add team-b/q']);
    remove();
    apis.get('team-b')!.last().emit('DELETED', inNamespace('team-b', 'q'));
    expect(events).to.have.length(2);
    expect(informer.get('team-b/q')).to.equal(undefined);
  });

  it('is a plain informer for every namespace or a single one, and several only for a list', () => {
    apis = new Map();
    expect(informerForNamespaces('things', undefined, create)).to.be.instanceOf(Informer);
    expect([...apis.keys()]).to.deep.equal(['*']);
    expect(informerForNamespaces('things', ['only', 'only'], create)).to.be.instanceOf(Informer);
    expect(informerForNamespaces('things', ['a', 'b'], create)).to.be.instanceOf(MultiNamespaceInformer);
    expect(() => new MultiNamespaceInformer('things', [], create)).to.throw(/at least one namespace/);
  });
});
