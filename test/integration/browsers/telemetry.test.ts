import { expect } from 'chai';
import { metrics, trace } from '@opentelemetry/api';
import { MeterProvider, MetricReader, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { createLogger } from '#common/logger.ts';
import { LocalEndpointSource } from '#server/browsers/local-source.ts';
import { BrowserRouter } from '#server/browsers/router.ts';

class CollectingReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

function points(collected: ResourceMetrics, name: string): Array<{ attributes: Record<string, unknown>; value: unknown }> {
  for (const scope of collected.scopeMetrics) {
    if (scope.scope.name !== 'composer-mcp.router') continue;
    for (const metric of scope.metrics) {
      if (metric.descriptor.name === name) return metric.dataPoints.map((p) => ({ attributes: p.attributes, value: p.value }));
    }
  }
  return [];
}

describe('router telemetry', function () {
  this.timeout(60_000);
  const spans = new InMemorySpanExporter();
  const tracerProvider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter: spans })] });
  const reader = new CollectingReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  let source: LocalEndpointSource;
  let router: BrowserRouter;

  before(async () => {
    // Replace whatever providers earlier tests in this process registered (a second registration is refused).
    trace.disable();
    metrics.disable();
    expect(trace.setGlobalTracerProvider(tracerProvider)).to.equal(true);
    expect(metrics.setGlobalMeterProvider(meterProvider)).to.equal(true);
    const logger = createLogger({ component: 'router', level: 'error', format: 'json' });
    source = new LocalEndpointSource({ browsers: 1, allowedOrigins: [], logger });
    await source.start();
    router = new BrowserRouter({ source, logger, prewarmPerBrowser: 1 });
    await router.start();
  });

  after(async () => {
    await router?.stop();
    await source?.stop();
    trace.disable();
    metrics.disable();
    await tracerProvider.shutdown();
    await meterProvider.shutdown();
  });

  it('records a span per lease with browser id, wait time and outcome, and metrics for wait, hold, pool and failures', async () => {
    await router.withLease(async (lease) => lease.page.setContent('<p>ok</p>'));
    let thrown: unknown;
    try {
      await router.withLease(async () => {
        throw new Error('selector not found');
      });
    } catch (e) {
      thrown = e;
    }
    expect((thrown as Error).message).to.equal('selector not found');

    const leaseSpans = spans.getFinishedSpans().filter((s) => s.name === 'browser.lease');
    expect(leaseSpans).to.have.length(2);
    expect(leaseSpans[0]!.attributes).to.include({ 'browser.id': 'local-0', 'lease.outcome': 'ok' });
    expect(leaseSpans[0]!.attributes['lease.wait_ms']).to.be.a('number');
    expect(leaseSpans[1]!.attributes).to.include({ 'lease.outcome': 'work_error' });
    expect(leaseSpans[1]!.status.code).to.equal(2);

    const { resourceMetrics } = await reader.collect();
    const wait = points(resourceMetrics, 'composer_mcp.router.lease.wait');
    const hold = points(resourceMetrics, 'composer_mcp.router.lease.hold');
    expect(wait.reduce((n, p) => n + (p.value as { count: number }).count, 0)).to.equal(2);
    expect(hold.reduce((n, p) => n + (p.value as { count: number }).count, 0)).to.equal(2);
    expect(points(resourceMetrics, 'composer_mcp.router.lease.failures')).to.deep.equal([{ attributes: { reason: 'work_error' }, value: 1 }]);
    expect(points(resourceMetrics, 'composer_mcp.router.pool.size')[0]!.value).to.equal(1);
    expect(points(resourceMetrics, 'composer_mcp.router.pool.healthy')[0]!.value).to.equal(1);
    expect(points(resourceMetrics, 'composer_mcp.router.pool.busy')[0]!.value).to.equal(0);
    expect(points(resourceMetrics, 'composer_mcp.router.queue.depth')[0]!.value).to.equal(0);
  });
});
