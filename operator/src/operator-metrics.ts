import type { IncomingMessage, ServerResponse } from 'node:http';
import { metrics } from '@opentelemetry/api';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider } from '@opentelemetry/sdk-metrics';

/** The operator's metrics: the global meter provider and the Prometheus scrape handler. */
export interface OperatorMetrics {
  /** Serves the Prometheus text exposition of every metric recorded through `@opentelemetry/api` meters. */
  metricsHandler(request: IncomingMessage, response: ServerResponse): void;
  /** Stops the meter provider; safe to call twice. */
  shutdown(): Promise<void>;
}

/**
 * Metrics only, for the operator: it records no spans, so it needs neither the NodeSDK nor its trace, log and OTLP
 * exporters (gRPC included), which cost the operator about 5 MB of heap and more of resident memory for nothing
 * (docs/operations.md, "Operator memory"). A MeterProvider with a Prometheus reader, registered as the global one
 * (replacing any earlier, as tests start several operators in one process); the resource names the service as
 * NodeSDK did.
 */
export function startOperatorMetrics(service: { name: string; version: string }): OperatorMetrics {
  const exporter = new PrometheusExporter({ preventServerStart: true });
  const provider = new MeterProvider({
    // The semantic-convention keys service.name and service.version, written out (the conventions package is large).
    resource: resourceFromAttributes({ 'service.name': service.name, 'service.version': service.version }),
    readers: [exporter],
  });
  metrics.disable();
  metrics.setGlobalMeterProvider(provider);
  let stopped: Promise<void> | undefined;
  return {
    metricsHandler: (request, response) => exporter.getMetricsRequestHandler(request, response),
    shutdown: () => {
      stopped ??= provider.shutdown().catch(() => undefined);
      return stopped;
    },
  };
}
