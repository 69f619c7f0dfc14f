import { expect } from 'chai';
import { CoreV1Api, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import { startPodRunner, type PodRunner } from '#support/pod-runner/pod-runner.ts';
import { sharedControlPlane } from '#support/control-plane/shared.ts';
import {
  Pools, condition, createNamespace, ensureCrd, eventually, kubeConfig, startTestOperator, testLogger, type TestOperator,
} from './helpers.ts';

const recycle = { maxAgeSeconds: 3600, drainTimeoutSeconds: 1, unhealthyAfterSeconds: 60 };

describe('BrowserPool operator: rolling, conflicts, leadership, restarts (browserless pod runner)', function () {
  this.timeout(120_000);
  let kc: KubeConfig;
  let ns: { name: string; remove: () => Promise<void> };
  let runner: PodRunner;
  let pools: Pools;
  const operators: TestOperator[] = [];

  before(async () => {
    kc = kubeConfig();
    await ensureCrd(kc);
    ns = await createNamespace(kc, 'bp-res');
    runner = await startPodRunner({ kubeconfigPath: process.env['KUBECONFIG'] ?? '', browserless: true, readyDelayMs: 400, logger: testLogger('pod-runner') });
    pools = new Pools(kc, ns.name);
  });

  afterEach(async () => {
    await Promise.all(operators.splice(0).map((o) => o.stop()));
  });

  after(async () => {
    await runner?.stop();
    await ns?.remove();
  });

  const describePool = async (name: string): Promise<string> => JSON.stringify({
    status: (await pools.get(name))?.status,
    pods: (await pools.pods(name)).map((p) => [p.metadata?.name, p.status?.phase, p.metadata?.deletionTimestamp ? 'deleting' : '']),
  });

  const settled = async (name: string, replicas: number, generation?: number) => eventually(async () => {
    const p = await pools.get(name);
    const pods = (await pools.pods(name)).filter((x) => !x.metadata?.deletionTimestamp);
    return p?.status?.readyReplicas === replicas && pods.length === replicas && p.status.browsers?.length === replicas &&
      (generation === undefined || p.status.observedGeneration === generation) && condition(p, 'Progressing')?.status === 'False' ? p : undefined;
  }, 40_000, () => describePool(name));

  it('rolls a spec change surge-first: Ready browsers never drop below replicas, new pods start before old ones drain', async () => {
    operators.push(await startTestOperator(kc, { namespace: ns.name }));
    await pools.create('roll', { replicas: 3, recycle });
    const first = await settled('roll', 3);
    const oldNames = new Set(first.status?.browsers?.map((b) => b.name));
    const patched = await pools.patchSpec('roll', { browser: { image: 'ghcr.io/composer-mcp/chromium:0.2.0' } });
    let minReady = Number.POSITIVE_INFINITY;
    let sawProgressing = false;
    const done = await eventually(async () => {
      const p = await pools.get('roll');
      const ready = p?.status?.browsers?.filter((b) => b.state === 'Ready').length ?? 0;
      if (p?.status?.observedGeneration === patched.metadata.generation) {
        minReady = Math.min(minReady, ready);
        if (condition(p, 'Progressing')?.reason === 'ReplacingBrowsers') sawProgressing = true;
      }
      const names = p?.status?.browsers?.map((b) => b.name) ?? [];
      return names.length === 3 && names.every((n) => !oldNames.has(n)) && condition(p, 'Progressing')?.status === 'False' && ready === 3 ? p : undefined;
    }, 40_000, () => describePool('roll'));
    expect(minReady, 'ready browsers during the roll').to.be.at.least(3);
    expect(sawProgressing).to.equal(true);
    expect(done.status?.observedGeneration).to.equal(patched.metadata.generation);
    const pods = await settled('roll', 3, patched.metadata.generation);
    expect(pods.status?.browsers?.every((b) => !oldNames.has(b.name))).to.equal(true);
  });

  it('converges under a conflict storm from a second writer (pool and pod annotations rewritten continuously)', async () => {
    operators.push(await startTestOperator(kc, { namespace: ns.name }));
    await pools.create('storm', { replicas: 2, recycle });
    await settled('storm', 2);
    const storm = { stop: false };
    const core = kc.makeApiClient(CoreV1Api);
    const writer = (async () => {
      let i = 0;
      while (!storm.stop) {
        i++;
        await pools.patchMetadata('storm', { annotations: { 'example.com/writer': String(i) } }).catch(() => undefined);
        if (i % 3 === 0) {
          for (const pod of await pools.pods('storm')) {
            await core.patchNamespacedPod(
              { namespace: ns.name, name: pod.metadata?.name ?? '', body: { metadata: { labels: { 'example.com/writer': String(i) } } } },
              setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
            ).catch(() => undefined);
          }
        }
      }
      return i;
    })();
    try {
      const patched = await pools.patchSpec('storm', { replicas: 4 });
      const p = await settled('storm', 4, patched.metadata.generation);
      expect(condition(p, 'Degraded')?.status).to.equal('False');
    } finally {
      storm.stop = true;
      expect(await writer).to.be.greaterThan(5);
    }
    expect((await pools.pods('storm')).length).to.equal(4);
  });

  it('hands over leadership: the standby takes over within the lease duration and finishes the work', async () => {
    const lease = { namespace: ns.name, name: 'browserpool-operator', leaseDurationMs: 4000, renewDeadlineMs: 3000, retryPeriodMs: 500, releaseOnCancel: false };
    const a = await startTestOperator(kc, { namespace: ns.name, lease: { ...lease, identity: 'operator-a' } });
    operators.push(a);
    await eventually(() => a.isLeader() || undefined, 10_000);
    const b = await startTestOperator(kc, { namespace: ns.name, lease: { ...lease, identity: 'operator-b' } });
    operators.push(b);
    await pools.create('lead', { replicas: 2, recycle });
    await settled('lead', 2);
    expect(b.isLeader()).to.equal(false);
    // The leader dies without releasing its lease; then more work arrives.
    operators.splice(operators.indexOf(a), 1);
    await a.stop();
    const stoppedAt = Date.now();
    const patched = await pools.patchSpec('lead', { replicas: 3 });
    await eventually(() => b.isLeader() || undefined, 10_000);
    const tookOverMs = Date.now() - stoppedAt;
    expect(tookOverMs, 'time for the standby to lead').to.be.below(4000 + 2000);
    await settled('lead', 3, patched.metadata.generation);
  });

  it('restarting the operator in the middle of a scale-up converges with no duplicate and no orphan pods', async () => {
    const first = await startTestOperator(kc, { namespace: ns.name });
    const pool = await pools.create('restart', { replicas: 8, recycle });
    await eventually(async () => (await pools.pods('restart')).length >= 1 || undefined, 20_000);
    await first.stop();
    const second = await startTestOperator(kc, { namespace: ns.name });
    operators.push(second);
    await settled('restart', 8);
    await new Promise((r) => setTimeout(r, 1000));
    const pods = await pools.pods('restart');
    expect(pods).to.have.length(8);
    expect(new Set(pods.map((p) => p.metadata?.name)).size).to.equal(8);
    for (const p of pods) expect(p.metadata?.ownerReferences?.[0]?.uid).to.equal(pool.metadata.uid);
    const deleted = (await pools.events()).filter((e) => e.reason === 'DeletedBrowser' && e.message.includes('restart-'));
    expect(deleted, 'no pod was created in excess and deleted').to.have.length(0);
  });

  it('survives an apiserver restart: informers relist and the next change is reconciled', async () => {
    operators.push(await startTestOperator(kc, { namespace: ns.name }));
    await pools.create('survive', { replicas: 1, recycle });
    await settled('survive', 1);
    await sharedControlPlane().restartApiserver();
    const patched = await eventually(async () => pools.patchSpec('survive', { replicas: 2 }).catch(() => undefined), 30_000);
    await settled('survive', 2, patched.metadata.generation);
  });
});
