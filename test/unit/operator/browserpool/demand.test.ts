import { expect } from 'chai';
import type { V1Pod } from '@kubernetes/client-node';
import { metricsUrlOf, sumOfMetric } from '#operator/controllers/browserpool/demand-reader.ts';
import { matchesSelector } from '#operator/controllers/browserpool/label-selector.ts';

describe('servers\' queued demand', () => {
  it('sums a gauge over all its label sets and ignores look-alikes and garbage', () => {
    const text = [
      '# HELP composer_mcp_router_queue_depth Callers waiting for a browser',
      '# TYPE composer_mcp_router_queue_depth gauge',
      'composer_mcp_router_queue_depth{otel_scope_name="composer-mcp.router"} 3',
      'composer_mcp_router_queue_depth 2 1700000000000',
      'composer_mcp_router_queue_depth_total 100',
      'composer_mcp_router_queue_depth{a="}"} NaN',
      'composer_mcp_router_queue_depth{x="1"} -5',
    ].join('\n');
    expect(sumOfMetric(text, 'composer_mcp_router_queue_depth')).to.equal(5);
    expect(sumOfMetric('other 1\n', 'composer_mcp_router_queue_depth')).to.equal(undefined);
  });

  it('reads a Ready server pod\'s metrics URL from its http port, and none for others', () => {
    const pod: V1Pod = {
      metadata: { name: 's' },
      spec: { containers: [{ name: 'server', ports: [{ name: 'http', containerPort: 8080 }] }] },
      status: { podIP: '10.0.0.7', conditions: [{ type: 'Ready', status: 'True' }] },
    };
    expect(metricsUrlOf(pod)).to.equal('http://10.0.0.7:8080/metrics');
    expect(metricsUrlOf({ ...pod, status: { ...pod.status, conditions: [{ type: 'Ready', status: 'False' }] } })).to.equal(undefined);
    expect(metricsUrlOf({ ...pod, status: { ...pod.status, podIP: 'fd00::7' } })).to.equal('http://[fd00::7]:8080/metrics');
    expect(metricsUrlOf({ ...pod, spec: { containers: [{ name: 'server' }] } })).to.equal(undefined);
  });

  it('matches label selectors as the API server does', () => {
    const labels = { app: 'server', tier: 'web' };
    expect(matchesSelector({ matchLabels: { app: 'server' } }, labels)).to.equal(true);
    expect(matchesSelector({ matchLabels: { app: 'other' } }, labels)).to.equal(false);
    expect(matchesSelector({ matchExpressions: [{ key: 'tier', operator: 'In', values: ['web', 'api'] }] }, labels)).to.equal(true);
    expect(matchesSelector({ matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['web'] }] }, labels)).to.equal(false);
    expect(matchesSelector({ matchExpressions: [{ key: 'zone', operator: 'DoesNotExist' }] }, labels)).to.equal(true);
    expect(matchesSelector({ matchExpressions: [{ key: 'zone', operator: 'Exists' }] }, labels)).to.equal(false);
    expect(matchesSelector({}, undefined)).to.equal(true);
  });
});
