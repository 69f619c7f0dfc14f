import type { KubernetesObject } from '@kubernetes/client-node';

/** Maps an object to the values it is indexed under (e.g. its owner uids). */
export type IndexFunction<T> = (object: T) => string[];

/** The cache key of an object: `namespace/name`, or `name` for cluster-scoped objects. */
export function objectKey(object: KubernetesObject): string {
  const name = object.metadata?.name ?? '';
  const namespace = object.metadata?.namespace;
  return namespace ? `${namespace}/${name}` : name;
}

/** Index function: the uids of an object's owner references (find pods by the uid of the pool that owns them). */
export function byOwnerUid(object: KubernetesObject): string[] {
  return (object.metadata?.ownerReferences ?? []).map((ref) => ref.uid);
}

/** Index function: the object's namespace. */
export function byNamespace(object: KubernetesObject): string[] {
  return object.metadata?.namespace ? [object.metadata.namespace] : [];
}

/**
 * An in-memory store of objects by key with secondary indexes kept in step on every change. Objects handed out
 * are the stored ones: treat them as read-only.
 */
export class IndexedCache<T extends KubernetesObject> {
  readonly #objects = new Map<string, T>();
  readonly #indexers: Record<string, IndexFunction<T>>;
  readonly #indexes = new Map<string, Map<string, Set<string>>>();

  constructor(indexers: Record<string, IndexFunction<T>> = {}) {
    this.#indexers = indexers;
    for (const name of Object.keys(indexers)) this.#indexes.set(name, new Map());
  }

  /** Stores `object` under its key; returns the object it replaced, if any. */
  upsert(object: T): T | undefined {
    const key = objectKey(object);
    const old = this.#objects.get(key);
    if (old) this.#unindex(key, old);
    this.#objects.set(key, object);
    this.#index(key, object);
    return old;
  }

  /** Removes the object with `key`; returns it if it was there. */
  remove(key: string): T | undefined {
    const old = this.#objects.get(key);
    if (!old) return undefined;
    this.#unindex(key, old);
    this.#objects.delete(key);
    return old;
  }

  /** The object with `key` (`namespace/name`, or `name` when cluster-scoped). */
  get(key: string): T | undefined {
    return this.#objects.get(key);
  }

  /** Every object. */
  list(): T[] {
    return [...this.#objects.values()];
  }

  /** Every key. */
  keys(): string[] {
    return [...this.#objects.keys()];
  }

  /** How many objects are stored. */
  size(): number {
    return this.#objects.size;
  }

  /** Objects whose index `indexName` includes `value`. Throws if no such index was configured. */
  byIndex(indexName: string, value: string): T[] {
    const index = this.#indexes.get(indexName);
    if (!index) {
      throw new Error(`Unknown index "${indexName}": configure it in the informer's indexers (known: ${[...this.#indexes.keys()].join(', ') || 'none'})`);
    }
    const keys = index.get(value);
    if (!keys) return [];
    const out: T[] = [];
    for (const key of keys) {
      const object = this.#objects.get(key);
      if (object) out.push(object);
    }
    return out;
  }

  #index(key: string, object: T): void {
    for (const [name, fn] of Object.entries(this.#indexers)) {
      const index = this.#indexes.get(name)!;
      for (const value of fn(object)) {
        let keys = index.get(value);
        if (!keys) index.set(value, (keys = new Set()));
        keys.add(key);
      }
    }
  }

  #unindex(key: string, object: T): void {
    for (const [name, fn] of Object.entries(this.#indexers)) {
      const index = this.#indexes.get(name)!;
      for (const value of fn(object)) {
        const keys = index.get(value);
        if (!keys) continue;
        keys.delete(key);
        if (keys.size === 0) index.delete(value);
      }
    }
  }
}
