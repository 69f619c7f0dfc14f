import { expect } from 'chai';
import type { KubernetesObject } from '@kubernetes/client-node';
import { ApiException } from '@kubernetes/client-node';
import { FakeClock, flushMicrotasks } from '#support/fake-clock.ts';
import { Informer, type InformerEvent } from '#kube/runtime/informer.ts';
import { byOwnerUid } from '#kube/runtime/indexed-cache.ts';
import { ScriptedListWatch, testObject } from './fake-list-watch.ts';
import { createLogger } from '#common/logger.ts';
import { Writable } from 'node:stream';

const quiet = createLogger({ component: 'test', stream: new Writable({ write: (_c, _e, cb) => cb() }) });

function obj(name: string, rv: string, owner?: string): KubernetesObject {
  return testObject(name, rv, owner ? { kind: 'X', name: owner } : undefined);
}

describe('Informer (scripted API)', () => {
  let clock: FakeClock;
  let api: ScriptedListWatch;
  let informer: Informer<KubernetesObject>;
  let events: Array<InformerEvent<KubernetesObject>>;

  beforeEach(() => {
    clock = new FakeClock();
    api = new ScriptedListWatch();
    events = [];
    informer = new Informer({ client: api, clock, logger: quiet, indexers: { owner: byOwnerUid }, backoff: { initialMs: 100, maxMs: 1000 } });
    informer.onEvent((e) => events.push(e));
  });

  afterEach(async () => {
    await informer.stop();
  });

  it('lists, syncs, then watches from the list resourceVersion with bookmarks', async () => {
    api.items = [obj('a', '5', 'pool-1'), obj('b', '6', 'pool-2')];
    informer.start();
    expect(await informer.waitForSync()).to.equal(true);
    await flushMicrotasks();
    expect(informer.hasSynced()).to.equal(true);
    expect(informer.list().map((o) => o.metadata?.name).toSorted()).to.deep.equal(['a', 'b']);
    expect(informer.byIndex('owner', 'uid-pool-1').map((o) => o.metadata?.name)).to.deep.equal(['a']);
    expect(api.last().options).to.include({ resourceVersion: '10', allowWatchBookmarks: true });
    expect(events.map((e) => e.type)).to.deep.equal(['add', 'add']);
  });

  it('applies watch events with old and new objects and keeps indexes in step', async () => {
    api.items = [obj('a', '5', 'pool-1')];
    informer.start();
    await informer.waitForSync();
    await flushMicrotasks();
    api.last().emit('MODIFIED', obj('a', '11', 'pool-2'));
    api.last().emit('ADDED', obj('c', '12'));
    api.last().emit('BOOKMARK', { metadata: { resourceVersion: '13' } });
    api.last().emit('DELETED', obj('c', '14'));
    const update = events.find((e) => e.type === 'update');
    expect(update && update.type === 'update' && update.old.metadata?.resourceVersion).to.equal('5');
    expect(informer.get('ns/a')?.metadata?.resourceVersion).to.equal('11');
    expect(informer.byIndex('owner', 'uid-pool-1')).to.deep.equal([]);
    expect(informer.byIndex('owner', 'uid-pool-2').length).to.equal(1);
    expect(informer.get('ns/c')).to.equal(undefined);
    expect(informer.lastSyncResourceVersion()).to.equal('14');
    expect(() => informer.byIndex('nope', 'x')).to.throw(/Unknown index "nope"/);
  });

  it('relists at once after a 410 ERROR event and reports what changed meanwhile', async () => {
    api.items = [obj('a', '5'), obj('b', '6')];
    informer.start();
    await informer.waitForSync();
    await flushMicrotasks();
    events = [];
    api.items = [obj('a', '20'), obj('d', '21')];
    api.rv = '30';
    api.last().emit('ERROR', { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version' });
    await clock.tick(0);
    expect(api.lists).to.equal(2);
    expect(events.map((e) => `${e.type}:${e.object.metadata?.name}`).toSorted()).to.deep.equal(['add:d', 'delete:b', 'update:a']);
    expect(api.last().options.resourceVersion).to.equal('30');
  });

  it('backs off after errors and resumes the watch from the last version', async () => {
    api.listError = new ApiException(500, 'boom', '{"kind":"Status","code":500,"message":"etcd down"}', {});
    informer.start();
    await clock.tick(0);
    expect(informer.hasSynced()).to.equal(false);
    await clock.tick(200);
    expect(informer.hasSynced()).to.equal(true);
    await clock.tick(0);
    const watchesBefore = api.watches.length;
    api.last().emit('ADDED', obj('x', '15'));
    api.last().done(new Error('connection reset'));
    await clock.tick(0);
    expect(api.watches.length).to.equal(watchesBefore);
    await clock.tick(200);
    expect(api.watches.length).to.equal(watchesBefore + 1);
    expect(api.last().options.resourceVersion).to.equal('15');
    expect(api.lists).to.equal(2);
  });

  it('treats the client inactivity timeout of a quiet watch as an ordinary end: resumes at once, no warning', async () => {
    const lines: string[] = [];
    const logger = createLogger({ component: 'test', format: 'json', stream: new Writable({ write: (c: Buffer, _e, cb) => (lines.push(c.toString()), cb()) }) });
    const quietInformer = new Informer({ client: api, clock, logger });
    quietInformer.start();
    await quietInformer.waitForSync();
    await clock.tick(30_000);
    api.last().done(new DOMException('The operation was aborted due to timeout', 'TimeoutError'));
    await clock.tick(0);
    expect(api.watches.length).to.equal(2);
    expect(api.last().options.resourceVersion).to.equal('10');
    expect(api.lists).to.equal(1);
    expect(lines.join('')).not.to.match(/warn/);
    await quietInformer.stop();
  });

  it('waitForSync answers false when aborted before the first list', async () => {
    api.listError = new Error('unreachable');
    informer.start();
    const controller = new AbortController();
    const waiting = informer.waitForSync(controller.signal);
    controller.abort();
    expect(await waiting).to.equal(false);
  });
});
