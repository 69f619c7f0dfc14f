import type { KubeConfig } from '@kubernetes/client-node';
import { kubeLeaseStore, type LeaseStore } from '#kube/runtime/lease-store.ts';
import type { LeaderElectionTimings } from '#kube/runtime/lease-decisions.ts';
import { Manager } from '#kube/runtime/manager.ts';
import type { ControllerMetrics } from '#kube/runtime/metrics.ts';
import { BrowserPoolController, type BrowserPoolControllerOptions } from './controllers/browserpool/controller.ts';

/** Leader election on a Lease between operator replicas. */
export interface OperatorLeaderElection extends Partial<LeaderElectionTimings> {
  /** Namespace and name of the Lease. */
  namespace: string;
  name: string;
  /** Release the Lease on shutdown so a standby takes over at once (default true). */
  releaseOnCancel?: boolean;
  /** Where the Lease is read and written (default the API server of `kubeConfig`; tests wrap it to cut it off). */
  store?: LeaseStore;
}

/** Options of {@link createBrowserPoolOperator}. */
export interface BrowserPoolOperatorOptions extends BrowserPoolControllerOptions {
  /** This replica's identity (Lease holder, Events). */
  identity: string;
  /** Stand for election on this Lease; without it the operator always reconciles (one replica only). */
  leaderElection?: OperatorLeaderElection;
  /** How long a hand-over or shutdown lets reconciles in flight finish (see Manager). */
  drainTimeoutMs?: number;
  /** Longest one write may take (see Manager). */
  writeTimeoutMs?: number;
  metrics?: ControllerMetrics;
}

/** A BrowserPool operator: the controller registered with the manager that runs it. */
export interface BrowserPoolOperator {
  manager: Manager;
  controller: BrowserPoolController;
}

/**
 * The one place the operator is put together, for the entry point, the tests and the benchmarks alike: a
 * {@link Manager} (informers, leader election, fenced terms, health) running the {@link BrowserPoolController}.
 * Call `manager.start()` / `manager.stop()`.
 */
export function createBrowserPoolOperator(options: BrowserPoolOperatorOptions): BrowserPoolOperator {
  const { identity, leaderElection, drainTimeoutMs, writeTimeoutMs, metrics, ...controllerOptions } = options;
  const kubeConfig: KubeConfig = options.kubeConfig;
  let election: ConstructorParameters<typeof Manager>[0]['leaderElection'];
  if (leaderElection) {
    const { namespace, name, store, ...timings } = leaderElection;
    election = { ...timings, store: store ?? kubeLeaseStore(kubeConfig, namespace, name) };
  }
  const manager = new Manager({
    identity,
    logger: options.logger,
    ...(election ? { leaderElection: election } : {}),
    ...(drainTimeoutMs !== undefined ? { drainTimeoutMs } : {}),
    ...(writeTimeoutMs !== undefined ? { writeTimeoutMs } : {}),
    ...(metrics ? { metrics } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
  });
  const controller = new BrowserPoolController({ ...controllerOptions, identity });
  controller.register(manager);
  return { manager, controller };
}
