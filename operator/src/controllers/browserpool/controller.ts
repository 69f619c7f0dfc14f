import { randomUUID } from 'node:crypto';
import type { KubeConfig, V1Pod, V1Secret } from '@kubernetes/client-node';
import type { BrowserPool } from '#operator/api/v1alpha1/browserpool.ts';
import { BROWSERPOOL_GROUP, BROWSERPOOL_KIND, BROWSERPOOL_PLURAL, BROWSERPOOL_VERSION } from '#operator/api/v1alpha1/browserpool.ts';
import type { Logger } from '#common/logger.ts';
import { withLogContext } from '#common/log-context.ts';
import { Informer, type InformerEvent } from '#operator/runtime/informer.ts';
import { leanListWatchClient } from './lean-client.ts';
import { shareDispatcher } from './shared-dispatcher.ts';
import { WorkQueue } from '#operator/runtime/work-queue.ts';
import { describeKubeError, isConflict } from '#operator/runtime/kube-errors.ts';
import { byOwnerUid, objectKey } from '#operator/runtime/indexed-cache.ts';
import { realClock, type Clock } from '#operator/runtime/clock.ts';
import { ControllerMetrics } from '#operator/runtime/metrics.ts';
import { BrowserPoolReconciler, type PoolCaches } from './reconciler.ts';
import { kubeWriter, type KubeWriter } from './kube-writer.ts';
import { httpSessionReader, type SessionReader } from './session-reader.ts';
import type { OperatorIdentity } from './desired-network-policy.ts';
import type { PlanOptions } from './plan.ts';
import { APP_NAME, FIELD_MANAGER, LABEL_MANAGED_BY, LABEL_NAME, LABEL_POOL } from './names.ts';

/** The `controller` label of this controller's metrics. */
export const CONTROLLER_NAME = 'browserpool';

/** Options of {@link BrowserPoolController}. */
export interface BrowserPoolControllerOptions {
  kubeConfig: KubeConfig;
  /** Watch one namespace; undefined watches all. */
  namespace?: string;
  logger: Logger;
  /** Concurrent reconciles (different pools only; default 4). */
  workers?: number;
  operator?: OperatorIdentity;
  planOptions?: PlanOptions;
  /** Defaults to HTTP with a 1 s timeout and 16 requests in flight. */
  sessions?: SessionReader;
  /** Defaults to the real API writer. */
  writer?: KubeWriter;
  clock?: Clock;
  /** Identity for Events (`reportingInstance`). */
  identity?: string;
  /** Where reconcile and work-queue metrics go (default the runtime's, on the global meter provider). */
  metrics?: ControllerMetrics;
  /** Called after every reconcile (for benchmarks). */
  onReconcile?: (key: string, durationMs: number, result: 'success' | 'requeue' | 'conflict' | 'error') => void;
}

/**
 * The BrowserPool controller: informers for BrowserPools, browser Pods and token Secrets (they run from `start()`
 * on, leader or not, so a standby takes over with warm caches), and reconcile workers that run only while
 * `runWorkers(signal)` is active (i.e. while this instance leads).
 */
export class BrowserPoolController {
  readonly pools: Informer<BrowserPool>;
  readonly pods: Informer<V1Pod>;
  readonly secrets: Informer<V1Secret>;
  readonly reconciler: BrowserPoolReconciler;
  readonly #options: BrowserPoolControllerOptions;
  readonly #log: Logger;
  readonly #clock: Clock;
  #queue: WorkQueue | undefined;
  readonly #metrics: ControllerMetrics;

