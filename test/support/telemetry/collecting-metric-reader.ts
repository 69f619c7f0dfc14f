import { AggregationTemporality, MetricReader } from '@opentelemetry/sdk-metrics';

/** A metric reader for tests: cumulative, exports nowhere; call `collect()` to read what was recorded. */
export class CollectingMetricReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  }
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}
