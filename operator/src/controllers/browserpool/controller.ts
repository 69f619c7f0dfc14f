import type { KubeConfig, V1NetworkPolicy, V1Pod, V1Secret } from '@kubernetes/client-node';
import type { BrowserPool } from '#kube/api/v1alpha1/browserpool.ts';
import { BROWSERPOOL_GROUP, BROWSERPOOL_PLURAL, BROWSERPOOL_VERSION } from '#kube/api/v1alpha1/browserpool.ts';
import type { Logger } from '#common/logger.ts';
import { Informer } from '#kube/runtime/informer.ts';
import { informerForNamespaces, type NamespacedInformer } from '#kube/runtime/multi-namespace-informer.ts';
import { byNamespace, byOwnerUid } from '#kube/runtime/indexed-cache.ts';
import { realClock, type Clock } from '#kube/runtime/clock.ts';
import type { ReconcileOutcome } from '#kube/runtime/metrics.ts';
import type { ManagedInformer, Manager } from '#kube/runtime/manager.ts';
import { leanListWatchClient } from '#kube/runtime/lean-client.ts';
import { shareDispatcher } from '#kube/runtime/shared-dispatcher.ts';
import { BrowserPoolReconciler, type PoolCaches } from './reconciler.ts';
import { kubeWriter, type KubeWriter } from './kube-writer.ts';
import { httpSessionReader, type SessionReader } from './session-reader.ts';
import { httpDemandReader, type DemandReader } from './demand-reader.ts';
import type { DnsPeer } from './desired-egress-policy.ts';
import type { OriginResolver } from './origin-resolver.ts';
import type { OperatorIdentity } from './desired-network-policy.ts';
import type { PlanOptions } from './plan.ts';
import { poolKeysFor } from './pool-keys.ts';
import { browserPodView, serverPodView } from './cached-views.ts';
import { APP_NAME, LABEL_MANAGED_BY, LABEL_NAME, LABEL_POOL, MANAGED_BY, SERVER_APP_NAME } from '#kube/api/v1alpha1/contract.ts';

/** The `controller` label of this controller's metrics and logs. */
export const CONTROLLER_NAME = 'browserpool';

/** Options of {@link BrowserPoolController}. */
export interface BrowserPoolControllerOptions {
  kubeConfig: KubeConfig;
  /**
   * The namespace, or namespaces, whose pools are managed (an informer per namespace and resource; RBAC in each
   * suffices); undefined watches every namespace (needs cluster-wide RBAC).
   */
  namespace?: string | readonly string[];
  logger: Logger;
  /** Concurrent reconciles (different pools only; default 4). */
  workers?: number;
  /** A reconcile running longer than this makes liveness fail (default 5 min). */
  wedgedAfterMs?: number;
  operator?: OperatorIdentity;
  planOptions?: PlanOptions;
  /** Defaults to HTTP with a 1 s timeout and 16 requests in flight. */
  sessions?: SessionReader;
  /** Defaults to the servers' /metrics (their lease queue depth), read over HTTP. */
  demand?: DemandReader;
  /** The cluster's DNS pods the egress NetworkPolicies admit (default kube-system, k8s-app=kube-dns). */
  dns?: DnsPeer;
  /** Resolves allowed origins for the egress NetworkPolicies (default DNS). */
  resolver?: OriginResolver;
  /** Defaults to the real API writer. */
  writer?: KubeWriter;
  clock?: Clock;
  /** Identity for Events (`reportingInstance`). */
  identity?: string;
  /** Called after every reconcile (for benchmarks). */
  onReconcile?: (key: string, durationMs: number, result: ReconcileOutcome) => void;
}

/**
 * The BrowserPool controller: informers for BrowserPools and what they own (browser Pods, token Secrets,
 * NetworkPolicies), and the {@link BrowserPoolReconciler}; {@link register} hands both to a {@link Manager}, which
 * runs the informers on standbys too (a takeover starts from warm caches) and reconciles only while it leads.
 */
export class BrowserPoolController {
  readonly pools: NamespacedInformer<BrowserPool>;
  readonly pods: NamespacedInformer<V1Pod>;
  readonly secrets: NamespacedInformer<V1Secret>;
  readonly networkPolicies: NamespacedInformer<V1NetworkPolicy>;
  /** The composer-mcp server pods (their lease queues are the demand of autoscaled pools). */
  readonly serverPods: NamespacedInformer<V1Pod>;
  readonly reconciler: BrowserPoolReconciler;
  readonly #options: BrowserPoolControllerOptions;
  readonly #clock: Clock;