  constructor(options: BrowserPoolControllerOptions) {
    this.#options = options;
    this.#log = options.logger;
    this.#clock = options.clock ?? realClock;
    this.#metrics = options.metrics ?? new ControllerMetrics();
    const ns = options.namespace ? { namespace: options.namespace } : {};
    const kc = shareDispatcher(options.kubeConfig);
    this.pools = new Informer<BrowserPool>({
      client: leanListWatchClient(kc, { group: BROWSERPOOL_GROUP, version: BROWSERPOOL_VERSION, plural: BROWSERPOOL_PLURAL, ...ns }),
      name: 'browserpools', logger: options.logger,
    });
    this.pods = new Informer<V1Pod>({
      client: leanListWatchClient(kc, { version: 'v1', plural: 'pods', ...ns }),
      name: 'pods', logger: options.logger, labelSelector: `${LABEL_NAME}=${APP_NAME}`,
      indexers: { owner: byOwnerUid, pool: (p) => [`${p.metadata?.namespace ?? ''}/${p.metadata?.labels?.[LABEL_POOL] ?? ''}`] },
    });
    this.secrets = new Informer<V1Secret>({
      client: leanListWatchClient(kc, { version: 'v1', plural: 'secrets', ...ns }),
      name: 'secrets', logger: options.logger, labelSelector: `${LABEL_MANAGED_BY}=${FIELD_MANAGER}`,
    });
    const caches: PoolCaches = {
      getPool: (key) => this.pools.get(key),
      listPools: () => this.pools.list(),
      podsOwnedBy: (uid) => this.pods.byIndex('owner', uid),
      podsLabelled: (namespace, pool) => this.pods.byIndex('pool', `${namespace}/${pool}`),
      getSecret: (key) => this.secrets.get(key),
    };
    this.reconciler = new BrowserPoolReconciler({
      caches,
      writer: options.writer ?? kubeWriter(kc, options.identity),
      sessions: options.sessions ?? httpSessionReader(),
      logger: options.logger,
      clock: this.#clock,
      ...(options.operator ? { operator: options.operator } : {}),
      ...(options.planOptions ? { planOptions: options.planOptions } : {}),
    });
    this.pools.onEvent((e) => this.#enqueue(objectKey(e.object)));
    this.pods.onEvent((e) => this.#enqueueOwner(e));
    this.secrets.onEvent((e) => this.#enqueueOwner(e));
  }

  /** Starts the informers (idempotent). */
  start(): void {
    this.pools.start();
    this.pods.start();
    this.secrets.start();
  }

  /** True once every informer has listed at least once. */
  hasSynced(): boolean {
    return this.pools.hasSynced() && this.pods.hasSynced() && this.secrets.hasSynced();
  }

  /** Resolves true once synced, false if `signal` aborts first. */
  async waitForSync(signal?: AbortSignal): Promise<boolean> {
    const results = await Promise.all([this.pools.waitForSync(signal), this.pods.waitForSync(signal), this.secrets.waitForSync(signal)]);
    return results.every(Boolean);
  }

  /** Keys waiting in the queue (0 when not leading). */
  queueDepth(): number {
    return this.#queue?.len() ?? 0;
  }

  /**
   * Runs the reconcile workers until `signal` aborts: waits for the caches, queues every pool, then reconciles.
   * Resolves after in-flight reconciles finish.
   */
  async runWorkers(signal: AbortSignal): Promise<void> {
    if (!(await this.waitForSync(signal))) return;
    const queue = new WorkQueue({ clock: this.#clock, metrics: this.#metrics.queueMetrics(CONTROLLER_NAME) });
    this.#queue = queue;
    for (const pool of this.pools.list()) queue.add(objectKey(pool));
    const stop = (): void => {
      void queue.shutDown({ discardQueued: true });
    };
    signal.addEventListener('abort', stop, { once: true });
    if (signal.aborted) stop();
    const workers = Array.from({ length: this.#options.workers ?? 4 }, () => this.#worker(queue));
    await Promise.all(workers);
    signal.removeEventListener('abort', stop);
    if (this.#queue === queue) this.#queue = undefined;
  }

  /** Stops the informers. */
  async stop(): Promise<void> {
    await this.#queue?.shutDown({ discardQueued: true });
    await Promise.all([this.pools.stop(), this.pods.stop(), this.secrets.stop()]);
  }

  async #worker(queue: WorkQueue): Promise<void> {
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      const started = this.#clock.now();
      let result: 'success' | 'requeue' | 'conflict' | 'error' = 'success';
      try {
        const r = await withLogContext({ reconcileId: randomUUID().slice(0, 8) }, () => this.reconciler.reconcile(key));
        queue.forget(key);
        if (r.requeueAfterMs !== undefined) {
          result = 'requeue';
          queue.addAfter(key, r.requeueAfterMs);
        }
      } catch (err) {
        if (isConflict(err)) {
          result = 'conflict';
          this.#log.debug('Requeued BrowserPool after a conflict', { key, error: describeKubeError(err) });
        } else {
          result = 'error';
          this.#log.error('Failed to reconcile BrowserPool', { key, error: describeKubeError(err) });
        }
        queue.addRateLimited(key);
      } finally {
        queue.done(key);
        const ms = this.#clock.now() - started;
        this.#metrics.recordReconcile(CONTROLLER_NAME, result, ms);
        this.#options.onReconcile?.(key, ms, result);
      }
    }
  }

  #enqueue(key: string): void {
    this.#queue?.add(key);
  }

  #enqueueOwner(e: InformerEvent<V1Pod | V1Secret>): void {
    const meta = e.object.metadata;
    const owner = meta?.ownerReferences?.find((o) => o.controller && o.kind === BROWSERPOOL_KIND);
    const pool = owner?.name ?? meta?.labels?.[LABEL_POOL];
    if (pool && meta?.namespace) this.#enqueue(`${meta.namespace}/${pool}`);
  }
}
