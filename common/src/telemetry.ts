import type { IncomingMessage, ServerResponse } from 'node:http';
import { context, diag, metrics, propagation, trace, type MeterProvider } from '@opentelemetry/api';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';

/** How telemetry is set up for one process. */
export interface TelemetryOptions {
  serviceName: string;
  serviceVersion: string;
  /** OTLP/HTTP traces endpoint (e.g. `http://otel-collector:4318/v1/traces`). Traces are exported only when set. */
  otlpEndpoint?: string | undefined;
  /** Extra span processors (tests use an in-memory exporter). */
  spanProcessors?: SpanProcessor[];
}

/** Running telemetry: global tracer and meter providers, and the Prometheus scrape handler. */
export interface Telemetry {
  meterProvider: MeterProvider;
  /** Serves the Prometheus text exposition of every metric recorded through `@opentelemetry/api` meters. */
  metricsHandler(request: IncomingMessage, response: ServerResponse): void;
  /** Flushes and stops exporters; safe to call twice. */
  shutdown(): Promise<void>;
}

let current: { sdk: NodeSDK; shutdown: Promise<void> | undefined } | undefined;

/**
 * Starts OpenTelemetry for this process with NodeSDK: traces always recorded (so logs carry trace ids), exported over
 * OTLP only when `otlpEndpoint` is set; metrics read by a Prometheus exporter served through `metricsHandler`
 * (no extra port). Starting again replaces the previous set-up (tests start several servers in one process).
 */
export function startTelemetry(options: TelemetryOptions): Telemetry {
  if (current) void current.sdk.shutdown().catch(() => undefined);
  trace.disable();
  metrics.disable();
  propagation.disable();
  context.disable();
  diag.disable();
  const exporter = new PrometheusExporter({ preventServerStart: true });
  const spanProcessors: SpanProcessor[] = [...(options.spanProcessors ?? [])];
  if (options.otlpEndpoint) spanProcessors.push(new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url: options.otlpEndpoint }) }));
  const sdk = new NodeSDK({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: options.serviceName, [ATTR_SERVICE_VERSION]: options.serviceVersion }),
    autoDetectResources: false,
    metricReaders: [exporter],
    spanProcessors,
    instrumentations: [],
  });
  sdk.start();
  const state = { sdk, shutdown: undefined as Promise<void> | undefined };
  current = state;
  return {
    meterProvider: metrics.getMeterProvider(),
    metricsHandler: (request, response) => exporter.getMetricsRequestHandler(request, response),
    shutdown: () => {
      state.shutdown ??= sdk.shutdown().catch(() => undefined).finally(() => { if (current === state) current = undefined; });
      return state.shutdown;
    },
  };
}