  constructor(options: BrowserPoolControllerOptions) {
    this.#options = options;
    this.#clock = options.clock ?? realClock;
    const namespaces = typeof options.namespace === 'string' ? [options.namespace] : options.namespace;
    const kc = shareDispatcher(options.kubeConfig);
    const at = (namespace: string | undefined) => (namespace ? { namespace } : {});
    this.pools = informerForNamespaces<BrowserPool>('browserpools', namespaces, (ns) => new Informer<BrowserPool>({
      client: leanListWatchClient(kc, { group: BROWSERPOOL_GROUP, version: BROWSERPOOL_VERSION, plural: BROWSERPOOL_PLURAL, ...at(ns) }),
      name: 'browserpools', logger: options.logger,
    }));
    this.pods = informerForNamespaces<V1Pod>('pods', namespaces, (ns) => new Informer<V1Pod>({
      client: leanListWatchClient(kc, { version: 'v1', plural: 'pods', ...at(ns) }),
      name: 'pods', logger: options.logger, labelSelector: `${LABEL_NAME}=${APP_NAME}`, transform: browserPodView,
      indexers: { owner: byOwnerUid, pool: (p) => [`${p.metadata?.namespace ?? ''}/${p.metadata?.labels?.[LABEL_POOL] ?? ''}`] },
    }));
    this.secrets = informerForNamespaces<V1Secret>('secrets', namespaces, (ns) => new Informer<V1Secret>({
      client: leanListWatchClient(kc, { version: 'v1', plural: 'secrets', ...at(ns) }),
      name: 'secrets', logger: options.logger, labelSelector: `${LABEL_MANAGED_BY}=${MANAGED_BY}`,
    }));
    this.networkPolicies = informerForNamespaces<V1NetworkPolicy>('networkpolicies', namespaces, (ns) => new Informer<V1NetworkPolicy>({
      client: leanListWatchClient(kc, { group: 'networking.k8s.io', version: 'v1', plural: 'networkpolicies', ...at(ns) }),
      name: 'networkpolicies', logger: options.logger, labelSelector: `${LABEL_MANAGED_BY}=${MANAGED_BY}`,
    }));
    this.serverPods = informerForNamespaces<V1Pod>('server-pods', namespaces, (ns) => new Informer<V1Pod>({
      client: leanListWatchClient(kc, { version: 'v1', plural: 'pods', ...at(ns) }),
      name: 'server-pods', logger: options.logger, labelSelector: `${LABEL_NAME}=${SERVER_APP_NAME}`, transform: serverPodView,
      indexers: { namespace: byNamespace },
    }));
    const caches: PoolCaches = {
      getPool: (key) => this.pools.get(key),
      listPools: () => this.pools.list(),
      podsOwnedBy: (uid) => this.pods.byIndex('owner', uid),
      podsLabelled: (namespace, pool) => this.pods.byIndex('pool', `${namespace}/${pool}`),
      getSecret: (key) => this.secrets.get(key),
      getNetworkPolicy: (key) => this.networkPolicies.get(key),
    };
    this.reconciler = new BrowserPoolReconciler({
      caches,
      writer: options.writer ?? kubeWriter(kc, options.identity),
      sessions: options.sessions ?? httpSessionReader(),
      demand: options.demand ?? httpDemandReader({ serverPods: (namespace) => this.serverPods.byIndex('namespace', namespace) }),
      ...(options.dns ? { dns: options.dns } : {}),
      ...(options.resolver ? { resolver: options.resolver } : {}),
      logger: options.logger,
      clock: this.#clock,
      ...(options.operator ? { operator: options.operator } : {}),
      ...(options.planOptions ? { planOptions: options.planOptions } : {}),
    });
    // A pod whose labels were edited so it no longer matches the pods informer leaves the cache as if deleted; the
    // reconciler puts its labels back (else it would be replaced, and left running outside its NetworkPolicy).
    this.pods.onEvent((event) => {
      if (event.type === 'delete' && !event.object.metadata?.deletionTimestamp) this.reconciler.noticeUnlabelledPod(event.object);
    });
  }

  /** The informers, for the manager to start and stop. */
  informers(): ManagedInformer[] {
    return [this.pools, this.pods, this.secrets, this.networkPolicies, this.serverPods];
  }

  /**
   * Registers the informers and the pool controller with `manager`: while the manager leads, pools are reconciled
   * (each term's writes fenced); pods, token Secrets and NetworkPolicies wake the pool that owns them, so an edit or
   * a delete of any of them is undone at once.
   */
  register(manager: Manager): void {
    for (const informer of this.informers()) manager.addInformer(informer);
    manager.addController({
      name: CONTROLLER_NAME,
      sources: [
        { informer: this.pools },
        { informer: this.pods, keysFor: poolKeysFor },
        { informer: this.secrets, keysFor: poolKeysFor },
        { informer: this.networkPolicies, keysFor: poolKeysFor },
      ],
      reconcile: (key, context) => this.reconciler.reconcile(key, context),
      workers: this.#options.workers ?? 4,
      ...(this.#options.wedgedAfterMs !== undefined ? { wedgedAfterMs: this.#options.wedgedAfterMs } : {}),
      ...(this.#options.onReconcile ? { onReconcile: this.#options.onReconcile } : {}),
    });
  }
}
