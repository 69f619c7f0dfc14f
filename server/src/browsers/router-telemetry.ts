import { metrics, trace, type Attributes, type Tracer } from '@opentelemetry/api';

/** Instrumentation scope name of the router's spans and metrics. */
export const ROUTER_SCOPE = 'composer-mcp.router';

/** How a lease ended (span attribute `lease.outcome`, metric attribute `outcome`). */
export type LeaseOutcome = 'ok' | 'work_error' | 'browser_failed' | 'busy' | 'unavailable' | 'aborted' | 'deadline';

/** A snapshot the observable gauges read. */
export interface PoolGaugeSnapshot {
  browsers: number;
  healthy: number;
  busy: number;
  queueDepth: number;
  prewarmed: number;
}

/** The router's tracer and metric instruments (OpenTelemetry API; no-ops until an SDK is registered). */
export class RouterTelemetry {
  /** Tracer for one span per lease. */
  readonly tracer: Tracer = trace.getTracer(ROUTER_SCOPE);
  private readonly meter = metrics.getMeter(ROUTER_SCOPE);
  private readonly waitHistogram = this.meter.createHistogram('composer_mcp.router.lease.wait', {
    description: 'Time a lease waited for a browser slot and page, from request to page in hand',
    unit: 'ms',
  });
  private readonly holdHistogram = this.meter.createHistogram('composer_mcp.router.lease.hold', {
    description: 'Time a lease held its browser context, from hand-over to release',
    unit: 'ms',
  });
  private readonly failures = this.meter.createCounter('composer_mcp.router.lease.failures', {
    description: 'Leases that did not complete, by reason',
  });
  private readonly gauges = {
    size: this.meter.createObservableGauge('composer_mcp.router.pool.size', { description: 'Browsers known to the router' }),
    healthy: this.meter.createObservableGauge('composer_mcp.router.pool.healthy', { description: 'Browsers connected, healthy and not draining' }),
    busy: this.meter.createObservableGauge('composer_mcp.router.pool.busy', { description: 'Leases held now' }),
    queue: this.meter.createObservableGauge('composer_mcp.router.queue.depth', { description: 'Callers waiting for a browser' }),
    prewarmed: this.meter.createObservableGauge('composer_mcp.router.pool.prewarmed', { description: 'Warm contexts ready for hand-over' }),
  };
  private readonly observe: Parameters<ReturnType<typeof metrics.getMeter>['addBatchObservableCallback']>[0];

  constructor(snapshot: () => PoolGaugeSnapshot) {
    this.observe = (result) => {
      const s = snapshot();
      result.observe(this.gauges.size, s.browsers);
      result.observe(this.gauges.healthy, s.healthy);
      result.observe(this.gauges.busy, s.busy);
      result.observe(this.gauges.queue, s.queueDepth);
      result.observe(this.gauges.prewarmed, s.prewarmed);
    };
    this.meter.addBatchObservableCallback(this.observe, Object.values(this.gauges));
  }

  /** Records a lease's wait time. */
  recordWait(ms: number, attributes: Attributes): void {
    this.waitHistogram.record(ms, attributes);
  }

  /** Records a lease's hold time. */
  recordHold(ms: number, attributes: Attributes): void {
    this.holdHistogram.record(ms, attributes);
  }

  /** Counts one failed lease. */
  recordFailure(reason: Exclude<LeaseOutcome, 'ok'>, attributes: Attributes = {}): void {
    this.failures.add(1, { ...attributes, reason });
  }

  /** Stops the gauge callbacks (router stopped). */
  close(): void {
    this.meter.removeBatchObservableCallback(this.observe, Object.values(this.gauges));
  }
}
