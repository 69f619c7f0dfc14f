import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { createLogger, type Logger } from '#common/logger.ts';
import { realClock, type Clock } from './clock.ts';
import { IndexedCache, objectKey, type IndexFunction } from './indexed-cache.ts';
import { describeKubeError, isGone } from './kube-errors.ts';
import {
  kubeListWatchClient,
  resourcePath,
  watchErrorFromEvent,
  type ListWatchClient,
  type ResourceLocation,
  type WatchEventType,
  type WatchHandle,
} from './list-watch-client.ts';

/** A change seen by an informer. `update` carries the previous object; `delete` the last known state. */
export type InformerEvent<T> =
  | { type: 'add'; object: T }
  | { type: 'update'; object: T; old: T }
  | { type: 'delete'; object: T };

/** Receives informer events; exceptions are logged, never propagated. */
export type InformerHandler<T> = (event: InformerEvent<T>) => void;

/** Options of {@link Informer}. */
export interface InformerOptions<T> {
  /** Where to list and watch. */
  client: ListWatchClient<T>;
  /** Name for logs, e.g. "pods" (default "objects"). */
  name?: string;
  /** Label selector (`app=browser,pool in (a,b)`). */
  labelSelector?: string;
  /** Field selector (`metadata.name=x`). */
  fieldSelector?: string;
  /** Secondary indexes, e.g. `{ owner: byOwnerUid }`. */
  indexers?: Record<string, IndexFunction<T>>;
  /**
   * Applied to every listed and watched object before it enters the cache or reaches a handler (client-go's
   * `SetTransform`): return a smaller object with only the fields the controller reads, so a large cache costs
   * less memory. It must keep `metadata.name`, `metadata.namespace` and `metadata.resourceVersion`.
   */
  transform?: (object: T) => T;
  /** Time source for backoff (default the wall clock). */
  clock?: Clock;
  logger?: Logger;
  /** Restart backoff after errors: initial delay (default 500 ms), doubling up to `maxMs` (default 30 s). */
  backoff?: { initialMs?: number; maxMs?: number };
  /** List page size (default 500). */
  pageSize?: number;
  /** Server-side timeout of each watch in seconds (default a random 300–600, like client-go). */
  watchTimeoutSeconds?: number;
}

/** One list page may take this long before it is abandoned and retried. */
const LIST_TIMEOUT_MS = 60_000;

/** A watch that lasted less than this and saw nothing counts as a failure for backoff. */
const MIN_HEALTHY_WATCH_MS = 1000;

/**
 * Keeps an in-memory, indexed copy of a collection in step with the API server: lists, then watches from the
 * list's resourceVersion (with bookmarks); relists when the server says that version is gone (410); restarts
 * with exponential backoff after errors or early closes, resuming the watch from the last seen version. Calls
 * handlers for every add, update (with old and new) and delete, including those found by a relist.
 */
export class Informer<T extends KubernetesObject> {
  readonly #options: InformerOptions<T>;
  readonly #client: ListWatchClient<T>;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #cache: IndexedCache<T>;
  readonly #handlers = new Set<InformerHandler<T>>();
  readonly #stop = new AbortController();
  readonly #syncWaiters = new Set<() => void>();
  #synced = false;
  #resourceVersion = '';
  #watch: WatchHandle | undefined;
  #loop: Promise<void> | undefined;

  constructor(options: InformerOptions<T>) {
    this.#options = options;
    this.#client = options.client;
    this.#clock = options.clock ?? realClock;
    this.#log = options.logger ?? createLogger({ component: 'operator' });
    this.#cache = new IndexedCache<T>(options.indexers ?? {});
  }

  /** The informer's name for logs and health ("pods", "browserpools", ...). */
  get name(): string {
    return this.#options.name ?? 'objects';
  }

