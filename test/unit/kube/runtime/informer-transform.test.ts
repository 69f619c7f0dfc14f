import { expect } from 'chai';
import { Writable } from 'node:stream';
import type { KubernetesObject } from '@kubernetes/client-node';
import { FakeClock, flushMicrotasks } from '#support/fake-clock.ts';
import { createLogger } from '#common/logger.ts';
import { Informer, type InformerEvent } from '#kube/runtime/informer.ts';
import { ScriptedListWatch, testObject } from './fake-list-watch.ts';

const quiet = createLogger({ component: 'test', stream: new Writable({ write: (_c, _e, cb) => cb() }) });

type Bulky = KubernetesObject & { spec?: { payload: string } };

describe('Informer transform (client-go SetTransform)', () => {
  it('shrinks every listed and watched object before it is cached or handed to a handler', async () => {
    const api = new ScriptedListWatch();
    const bulky = (name: string, rv: string): Bulky => ({ ...testObject(name, rv), spec: { payload: 'x'.repeat(10_000) } });
    api.items = [bulky('a', '5')];
    const seen: string[] = [];
    const informer = new Informer<KubernetesObject>({
      client: api, clock: new FakeClock(), logger: quiet,
      transform: (o) => {
        seen.push(o.metadata?.name ?? '');
        const { spec: _spec, ...rest } = o as Bulky;
        return rest;
      },
    });
    const events: Array<InformerEvent<KubernetesObject>> = [];
    informer.onEvent((e) => events.push(e));
    informer.start();
    await informer.waitForSync();
    await flushMicrotasks();
    api.last().emit('ADDED', bulky('b', '11'));
    api.last().emit('MODIFIED', bulky('a', '12'));
    api.last().emit('DELETED', bulky('b', '13'));
    api.last().emit('BOOKMARK', { metadata: { resourceVersion: '14' } });
    expect(seen).to.deep.equal(['a', 'b', 'a', 'b']);
    expect(informer.list().map((o) => (o as Bulky).spec)).to.deep.equal([undefined]);
    expect(events.map((e) => [e.type, e.object.metadata?.name, (e.object as Bulky).spec])).to.deep.equal([
      ['add', 'a', undefined], ['add', 'b', undefined], ['update', 'a', undefined], ['delete', 'b', undefined],
    ]);
    expect(informer.lastSyncResourceVersion()).to.equal('14');
    await informer.stop();
  });
});
