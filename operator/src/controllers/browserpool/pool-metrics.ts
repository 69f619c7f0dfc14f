import { metrics, type BatchObservableResult, type Counter, type Meter } from '@opentelemetry/api';
import type { BrowserPoolStatus } from '#kube/api/v1alpha1/browserpool.ts';
import { OPERATOR_METER_NAME } from '#kube/runtime/metrics.ts';
import type { DeleteReason, DrainReason } from './plan.ts';

/** The pool a figure belongs to. Its namespace is exported as `pool_namespace` (`namespace` is the scrape target's). */
export interface PoolIdentity {
  namespace: string;
  name: string;
}

/** States a browser is counted in (the status's states). */
export const BROWSER_STATES = ['Starting', 'Ready', 'Draining', 'Failed'] as const;

interface PoolFigures {
  labels: { pool_namespace: string; pool: string };
  desired: number;
  byState: Record<string, number>;
  /** When this process last reconciled the pool (ms since the epoch). */
  at: number;
}

/** Figures older than this are reported as zeros: this process no longer reconciles the pool. */
export const POOL_FIGURES_STALE_AFTER_MS = 60_000;

/** Browsers by state from a status's browser list (every state present, zero when none). Pure. */
export function countByState(browsers: NonNullable<BrowserPoolStatus['browsers']>): Record<string, number> {
  const counts: Record<string, number> = Object.fromEntries(BROWSER_STATES.map((s) => [s, 0]));
  for (const b of browsers) counts[b.state] = (counts[b.state] ?? 0) + 1;
  return counts;
}

/**
 * The BrowserPools as metrics, for dashboards and alerts (the same figures as each pool's status):
 * - `composer_mcp_operator_pool_desired_browsers` (gauge; `pool_namespace`, `pool`): browsers wanted now;
 * - `composer_mcp_operator_pool_browsers` (gauge; `pool_namespace`, `pool`, `state`): browsers by state;
 * - `composer_mcp_operator_browser_drains_total` (counter; `pool_namespace`, `pool`, `reason`): browsers marked
 *   Draining by reason (MaxAge, MaxLeases, Memory, Unhealthy, SpecChanged, ScaleDown) — the start of every recycle;
 * - `composer_mcp_operator_browser_deletions_total` (counter; `pool_namespace`, `pool`, `reason`): pods deleted by
 *   reason (Drained, DrainTimeout, Failed, NeverReady).
 * Gauges are what this process last reconciled. The leader reconciles every pool with a ready browser at least every
 * 10 s (the planner's session poll), so figures older than a minute mean this process stopped reconciling the pool
 * (it lost the Lease, or the pool went away) and are reported as zeros: `max` over the operator's pods is the
 * leader's figure.
 */
export class PoolMetrics {
  readonly #drains: Counter;
  readonly #deletions: Counter;
  readonly #pools = new Map<string, PoolFigures>();
  readonly #now: () => number;

  constructor(meter: Meter = metrics.getMeter(OPERATOR_METER_NAME), now: () => number = Date.now) {
    this.#now = now;
    this.#drains = meter.createCounter('composer_mcp_operator_browser_drains', { description: 'Browsers marked Draining, by pool and reason: the start of every recycle' });
    this.#deletions = meter.createCounter('composer_mcp_operator_browser_deletions', { description: 'Browser pods deleted, by pool and reason' });
    const desired = meter.createObservableGauge('composer_mcp_operator_pool_desired_browsers', { description: 'Browsers a pool wants now (spec.replicas or the autoscaler\'s choice)' });
    const browsers = meter.createObservableGauge('composer_mcp_operator_pool_browsers', { description: 'Browsers of a pool by state, as last reconciled' });
    meter.addBatchObservableCallback((result: BatchObservableResult) => {
      const fresh = this.#now() - POOL_FIGURES_STALE_AFTER_MS;
      for (const figures of this.#pools.values()) {
        const current = figures.at >= fresh;
        result.observe(desired, current ? figures.desired : 0, figures.labels);
        for (const [state, count] of Object.entries(figures.byState)) result.observe(browsers, current ? count : 0, { ...figures.labels, state });
      }
    }, [desired, browsers]);
  }

  /** Records what one reconcile computed for `pool`. */
  observe(pool: PoolIdentity, desired: number, browsers: NonNullable<BrowserPoolStatus['browsers']>): void {
    this.#pools.set(`${pool.namespace}/${pool.name}`, { labels: { pool_namespace: pool.namespace, pool: pool.name }, desired, byState: countByState(browsers), at: this.#now() });
  }

  /** Counts one browser marked Draining. */
  drained(pool: PoolIdentity, reason: DrainReason): void {
    this.#drains.add(1, { pool_namespace: pool.namespace, pool: pool.name, reason });
  }

  /** Counts one browser pod deleted. */
  deleted(pool: PoolIdentity, reason: DeleteReason): void {
    this.#deletions.add(1, { pool_namespace: pool.namespace, pool: pool.name, reason });
  }

  /**
   * A pool that no longer exists (`namespace/name`) reports 0 desired and 0 browsers from now on: the metrics SDK keeps
   * exporting a series it has seen, so leaving it would repeat the pool's last figures.
   */
  forget(key: string): void {
    const figures = this.#pools.get(key);
    if (figures) this.#pools.set(key, { labels: figures.labels, desired: 0, byState: countByState([]), at: this.#now() });
  }

}

let processWide: PoolMetrics | undefined;

/** The reconciler's PoolMetrics: its own when given, else one per process on the global meter provider. */
export function poolMetricsOf(deps: { poolMetrics?: PoolMetrics | undefined }): PoolMetrics {
  if (deps.poolMetrics) return deps.poolMetrics;
  processWide ??= new PoolMetrics();
  return processWide;
}