  /** Starts listing and watching in the background (once; later calls do nothing). */
  start(): void {
    if (this.#loop || this.#stop.signal.aborted) return;
    this.#loop = this.#run();
  }

  /** Stops watching; resolves when the background loop has ended. The cache keeps its last contents. */
  async stop(): Promise<void> {
    this.#stop.abort();
    this.#watch?.stop();
    for (const wake of this.#syncWaiters) wake();
    await this.#loop;
  }

  /** True once the first full list has been loaded into the cache (stays true across relists). */
  hasSynced(): boolean {
    return this.#synced;
  }

  /** Resolves `true` when synced, `false` if `signal` aborts or the informer stops first. */
  waitForSync(signal?: AbortSignal): Promise<boolean> {
    if (this.#synced) return Promise.resolve(true);
    if (signal?.aborted || this.#stop.signal.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const finish = (): void => {
        this.#syncWaiters.delete(finish);
        signal?.removeEventListener('abort', finish);
        resolve(this.#synced);
      };
      this.#syncWaiters.add(finish);
      signal?.addEventListener('abort', finish, { once: true });
    });
  }

  /** Registers a handler; returns its removal. A handler added after sync is not told about objects already cached: read `list()`. */
  onEvent(handler: InformerHandler<T>): () => void {
    this.#handlers.add(handler);
    return () => this.#handlers.delete(handler);
  }

  /** Every cached object (read-only). */
  list(): T[] {
    return this.#cache.list();
  }

  /** The cached object with key `namespace/name` (or `name` when cluster-scoped). */
  get(key: string): T | undefined {
    return this.#cache.get(key);
  }

  /** Cached objects whose index `indexName` includes `value` (e.g. pods by owner uid). */
  byIndex(indexName: string, value: string): T[] {
    return this.#cache.byIndex(indexName, value);
  }

  /** The resourceVersion the cache reflects. */
  lastSyncResourceVersion(): string {
    return this.#resourceVersion;
  }

  async #run(): Promise<void> {
    const name = this.#options.name ?? 'objects';
    const initialMs = this.#options.backoff?.initialMs ?? 500;
    const maxMs = this.#options.backoff?.maxMs ?? 30_000;
    let needList = true;
    let failures = 0;
    while (!this.#stop.signal.aborted) {
      try {
        if (needList) {
          await this.#relist();
          needList = false;
          failures = 0;
        }
        const healthy = await this.#watchOnce();
        if (healthy) {
          failures = 0;
          continue;
        }
        failures++;
      } catch (err) {
        if (this.#stop.signal.aborted) break;
        if (isGone(err)) {
          needList = true;
          failures++;
          this.#log.info('Relisting after expired resourceVersion', {
            resource: name,
            resourceVersion: this.#resourceVersion,
          });
          // The first relist is immediate; repeated 410s back off like any other failure.
          if (failures === 1) continue;
        } else {
          failures++;
          this.#log.warn('Restarting list and watch after error', {
            resource: name,
            error: describeKubeError(err),
            attempt: failures,
          });
        }
      }
      const delay = Math.min(maxMs, initialMs * 2 ** Math.max(0, failures - 1));
      await this.#clock.sleep(delay * (0.8 + Math.random() * 0.4), this.#stop.signal);
    }
  }

  async #relist(): Promise<void> {
    const items: T[] = [];
    let continueToken: string | undefined;
    let resourceVersion = '';
    do {
      const options: Parameters<ListWatchClient<T>['list']>[0] = {
        limit: this.#options.pageSize ?? 500,
        signal: AbortSignal.any([this.#stop.signal, AbortSignal.timeout(LIST_TIMEOUT_MS)]),
      };
      if (this.#options.labelSelector) options.labelSelector = this.#options.labelSelector;
      if (this.#options.fieldSelector) options.fieldSelector = this.#options.fieldSelector;
      if (continueToken) options.continueToken = continueToken;
      const page = await this.#client.list(options);
      const transform = this.#options.transform;
      items.push(...(transform ? page.items.map(transform) : page.items));
      resourceVersion = page.resourceVersion;
      continueToken = page.continueToken;
      if (this.#stop.signal.aborted) return;
    } while (continueToken);
    this.#replace(items);
    this.#resourceVersion = resourceVersion;
    if (!this.#synced) {
      this.#synced = true;
      this.#log.debug('Synced informer cache', { resource: this.#options.name ?? 'objects', count: items.length });
      for (const wake of this.#syncWaiters) wake();
    }
  }

  #replace(items: T[]): void {
    const seen = new Set<string>();
    for (const object of items) {
      const key = objectKey(object);
      seen.add(key);
      const old = this.#cache.upsert(object);
      if (!old) this.#emit({ type: 'add', object });
      else if (old.metadata?.resourceVersion !== object.metadata?.resourceVersion) this.#emit({ type: 'update', object, old });
    }
    for (const key of this.#cache.keys()) {
      if (seen.has(key)) continue;
      const old = this.#cache.remove(key);
      if (old) this.#emit({ type: 'delete', object: old });
    }
  }

  /** Runs one watch to its end. Resolves whether it was healthy; rejects with the error that ended it. */
  #watchOnce(): Promise<boolean> {
    const started = this.#clock.now();
    let events = 0;
    let eventError: unknown;
    return new Promise<boolean>((resolve, reject) => {
      let finished = false;
      const onDone = (err?: unknown): void => {
        if (finished) return;
        finished = true;
        this.#watch = undefined;
        const failure = eventError ?? err;
        if (failure && !isQuietTimeout(failure)) reject(failure);
        else resolve(events > 0 || this.#clock.now() - started >= MIN_HEALTHY_WATCH_MS);
      };
      const onEvent = (type: WatchEventType, raw: unknown): void => {
        if (finished) return;
        if (type === 'ERROR') {
          eventError = watchErrorFromEvent(raw, this.#options.name);
          handle?.stop();
          onDone();
          return;
        }
        events++;
        this.#apply(type, raw as T);
      };
      const options: Parameters<ListWatchClient<T>['watch']>[0] = {
        resourceVersion: this.#resourceVersion,
        allowWatchBookmarks: true,
        timeoutSeconds: this.#options.watchTimeoutSeconds ?? Math.floor(300 + Math.random() * 300),
      };
      if (this.#options.labelSelector) options.labelSelector = this.#options.labelSelector;
      if (this.#options.fieldSelector) options.fieldSelector = this.#options.fieldSelector;
      let handle: WatchHandle | undefined;
      const begin = async (): Promise<void> => {
        try {
          handle = await this.#client.watch(options, onEvent, onDone);
        } catch (err) {
          onDone(err ?? new Error('Watch failed to start'));
          return;
        }
        if (finished) handle.stop();
        else if (this.#stop.signal.aborted) {
          handle.stop();
          onDone();
        } else this.#watch = handle;
      };
      void begin();
    });
  }

  #apply(type: WatchEventType, raw: T): void {
    const rv = raw?.metadata?.resourceVersion;
    if (type === 'BOOKMARK') {
      if (rv) this.#resourceVersion = rv;
      return;
    }
    if (!raw?.metadata?.name) return;
    const object = this.#options.transform ? this.#options.transform(raw) : raw;
    if (type === 'DELETED') {
      const old = this.#cache.remove(objectKey(object));
      if (rv) this.#resourceVersion = rv;
      this.#emit({ type: 'delete', object: old ?? object });
      return;
    }
    const old = this.#cache.upsert(object);
    if (rv) this.#resourceVersion = rv;
    this.#emit(old ? { type: 'update', object, old } : { type: 'add', object });
  }

  #emit(event: InformerEvent<T>): void {
    for (const handler of this.#handlers) {
      try {
        handler(event);
      } catch (err) {
        this.#log.error('Informer handler failed', {
          resource: this.#options.name ?? 'objects',
          event: event.type,
          key: objectKey(event.object),
          error: err instanceof Error ? err.message : String(err),
        });
      }
    }
  }
}

/** The client's inactivity timeout on a quiet watch: an ordinary end, resumed from the last version. */
function isQuietTimeout(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { name?: unknown }).name === 'TimeoutError';
}

/** Options of {@link createInformer}: everything of {@link InformerOptions} except the client. */
export type CreateInformerOptions<T> = Omit<InformerOptions<T>, 'client'>;

/**
 * An informer on a resource of the API server in `kubeConfig`, namespaced (`location.namespace`) or cluster-wide.
 * Not started: call `start()`.
 */
export function createInformer<T extends KubernetesObject>(
  kubeConfig: KubeConfig,
  location: ResourceLocation,
  options: CreateInformerOptions<T> = {},
): Informer<T> {
  return new Informer<T>({
    name: location.plural,
    ...options,
    client: kubeListWatchClient<T>(kubeConfig, resourcePath(location)),
  });
}
