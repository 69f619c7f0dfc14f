import { metrics, type Meter } from '@opentelemetry/api';
import type { WorkQueueMetrics } from './work-queue.ts';

/** The OpenTelemetry meter name every operator metric is recorded under. */
export const OPERATOR_METER_NAME = 'composer-mcp.operator';

/**
 * How one reconcile ended. `requeue`: succeeded and asked to run again later; `conflict`: a 409, retried quietly;
 * `cancelled`: stopped because its leadership term ended (its remaining writes were refused).
 */
export type ReconcileOutcome = 'success' | 'error' | 'requeue' | 'conflict' | 'cancelled';

const DURATION_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/**
 * The controller runtime's metrics on the `composer-mcp.operator` meter (exported for Prometheus by the
 * process's telemetry setup):
 * - `composer_mcp_operator_reconciles` (counter; `controller`, `result` = success|error|requeue|conflict|cancelled),
 * - `composer_mcp_operator_reconcile_duration` (histogram, seconds; `controller`, `result`),
 * - `composer_mcp_operator_workqueue_depth` (gauge; `controller`), `composer_mcp_operator_workqueue_adds` (counter),
 * - `composer_mcp_operator_workqueue_queue_duration` and `composer_mcp_operator_workqueue_work_duration` (histograms, seconds),
 * - `composer_mcp_operator_workqueue_retries` (counter).
 */
export class ControllerMetrics {
  readonly #reconciles;
  readonly #reconcileDuration;
  readonly #adds;
  readonly #retries;
  readonly #queueLatency;
  readonly #workDuration;
  readonly #depths = new Map<string, number>();

  /** Records on `meter` (default the global meter provider's `composer-mcp.operator` meter). */
  constructor(meter: Meter = metrics.getMeter(OPERATOR_METER_NAME)) {
    this.#reconciles = meter.createCounter('composer_mcp_operator_reconciles', { description: 'Reconciles by controller and result' });
    this.#reconcileDuration = meter.createHistogram('composer_mcp_operator_reconcile_duration', {
      description: 'Time spent in one reconcile',
      unit: 's',
      advice: { explicitBucketBoundaries: DURATION_BUCKETS_S },
    });
    this.#adds = meter.createCounter('composer_mcp_operator_workqueue_adds', { description: 'Keys added to the work queue' });
    this.#retries = meter.createCounter('composer_mcp_operator_workqueue_retries', { description: 'Rate-limited re-adds (retries)' });
    this.#queueLatency = meter.createHistogram('composer_mcp_operator_workqueue_queue_duration', {
      description: 'Time a key waited in the queue before a worker took it',
      unit: 's',
      advice: { explicitBucketBoundaries: DURATION_BUCKETS_S },
    });
    this.#workDuration = meter.createHistogram('composer_mcp_operator_workqueue_work_duration', {
      description: 'Time from a worker taking a key to marking it done',
      unit: 's',
      advice: { explicitBucketBoundaries: DURATION_BUCKETS_S },
    });
    const depth = meter.createObservableGauge('composer_mcp_operator_workqueue_depth', { description: 'Keys waiting in the work queue' });
    depth.addCallback((result) => {
      for (const [controller, value] of this.#depths) result.observe(value, { controller });
    });
  }

  /** Counts one reconcile of `controller` and records how long it took. */
  recordReconcile(controller: string, result: ReconcileOutcome, durationMs: number): void {
    this.#reconciles.add(1, { controller, result });
    this.#reconcileDuration.record(durationMs / 1000, { controller, result });
  }

  /** Work-queue hooks that record the queue metrics under `controller`. */
  queueMetrics(controller: string): WorkQueueMetrics {
    this.#depths.set(controller, 0);
    return {
      onAdd: () => this.#adds.add(1, { controller }),
      onDepth: (depth) => this.#depths.set(controller, depth),
      onLatency: (ms) => this.#queueLatency.record(ms / 1000, { controller }),
      onWorkDuration: (ms) => this.#workDuration.record(ms / 1000, { controller }),
      onRetry: () => this.#retries.add(1, { controller }),
    };
  }
}
