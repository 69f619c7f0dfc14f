import { expect } from 'chai';
import type { KubernetesObject, V1Pod, V1Secret } from '@kubernetes/client-node';
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { createLogger } from '#common/logger.ts';
import type { BrowserPool } from '#kube/api/v1alpha1/browserpool.ts';
import { FakeClock } from '#support/fake-clock.ts';
import { desiredPod } from '#operator/controllers/browserpool/desired-pods.ts';
import type { KubeWriter } from '#operator/controllers/browserpool/kube-writer.ts';
import { countByState, POOL_FIGURES_STALE_AFTER_MS, PoolMetrics } from '#operator/controllers/browserpool/pool-metrics.ts';
import { BrowserPoolReconciler } from '#operator/controllers/browserpool/reconciler.ts';
import { validateSpec } from '#operator/controllers/browserpool/validate-spec.ts';

async function scrape(exporter: PrometheusExporter): Promise<string[]> {
  const { resourceMetrics } = await exporter.collect();
  return new PrometheusSerializer().serialize(resourceMetrics).split('\n').filter((l) => l.startsWith('composer_mcp_operator_')).map((l) => l.replace(/,?otel_scope_name="[^"]*"/, '').replace('{}', ''));
}

describe('PoolMetrics: the BrowserPools as metrics (desired, browsers by state, drains and deletions by reason)', () => {
  it('counts browsers by state, every state present', () => {
    const b = (name: string, state: 'Ready' | 'Draining') => ({ name, endpoint: `http://${name}`, state, sessions: 0, startedAt: '2026-01-01T00:00:00Z' });
    expect(countByState([b('a', 'Ready'), b('b', 'Draining'), b('c', 'Ready')]))
      .to.deep.equal({ Starting: 0, Ready: 2, Draining: 1, Failed: 0 });
  });

  it('reports a pool this process stopped reconciling (lost the Lease) as zeros after a minute, so max is the leader\'s', async () => {
    const exporter = new PrometheusExporter({ preventServerStart: true });
    const provider = new MeterProvider({ readers: [exporter] });
    let now = 1_000_000;
    try {
      const metrics = new PoolMetrics(provider.getMeter('composer-mcp.operator'), () => now);
      metrics.observe({ namespace: 'a', name: 'p' }, 3, [{ name: 'x', endpoint: 'http://x', state: 'Ready', sessions: 0, startedAt: '2026-01-01T00:00:00Z' }]);
      now += POOL_FIGURES_STALE_AFTER_MS;
      expect(await scrape(exporter)).to.include('composer_mcp_operator_pool_desired_browsers{pool_namespace="a",pool="p"} 3');
      now += 1;
      const lines = (await scrape(exporter)).filter((l) => l.includes('pool_'));
      expect(lines).to.have.length(5);
      expect(lines.every((l) => l.endsWith(' 0')), lines.join('\n')).to.equal(true);
    } finally {
      await provider.shutdown();
    }
  });

  it('exports what a reconcile of a pool over its size did: desired, each browser\'s state, the drain and its reason', async () => {
    const exporter = new PrometheusExporter({ preventServerStart: true });
    const provider = new MeterProvider({ readers: [exporter] });
    const clock = new FakeClock(Date.parse('2026-01-01T12:00:00Z'));
    const pool: BrowserPool = {
      apiVersion: 'browser.composer-mcp.io/v1alpha1', kind: 'BrowserPool',
      metadata: { name: 'lessons', namespace: 'team-a', uid: 'uid-pool', generation: 1 },
      spec: { replicas: 1 } as BrowserPool['spec'],
    };
    const ref = { apiVersion: pool.apiVersion, kind: pool.kind, name: 'lessons', namespace: 'team-a', uid: 'uid-pool' };
    const spec = validateSpec('lessons', pool.spec);
    if (!spec.ok) throw new Error(spec.problems.join('; '));
    // Two Ready browsers of the current spec where one is wanted: the reconcile drains one (ScaleDown).
    const readyPod = (serial: number): V1Pod => {
      const pod = desiredPod(ref, spec.spec, serial);
      const since = new Date(clock.now() - 100_000);
      return {
        ...pod,
        metadata: { ...pod.metadata, uid: `uid-${serial}`, creationTimestamp: since },
        status: { phase: 'Running', podIP: `10.0.0.${serial + 1}`, startTime: since, conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: since }] },
      };
    };
    const pods = [readyPod(0), readyPod(1)];
    const writer: KubeWriter = {
      async apply<T extends KubernetesObject>(object: T): Promise<T> { return object; },
      async createSecret(secret: V1Secret) { return { ...secret, metadata: { ...secret.metadata, uid: 'uid-secret', creationTimestamp: new Date() } }; },
      async annotatePod() { return true; },
      async labelPod() { return true; },
      async deletePod() { return true; },
      async deleteObject() { return true; },
      async writeStatus(_pool, status) { pool.status = status; },
      async event() {},
    };
    const metrics = new PoolMetrics(provider.getMeter('composer-mcp.operator'));
    // Caches as the informers serve them (a variable, so a cache lookup a newer reconciler asks for can be added).
    const caches = {
      getPool: (k: string) => (k === 'team-a/lessons' ? pool : undefined), listPools: () => [pool], podsOwnedBy: () => pods, podsLabelled: () => pods,
      getSecret: () => undefined, getNetworkPolicy: () => undefined,
    };
    const empty = { getPool: () => undefined, listPools: () => [], podsOwnedBy: () => [], podsLabelled: () => [], getSecret: () => undefined, getNetworkPolicy: () => undefined };
    const reconciler = new BrowserPoolReconciler({
      caches,
      writer, sessions: { read: async () => ({ leased: 0 }) }, logger: createLogger({ component: 'test', level: 'error' }), clock, poolMetrics: metrics,
    });
    try {
      await reconciler.reconcile('team-a/lessons');
      const lines = await scrape(exporter);
      expect(lines).to.include('composer_mcp_operator_pool_desired_browsers{pool_namespace="team-a",pool="lessons"} 1');
      expect(lines).to.include('composer_mcp_operator_browser_drains_total{pool_namespace="team-a",pool="lessons",reason="ScaleDown"} 1');
      const byState = lines.filter((l) => l.startsWith('composer_mcp_operator_pool_browsers{'));
      expect(byState).to.have.length(4);
      expect(byState.reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0), 'every browser counted once').to.equal(2);

      // The pool goes away: its gauges fall to zero.
      const gone = new BrowserPoolReconciler({
        caches: empty,
        writer, sessions: { read: async () => ({ leased: 0 }) }, logger: createLogger({ component: 'test', level: 'error' }), clock, poolMetrics: metrics,
      });
      await gone.reconcile('team-a/lessons');
      const after = (await scrape(exporter)).filter((l) => l.includes('pool_desired_browsers{') || l.includes('pool_browsers{'));
      expect(after).to.have.length(5);
      expect(after.every((l) => l.endsWith(' 0')), after.join('\n')).to.equal(true);
    } finally {
      await provider.shutdown();
    }
  });
});
