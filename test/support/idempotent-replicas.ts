import type { KubeConfig } from '@kubernetes/client-node';
import { createLogger } from '#common/logger.ts';
import { HttpStorageClient, type StorageClientOptions } from '#server/composer/storage-client.ts';
import { KubernetesIdempotencyStore, type KubernetesIdempotencyStoreOptions } from '#server/composer/storage/kubernetes-idempotency-store.ts';
import type { ComposerSettings } from '#server/tools/services.ts';

/** What one "replica" of the server saves with: its own store instance (own claims, own cache) and storage client. */
export interface IdempotentReplica {
  store: KubernetesIdempotencyStore;
  client: HttpStorageClient;
}

/** The store options a test may set; the rest are the defaults of {@link IdempotentReplicas.make}. */
export type ReplicaStoreOptions = Partial<Omit<KubernetesIdempotencyStoreOptions, 'kubeConfig' | 'namespace'>>;

const quietLogger = () => createLogger({ component: 'test', level: 'error', format: 'json' });

/**
 * Makes server "replicas" that share the Kubernetes idempotency store of a namespace, each with its own store
 * instance and storage client (as two server processes have), and stops every store it made.
 */
export class IdempotentReplicas {
  readonly #kubeConfig: KubeConfig;
  readonly #settings: ComposerSettings;
  readonly #stores: KubernetesIdempotencyStore[] = [];

  constructor(kubeConfig: KubeConfig, settings: ComposerSettings) {
    this.#kubeConfig = kubeConfig;
    this.#settings = settings;
  }

  /**
   * A replica in `namespace`: a store whose claims go stale after 60 s, with no periodic sweep, and a client that
   * retries 10 to 50 ms after a failure; `store` and `client` override those options.
   */
  make(namespace: string, store: ReplicaStoreOptions = {}, client: StorageClientOptions = {}): IdempotentReplica {
    const made = new KubernetesIdempotencyStore({ kubeConfig: this.#kubeConfig, namespace, staleAfterMs: 60_000, sweepIntervalMs: 0, logger: quietLogger(), ...store });
    this.#stores.push(made);
    return { store: made, client: new HttpStorageClient(this.#settings, { idempotencyStore: made, minRetryDelayMs: 10, maxRetryDelayMs: 50, logger: quietLogger(), ...client }) };
  }

  /** Stops every store made, one after the other. */
  async stopAll(): Promise<void> {
    for (const store of this.#stores) await store.stop();
  }
}
