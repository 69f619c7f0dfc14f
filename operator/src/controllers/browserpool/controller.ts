import type { KubeConfig, V1Pod, V1Secret } from '@kubernetes/client-node';
import type { BrowserPool } from '#kube/api/v1alpha1/browserpool.ts';
import { BROWSERPOOL_GROUP, BROWSERPOOL_PLURAL, BROWSERPOOL_VERSION } from '#kube/api/v1alpha1/browserpool.ts';
import type { Logger } from '#common/logger.ts';
import { Informer } from '#kube/runtime/informer.ts';
import { Controller } from '#kube/runtime/controller.ts';
import { byOwnerUid } from '#kube/runtime/indexed-cache.ts';
import { realClock, type Clock } from '#kube/runtime/clock.ts';
import { ControllerMetrics, type ReconcileOutcome } from '#kube/runtime/metrics.ts';
import { leanListWatchClient } from '#kube/runtime/lean-client.ts';
import { shareDispatcher } from '#kube/runtime/shared-dispatcher.ts';
import { BrowserPoolReconciler, type PoolCaches } from './reconciler.ts';
import { kubeWriter, type KubeWriter } from './kube-writer.ts';
import { httpSessionReader, type SessionReader } from './session-reader.ts';
import type { OperatorIdentity } from './desired-network-policy.ts';
import type { PlanOptions } from './plan.ts';
import { poolKeysFor } from './pool-keys.ts';
import { APP_NAME, LABEL_MANAGED_BY, LABEL_NAME, LABEL_POOL, MANAGED_BY } from '#kube/api/v1alpha1/contract.ts';

/** The `controller` label of this controller's metrics and logs. */
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
  /** How long stopping the workers waits for in-flight reconciles (default 30 s). */
  stopDeadlineMs?: number;
  /** Called after every reconcile (for benchmarks). */
  onReconcile?: (key: string, durationMs: number, result: ReconcileOutcome) => void;
}

/**
 * The BrowserPool controller: informers for BrowserPools, browser Pods and token Secrets (they run from `start()`
 * on, leader or not, so a standby takes over with warm caches), and the runtime {@link Controller} reconciling
 * pools with {@link BrowserPoolReconciler} only while `runWorkers(signal)` is active (i.e. while this instance
 * leads). Pods and Secrets wake the pool that owns them.
 */
export class BrowserPoolController {
  readonly pools: Informer<BrowserPool>;
  readonly pods: Informer<V1Pod>;
  readonly secrets: Informer<V1Secret>;
  readonly reconciler: BrowserPoolReconciler;
  readonly #options: BrowserPoolControllerOptions;
  readonly #clock: Clock;
  readonly #metrics: ControllerMetrics;
  readonly #stopped = new AbortController();
  /** The runtime controller of the current leadership term, and the promise of its `runWorkers`. */
  #term: { controller: Controller; done: Promise<void> } | undefined;

  constructor(options: BrowserPoolControllerOptions) {
    this.#options = options;
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
      name: 'secrets', logger: options.logger, labelSelector: `${LABEL_MANAGED_BY}=${MANAGED_BY}`,
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
    return this.#term?.controller.queueLength() ?? 0;
  }

  /**
   * Runs the reconcile workers until `signal` aborts or {@link stop} is called: waits for the caches, queues
   * every pool, then reconciles. Resolves after in-flight reconciles finish (or the stop deadline passes).
   * One term at a time: call again only after the previous call resolved.
   */
  runWorkers(signal: AbortSignal): Promise<void> {
    if (this.#term) throw new Error('BrowserPoolController.runWorkers is already running');
    const controller = new Controller({
      name: CONTROLLER_NAME,
      sources: [
        { informer: this.pools },
        { informer: this.pods, keysFor: poolKeysFor },
        { informer: this.secrets, keysFor: poolKeysFor },
      ],
      reconcile: (key) => this.reconciler.reconcile(key),
      workers: this.#options.workers ?? 4,
      clock: this.#clock,
      logger: this.#options.logger,
      metrics: this.#metrics,
      ...(this.#options.onReconcile ? { onReconcile: this.#options.onReconcile } : {}),
    });
    const term = { controller, done: this.#runTerm(controller, AbortSignal.any([signal, this.#stopped.signal])) };
    this.#term = term;
    return term.done.finally(() => {
      if (this.#term === term) this.#term = undefined;
    });
  }

  /** Stops the workers (letting in-flight reconciles finish) and then the informers. */
  async stop(): Promise<void> {
    this.#stopped.abort();
    await this.#term?.done;
    await Promise.all([this.pools.stop(), this.pods.stop(), this.secrets.stop()]);
  }

  async #runTerm(controller: Controller, signal: AbortSignal): Promise<void> {
    const ended = new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      else signal.addEventListener('abort', () => resolve(), { once: true });
    });
    try {
      if (!signal.aborted) await controller.start(signal);
      await ended;
    } finally {
      await controller.stop(this.#options.stopDeadlineMs);
    }
  }
}
