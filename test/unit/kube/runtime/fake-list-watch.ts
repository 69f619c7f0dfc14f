import type { KubernetesObject } from '@kubernetes/client-node';
import type { ListWatchClient, WatchEventType, WatchOptions } from '#kube/runtime/list-watch-client.ts';

/** Builds a namespaced test object. */
export function testObject(name: string, rv: string, owner?: { kind: string; name: string }): KubernetesObject {
  const metadata: KubernetesObject['metadata'] = { name, namespace: 'ns', resourceVersion: rv };
  if (owner) metadata.ownerReferences = [{ apiVersion: 'v1', kind: owner.kind, name: owner.name, uid: `uid-${owner.name}` }];
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata };
}

/** A scripted API for informers: `items` is what a list returns; watches are recorded and driven by the test. */
export class ScriptedListWatch implements ListWatchClient<KubernetesObject> {
  items: KubernetesObject[] = [];
  rv = '10';
  lists = 0;
  listError: unknown;
  /** While set, list() waits for it. */
  listGate: Promise<void> | undefined;
  watches: Array<{ options: WatchOptions; emit: (t: WatchEventType, o: unknown) => void; done: (e?: unknown) => void }> = [];

  async list() {
    this.lists++;
    if (this.listGate) await this.listGate;
    if (this.listError) {
      const err = this.listError;
      this.listError = undefined;
      throw err;
    }
    return { items: [...this.items], resourceVersion: this.rv };
  }

  async watch(options: WatchOptions, onEvent: (t: WatchEventType, o: unknown) => void, onDone: (e?: unknown) => void) {
    this.watches.push({ options, emit: onEvent, done: onDone });
    return { stop: () => onDone() };
  }

  /** The latest watch. */
  last() {
    const w = this.watches.at(-1);
    if (!w) throw new Error('no watch started');
    return w;
  }
}
