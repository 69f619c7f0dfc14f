import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { metrics } from '@opentelemetry/api';
import { startOperatorMetrics, type OperatorMetrics } from '#operator/operator-metrics.ts';
import { ControllerMetrics } from '#kube/runtime/metrics.ts';

async function scrape(telemetry: OperatorMetrics): Promise<string> {
  const server = http.createServer((request, response) => telemetry.metricsHandler(request, response));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    return await (await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`)).text();
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

describe('the operator\'s metrics (metrics only, no NodeSDK)', () => {
  it('exposes what the controller runtime records, under the operator\'s service name, and a restart replaces the provider', async () => {
    const first = startOperatorMetrics({ name: 'composer-mcp-operator', version: '9.9.9' });
    new ControllerMetrics().recordReconcile('browserpool', 'success', 20);
    const text = await scrape(first);
    expect(text).to.contain('target_info{service_name="composer-mcp-operator",service_version="9.9.9"} 1');
    expect(text).to.match(/composer_mcp_operator_reconciles_total\{[^}]*controller="browserpool"[^}]*result="success"[^}]*\} 1/);
    await first.shutdown();
    const second = startOperatorMetrics({ name: 'composer-mcp-operator', version: '9.9.10' });
    new ControllerMetrics(metrics.getMeter('composer-mcp.operator')).recordReconcile('browserpool', 'error', 10);
    const again = await scrape(second);
    expect(again).to.contain('service_version="9.9.10"');
    expect(again).to.match(/result="error"/);
    expect(again).to.not.match(/result="success"/);
    await second.shutdown();
    await second.shutdown();
  });
});
