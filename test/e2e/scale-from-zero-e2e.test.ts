import { expect } from 'chai';
import type { KubeConfig } from '@kubernetes/client-node';
import { startPodRunner, type PodRunner } from '#support/pod-runner/pod-runner.ts';
import { KubernetesEndpointSource } from '#server/browsers/kubernetes-source.ts';
import { BrowserRouter } from '#server/browsers/router.ts';
import {
  Pools, createNamespace, ensureCrd, eventually, kubeConfig, startTestOperator, testLogger, type TestOperator,
} from '../integration/operator/helpers.ts';

describe('demand-driven pool with real browsers: scale from zero on the first queued lease, and back', function () {
  this.timeout(240_000);
  let kc: KubeConfig;
  let ns: { name: string; remove: () => Promise<void> };
  let runner: PodRunner;
  let operator: TestOperator | undefined;
  let router: BrowserRouter | undefined;
  let source: KubernetesEndpointSource | undefined;

  before(async function () {
    this.timeout(60_000);
    kc = kubeConfig();
    await ensureCrd(kc);
    ns = await createNamespace(kc, 'bp-zero');
    runner = await startPodRunner({ kubeconfigPath: process.env['KUBECONFIG'] ?? '', logger: testLogger('pod-runner') });
  });

  after(async function () {
    this.timeout(60_000);
    await router?.stop();
    await source?.stop();
    await operator?.stop();
    await runner?.stop();
    await ns?.remove();
  });

  it('a pool at zero starts a real browser for the first lease (a cold start), then goes back to zero', async () => {
    const pools = new Pools(kc, ns.name);
    // The router's lease queue is the demand (in a cluster the operator reads it from the servers' /metrics).
    operator = await startTestOperator(kc, {
      namespace: ns.name,
      demand: { queued: async () => router?.stats().queueDepth ?? 0 },
      planOptions: { minDrainSeconds: 0.5, sessionPollSeconds: 2, autoscalePollSeconds: 1 },
    });
    await pools.create('zero', { replicas: 0, autoscaling: { minReplicas: 0, maxReplicas: 2, minIdle: 0, targetSessionsPerBrowser: 1, scaleDownStabilizationWindowSeconds: 0 } });
    await eventually(async () => (await pools.get('zero'))?.status?.observedGeneration === 1 || undefined, 30_000);
    expect(await pools.pods('zero')).to.have.length(0);

    source = new KubernetesEndpointSource({ kubeConfig: kc, namespace: ns.name, pool: 'zero', logger: testLogger('kubernetes-source') });
    router = new BrowserRouter({ source, logger: testLogger('router'), healthIntervalMs: 500, queueTimeoutMs: 120_000, prewarmPerBrowser: 0 });
    await router.start();
    const asked = Date.now();
    const answer = await router.withLease(async (lease) => lease.page.evaluate(() => 6 * 7));
    const coldStartMs = Date.now() - asked;
    expect(answer).to.equal(42);
    console.log(`      cold start with a real Chromium pod: ${coldStartMs} ms from the first lease request to its page`);

    // Quiet again: no lease held, none queued; the pool falls back to zero.
    await eventually(async () => (await pools.pods('zero')).filter((p) => !p.metadata?.deletionTimestamp).length === 0 || undefined, 60_000,
      async () => JSON.stringify((await pools.get('zero'))?.status));
  });
});
