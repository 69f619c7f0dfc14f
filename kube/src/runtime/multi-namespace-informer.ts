import type { KubernetesObject } from '@kubernetes/client-node';
import type { Informer, InformerHandler } from './informer.ts';

/**
 * What a controller reads and runs of an informer, whether it watches one namespace, every namespace, or several
 * namespaces at once ({@link MultiNamespaceInformer}).
 */
export type NamespacedInformer<T extends KubernetesObject> =
  Pick<Informer<T>, 'name' | 'start' | 'stop' | 'hasSynced' | 'waitForSync' | 'onEvent' | 'list' | 'get' | 'byIndex'>;

/**
 * One informer per namespace behind the interface of a single one, as controller-runtime's multi-namespace cache:
 * for an operator that may manage a few namespaces but not every one (a Role in each, no ClusterRole). Events of
 * every namespace reach every handler; reads go to the namespace of the key, or to all of them.
 */
export class MultiNamespaceInformer<T extends KubernetesObject> implements NamespacedInformer<T> {
  readonly name: string;
  readonly #byNamespace: Map<string, Informer<T>>;

  /** `create` builds the informer of one namespace (not started); namespaces are de-duplicated. */
  constructor(name: string, namespaces: readonly string[], create: (namespace: string) => Informer<T>) {
    if (namespaces.length === 0) throw new Error(`MultiNamespaceInformer ${name}: give at least one namespace`);
    this.name = name;
    this.#byNamespace = new Map([...new Set(namespaces)].map((ns) => [ns, create(ns)] as const));
  }

  /** The namespaces watched. */
  namespaces(): string[] {
    return [...this.#byNamespace.keys()];
  }

  start(): void {
    for (const informer of this.#byNamespace.values()) informer.start();
  }

  async stop(): Promise<void> {
    await Promise.all([...this.#byNamespace.values()].map((i) => i.stop()));
  }

  /** True once every namespace's cache has synced. */
  hasSynced(): boolean {
    return [...this.#byNamespace.values()].every((i) => i.hasSynced());
  }

  async waitForSync(signal?: AbortSignal): Promise<boolean> {
    const synced = await Promise.all([...this.#byNamespace.values()].map((i) => i.waitForSync(signal)));
    return synced.every(Boolean);
  }

  onEvent(handler: InformerHandler<T>): () => boolean {
    const removals = [...this.#byNamespace.values()].map((i) => i.onEvent(handler));
    return () => removals.map((remove) => remove()).some(Boolean);
  }

  list(): T[] {
    return [...this.#byNamespace.values()].flatMap((i) => i.list());
  }

  /** The object with key `namespace/name`, from that namespace's cache. */
  get(key: string): T | undefined {
    const slash = key.indexOf('/');
    return slash < 0 ? undefined : this.#byNamespace.get(key.slice(0, slash))?.get(key);
  }

  byIndex(indexName: string, value: string): T[] {
    return [...this.#byNamespace.values()].flatMap((i) => i.byIndex(indexName, value));
  }
}

/**
 * The informer of a resource for the namespaces an operator manages: one informer on every namespace
 * (`undefined`), one on a single namespace, or a {@link MultiNamespaceInformer} over several.
 */
export function informerForNamespaces<T extends KubernetesObject>(
  name: string, namespaces: readonly string[] | undefined, create: (namespace: string | undefined) => Informer<T>,
): NamespacedInformer<T> {
  if (namespaces === undefined) return create(undefined);
  const unique = [...new Set(namespaces)];
  if (unique.length === 1) return create(unique[0]);
  return new MultiNamespaceInformer<T>(name, unique, create);
}
