/**
 * The Prometheus exposition the product's code really produces, built from the real instrument classes in one
 * process: the server's tool metrics and router telemetry, the operator's controller metrics (OpenTelemetry,
 * exported by the same Prometheus exporter the processes use), and the gateway's own text metrics. One sample is
 * recorded on each instrument with the attribute keys its call sites use, so every family and its labels appear.
 * `instrumentCallsInSource` counts the instruments the sources create, so a new metric class that is not wired here
 * fails the docs tests instead of being silently absent.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { metrics } from '@opentelemetry/api';
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { GatewayMetrics } from '#browser/gateway/gateway-metrics.ts';
import { ControllerMetrics } from '#kube/runtime/metrics.ts';
import { PoolMetrics } from '#operator/controllers/browserpool/pool-metrics.ts';
import { RouterTelemetry } from '#server/browsers/router-telemetry.ts';
import { ToolMetrics } from '#server/mcp/tool-metrics.ts';

/** The repository root. */
export const REPO = path.resolve(import.meta.dirname, '..', '..', '..');
/** Folders whose sources ship in the images (tests and benchmarks excluded). */
export const PRODUCT_SOURCE_DIRS = ['server/src', 'operator/src', 'kube/src', 'browser/src', 'common/src'];

/** One metric family of the exposition: name, type and the label names its samples carry. */
export interface MetricFamily {
  name: string;
  type: string;
  labels: Set<string>;
}

/** The families of a Prometheus text exposition (labels added up over samples; `_bucket`/`_sum`/`_count` folded). Pure. */
export function parseExposition(text: string): Map<string, MetricFamily> {
  const families = new Map<string, MetricFamily>();
  for (const line of text.split('\n')) {
    const typed = /^# TYPE (\S+) (\S+)/.exec(line);
    if (typed) {
      families.set(typed[1]!, { name: typed[1]!, type: typed[2]!, labels: new Set() });
      continue;
    }
    const sample = /^([a-zA-Z_:][\w:]*)(?:\{([^}]*)\})?\s/.exec(line);
    if (!sample) continue;
    const name = sample[1]!;
    const family = families.get(name) ?? families.get(name.replace(/_(bucket|sum|count)$/, ''));
    if (!family) continue;
    for (const m of (sample[2] ?? '').matchAll(/(\w+)="/g)) if (m[1] !== 'le') family.labels.add(m[1]!);
  }
  return families;
}

/** The exposition of every instrument of the product, as a scrape of the server, the operator and a gateway would show. */
export async function productExposition(): Promise<string> {
  const exporter = new PrometheusExporter({ preventServerStart: true });
  const provider = new MeterProvider({ readers: [exporter] });
  try {
    // server/src/mcp/tool-call.ts: record(tool.name, outcome, durationMs)
    new ToolMetrics(provider.getMeter('composer-mcp-server')).record('composer_status', 'ok', 1);
    // server/src/browsers/router.ts: recordWait(ms, { 'browser.id' }), recordHold(ms, { 'browser.id', outcome }), recordFailure(outcome)
    // RouterTelemetry records on the global meter provider, as in the server process.
    metrics.disable();
    metrics.setGlobalMeterProvider(provider);
    const router = new RouterTelemetry(() => ({ browsers: 1, healthy: 1, busy: 0, queueDepth: 0, prewarmed: 1 }));
    router.recordWait(1, { 'browser.id': 'b' });
    router.recordHold(1, { 'browser.id': 'b', outcome: 'ok' });
    router.recordFailure('busy');
    // kube/src/runtime/controller.ts: recordReconcile(name, result, ms) and the work-queue hooks
    const controller = new ControllerMetrics(provider.getMeter('composer-mcp.operator'));
    controller.recordReconcile('browserpool', 'success', 1);
    const queue = controller.queueMetrics('browserpool');
    queue.onAdd?.('browserpool');
    queue.onDepth?.(0);
    queue.onLatency?.(1);
    queue.onWorkDuration?.(1);
    queue.onRetry?.('browserpool');
    // operator/src/controllers/browserpool/reconciler.ts: observe(ref, desired, status.browsers), drained(ref, reason), deleted(ref, reason)
    const pools = new PoolMetrics(provider.getMeter('composer-mcp.operator'));
    pools.observe({ namespace: 'ns', name: 'pool' }, 1, [{ name: 'b', endpoint: 'http://b', state: 'Ready', sessions: 0, startedAt: '2026-01-01T00:00:00Z' }]);
    pools.drained({ namespace: 'ns', name: 'pool' }, 'MaxAge');
    pools.deleted({ namespace: 'ns', name: 'pool' }, 'Drained');
    const { resourceMetrics } = await exporter.collect();
    const otel = new PrometheusSerializer().serialize(resourceMetrics);
    return `${otel}\n${gatewayExposition()}`;
  } finally {
    metrics.disable();
    await provider.shutdown();
  }
}

/** The gateway's families with one sample each (it renders its own text format). */
function gatewayExposition(): string {
  const metrics = new GatewayMetrics();
  return metrics.render();
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) out.push(...sourceFiles(full));
    else if (entry.endsWith('.ts')) out.push(full);
  }
  return out;
}

/** Instrument names created in the product sources: `meter.createX('name'` (OpenTelemetry) and `this.define('name'` (gateway). */
export function instrumentNamesInSource(): { otel: string[]; gateway: string[] } {
  const otel: string[] = [];
  const gateway: string[] = [];
  for (const file of PRODUCT_SOURCE_DIRS.flatMap((d) => sourceFiles(path.join(REPO, d)))) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/\.create(?:Counter|UpDownCounter|Histogram|Gauge|ObservableGauge|ObservableCounter|ObservableUpDownCounter)\(\s*'([^']+)'/g)) otel.push(m[1]!);
    for (const m of text.matchAll(/this\.define\(\s*'([^']+)'/g)) gateway.push(m[1]!);
  }
  return { otel: otel.toSorted(), gateway: gateway.toSorted() };
}

/** The Prometheus family name an OpenTelemetry instrument name is exported as (dots → underscores; counters get `_total`). */
export function prometheusName(instrument: string, type: string): string {
  const base = instrument.replaceAll('.', '_');
  return type === 'counter' && !base.endsWith('_total') ? `${base}_total` : base;
}
