import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { metrics, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { startTelemetry } from '#common/telemetry.ts';

describe('telemetry', () => {
  it('serves metrics recorded through the API meter in Prometheus text format', async () => {
    const telemetry = startTelemetry({ serviceName: 'unit', serviceVersion: '1.0.0' });
    const server = createServer((req, res) => telemetry.metricsHandler(req, res));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const counter = metrics.getMeter('composer-mcp.test').createCounter('tool_calls', { description: 'Tool calls' });
      counter.add(3, { tool: 'composer_status', outcome: 'ok' });
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`);
      const text = await res.text();
      expect(res.status).to.equal(200);
      expect(text).to.match(/# HELP tool_calls_total Tool calls/);
      expect(text).to.match(/tool_calls_total\{[^}]*tool="composer_status"[^}]*\} 3/);
    } finally {
      server.close();
      await telemetry.shutdown();
    }
  });

  it('records spans with parent and child linked in one trace', async () => {
    const exporter = new InMemorySpanExporter();
    const telemetry = startTelemetry({ serviceName: 'unit', serviceVersion: '1.0.0', spanProcessors: [new SimpleSpanProcessor({ exporter })] });
    try {
      const tracer = trace.getTracer('t');
      await tracer.startActiveSpan('http', async (parent) => {
        await tracer.startActiveSpan('tool', async (child) => { child.end(); });
        parent.end();
      });
      const spans = exporter.getFinishedSpans();
      const child = spans.find((s) => s.name === 'tool')!;
      const parent = spans.find((s) => s.name === 'http')!;
      expect(child.spanContext().traceId).to.equal(parent.spanContext().traceId);
      expect(child.parentSpanContext?.spanId).to.equal(parent.spanContext().spanId);
      expect(parent.resource.attributes['service.name']).to.equal('unit');
    } finally {
      await telemetry.shutdown();
    }
  });
});
