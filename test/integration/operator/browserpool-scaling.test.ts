import { expect } from 'chai';
import { CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import { BROWSERPOOL_GROUP, BROWSERPOOL_PLURAL, BROWSERPOOL_VERSION } from '#kube/api/v1alpha1/browserpool.ts';
import type { SessionReader } from '#operator/controllers/browserpool/session-reader.ts';
import type { DemandReader } from '#operator/controllers/browserpool/demand-reader.ts';
import type { GatewayLoad } from '#common/gateway-status.ts';
import { startPodRunner, type PodRunner } from '#support/pod-runner/pod-runner.ts';
import { kubectl } from '#support/control-plane/kubectl.ts';
import {
  Pools, condition, createNamespace, ensureCrd, eventually, kubeConfig, startTestOperator, testLogger, type TestOperator,
} from './helpers.ts';

/** The servers' queued callers, set by the test (stands in for their /metrics). */
class FakeDemand implements DemandReader {
  queuedNow = 0;
  async queued(): Promise<number | undefined> {
    return this.queuedNow;
  }
}

/** Sessions per endpoint, set by the test (stands in for the gateways' /status in browserless mode). */
class FakeSessions implements SessionReader {
  readonly byEndpoint = new Map<string, number>();
  async read(endpoint: string): Promise<GatewayLoad | undefined> {
    return { leased: this.byEndpoint.get(endpoint) ?? 0 };
  }
}

describe('BrowserPool operator: scale subresource, autoscaling, unhealthy browsers (browserless)', function () {
  this.timeout(120_000);
  let kc: KubeConfig;
  let ns: { name: string; remove: () => Promise<void> };
  let runner: PodRunner;
  let operator: TestOperator;
  let pools: Pools;
  const sessions = new FakeSessions();
  const demand = new FakeDemand();

  before(async () => {
    kc = kubeConfig();
    await ensureCrd(kc);
    ns = await createNamespace(kc, 'bp-scale');
    runner = await startPodRunner({ kubeconfigPath: process.env['KUBECONFIG'] ?? '', browserless: true, logger: testLogger('pod-runner') });
    operator = await startTestOperator(kc, { namespace: ns.name, sessions, demand, planOptions: { minDrainSeconds: 0.5, sessionPollSeconds: 1, autoscalePollSeconds: 1 } });
    pools = new Pools(kc, ns.name);
  });

  after(async () => {
    await operator?.stop();
    await runner?.stop();
    await ns?.remove();
  });

  const describePool = async (name: string): Promise<string> => JSON.stringify({
    status: (await pools.get(name))?.status,
    pods: (await pools.pods(name)).map((p) => [p.metadata?.name, p.status?.phase, p.metadata?.deletionTimestamp ? 'deleting' : '']),
  });
  const live = async (name: string) => (await pools.pods(name)).filter((p) => !p.metadata?.deletionTimestamp);

  it('follows the scale subresource (kubectl scale, HPA, KEDA) and reports replicas and selector through it', async () => {
    await pools.create('scaled', { replicas: 1 });
    await eventually(async () => (await pools.get('scaled'))?.status?.readyReplicas === 1 || undefined, 30_000, () => describePool('scaled'));
    const custom = kc.makeApiClient(CustomObjectsApi);
    await custom.patchNamespacedCustomObjectScale({
      group: BROWSERPOOL_GROUP, version: BROWSERPOOL_VERSION, plural: BROWSERPOOL_PLURAL, namespace: ns.name, name: 'scaled',
      body: { spec: { replicas: 3 } },
    }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    await eventually(async () => (await pools.get('scaled'))?.status?.readyReplicas === 3 || undefined, 30_000, () => describePool('scaled'));
    const scale = await custom.getNamespacedCustomObjectScale({
      group: BROWSERPOOL_GROUP, version: BROWSERPOOL_VERSION, plural: BROWSERPOOL_PLURAL, namespace: ns.name, name: 'scaled',
    }) as { spec?: { replicas?: number }; status?: { replicas?: number; selector?: string } };
    expect(scale.spec?.replicas).to.equal(3);
    expect(scale.status?.replicas).to.equal(3);
    expect(scale.status?.selector).to.equal('app.kubernetes.io/name=composer-mcp-browser,browser.composer-mcp.io/pool=scaled');
  });

  it('scales down the idlest browsers first, waiting for busy ones', async () => {
    await pools.create('idle', { replicas: 3, recycle: { maxAgeSeconds: 3600, drainTimeoutSeconds: 120, unhealthyAfterSeconds: 60 } });
    const pool = await eventually(async () => {
      const p = await pools.get('idle');
      return p?.status?.readyReplicas === 3 ? p : undefined;
    }, 30_000, () => describePool('idle'));
    const [busy, idle1, idle2] = pool.status?.browsers ?? [];
    sessions.byEndpoint.set(busy?.endpoint ?? '', 2);
    sessions.byEndpoint.set(idle1?.endpoint ?? '', 0);
    sessions.byEndpoint.set(idle2?.endpoint ?? '', 1);
    await eventually(async () => (await pools.get('idle'))?.status?.browsers?.find((b) => b.name === busy?.name)?.sessions === 2 || undefined, 20_000, () => describePool('idle'));
    await pools.patchSpec('idle', { replicas: 1 });
    // The idle one goes at once; the one with a session drains and waits.
    await eventually(async () => (await live('idle')).every((p) => p.metadata?.name !== idle1?.name) || undefined, 20_000, () => describePool('idle'));
    const draining = await eventually(async () => {
      const p = await pools.get('idle');
      return p?.status?.browsers?.find((b) => b.name === idle2?.name)?.state === 'Draining' ? p : undefined;
    }, 20_000, () => describePool('idle'));
    expect(draining.status?.browsers?.find((b) => b.name === busy?.name)?.state).to.equal('Ready');
    await new Promise((r) => setTimeout(r, 1500));
    expect((await live('idle')).map((p) => p.metadata?.name)).to.include(idle2?.name);
    sessions.byEndpoint.set(idle2?.endpoint ?? '', 0);
    await eventually(async () => {
      const pods = await live('idle');
      return pods.length === 1 && pods[0]?.metadata?.name === busy?.name ? true : undefined;
    }, 20_000, () => describePool('idle'));
  });

  it('keeps minIdle idle browsers on top of the busy ones, counts the servers\' queued callers, never drains a busy one, and falls back to minIdle', async () => {
    demand.queuedNow = 0;
    await pools.create('demand', { replicas: 2, autoscaling: { minReplicas: 0, maxReplicas: 6, minIdle: 2, targetSessionsPerBrowser: 2, scaleDownStabilizationWindowSeconds: 0 } });
    const idle = await eventually(async () => {
      const p = await pools.get('demand');
      return p?.status?.readyReplicas === 2 && (await live('demand')).length === 2 ? p : undefined;
    }, 30_000, () => describePool('demand'));
    // Three callers queue: two browsers' worth of demand on top of the two idle ones.
    demand.queuedNow = 3;
    await eventually(async () => (await pools.get('demand'))?.status?.readyReplicas === 4 || undefined, 30_000, () => describePool('demand'));
    // Two of them are served on one browser. The leases are seen first (the status shows them), and only then does
    // the queue empty, so no reconcile can see the queue gone without the leases.
    const busy = idle.status!.browsers![0]!;
    sessions.byEndpoint.set(busy.endpoint, 2);
    await eventually(async () => (await pools.get('demand'))?.status?.browsers?.find((b) => b.name === busy.name)?.sessions === 2 || undefined,
      30_000, () => describePool('demand'));
    demand.queuedNow = 0;
    // One busy browser plus two idle ones; the busy one is never drained.
    await eventually(async () => (await live('demand')).length === 3 || undefined, 30_000, () => describePool('demand'));
    expect((await pools.get('demand'))?.status?.browsers?.find((b) => b.name === busy.name)).to.include({ state: 'Ready', sessions: 2 });
    const drained = (await pools.events()).filter((e) => e.reason === 'DrainingBrowser' && e.message.includes(busy.name));
    expect(drained, JSON.stringify(drained)).to.deep.equal([]);
    // Quiet again: back to the two idle browsers, the busy one kept until its leases end.
    sessions.byEndpoint.set(busy.endpoint, 0);
    await eventually(async () => (await live('demand')).length === 2 || undefined, 30_000, () => describePool('demand'));
  });

  it('returns a busy browser drained for scale-down to Ready when demand needs it again, instead of starting a new pod', async () => {
    demand.queuedNow = 0;
    await pools.create('back', { replicas: 3, autoscaling: { minReplicas: 3, maxReplicas: 6, minIdle: 0, targetSessionsPerBrowser: 2, scaleDownStabilizationWindowSeconds: 0 } });
    const started = await eventually(async () => {
      const p = await pools.get('back');
      return p?.status?.readyReplicas === 3 && (await live('back')).length === 3 ? p : undefined;
    }, 30_000, () => describePool('back'));
    const original = (started.status?.browsers ?? []).map((b) => b.name).toSorted();
    // One lease on each browser, seen by the operator.
    for (const b of started.status?.browsers ?? []) sessions.byEndpoint.set(b.endpoint, 1);
    await eventually(async () => (await pools.get('back'))?.status?.browsers?.every((b) => b.sessions === 1) || undefined, 30_000, () => describePool('back'));
    // The floor drops: 3 leases need ceil(3 / 2) = 2 browsers, so one busy browser drains (and waits for its lease).
    await pools.patchSpec('back', { autoscaling: { minReplicas: 1 } });
    const drainingPool = await eventually(async () => {
      const p = await pools.get('back');
      return p?.status?.browsers?.some((b) => b.state === 'Draining') ? p : undefined;
    }, 30_000, () => describePool('back'));
    const draining = drainingPool.status!.browsers!.find((b) => b.state === 'Draining')!;
    expect(draining.sessions).to.equal(1);
    // Demand comes back: two callers queue, 3 + 2 = 5 sessions need 3 browsers. The draining one returns.
    demand.queuedNow = 2;
    await eventually(async () => {
      const p = await pools.get('back');
      return p?.status?.browsers?.find((b) => b.name === draining.name)?.state === 'Ready' && p.status.readyReplicas === 3 ? true : undefined;
    }, 30_000, () => describePool('back'));
    // A couple of reconciles later still the same three pods: nothing was created for the demand.
    await new Promise((r) => setTimeout(r, 2500));
    expect((await live('back')).map((p) => p.metadata?.name).toSorted()).to.deep.equal(original);
    const pod = (await live('back')).find((p) => p.metadata?.name === draining.name);
    expect(pod?.metadata?.annotations?.['browser.composer-mcp.io/draining-since']).to.equal(undefined);
    const events = await pools.events();
    expect(events.some((e) => e.reason === 'ReturnedBrowser' && e.message.includes(draining.name)), JSON.stringify(events)).to.equal(true);
    const created = events.filter((e) => e.reason === 'CreatedBrowser' && e.message.includes('pod back-')).map((e) => e.message.slice(e.message.lastIndexOf(' ') + 1));
    expect(created.toSorted(), 'pods ever created for the pool').to.deep.equal(original);
    demand.queuedNow = 0;
  });

  it('scales to zero with minReplicas 0 and minIdle 0, and the first queued caller starts a browser (cold start)', async () => {
    demand.queuedNow = 0;
    await pools.create('zero', { replicas: 0, autoscaling: { minReplicas: 0, maxReplicas: 3, minIdle: 0, targetSessionsPerBrowser: 1, scaleDownStabilizationWindowSeconds: 0 } });
    await eventually(async () => (await pools.get('zero'))?.status?.observedGeneration === 1 || undefined, 30_000, () => describePool('zero'));
    await new Promise((r) => setTimeout(r, 1500));
    expect(await live('zero')).to.have.length(0);
    const queuedAt = Date.now();
    demand.queuedNow = 1;
    await eventually(async () => (await pools.get('zero'))?.status?.readyReplicas === 1 || undefined, 30_000, () => describePool('zero'));
    console.log(`      cold start (browserless pod runner): ${Date.now() - queuedAt} ms from the first queued caller to a Ready browser`);
    demand.queuedNow = 0;
    await eventually(async () => (await live('zero')).length === 0 || undefined, 30_000, () => describePool('zero'));
  });

  it('autoscales between min and max by leased sessions per browser', async () => {
    await pools.create('auto', { replicas: 1, autoscaling: { minReplicas: 1, maxReplicas: 4, targetSessionsPerBrowser: 2, scaleDownStabilizationWindowSeconds: 0 } });
    const first = await eventually(async () => {
      const p = await pools.get('auto');
      return p?.status?.readyReplicas === 1 ? p : undefined;
    }, 30_000, () => describePool('auto'));
    const endpoint = first.status?.browsers?.[0]?.endpoint ?? '';
    sessions.byEndpoint.set(endpoint, 7);
    await eventually(async () => (await pools.get('auto'))?.status?.readyReplicas === 4 || undefined, 30_000, () => describePool('auto'));
    // kubectl shows what the operator steers towards (4), not spec.replicas (1).
    const printed = await kubectl(['get', 'bp', 'auto', '-n', ns.name], process.env['KUBECONFIG'] ?? '');
    expect(printed.code, printed.stderr).to.equal(0);
    const [header, row] = printed.stdout.trim().split('\n').map((line) => line.trim().split(/\s+/));
    expect(header?.slice(0, 5)).to.deep.equal(['NAME', 'DESIRED', 'CURRENT', 'READY', 'STATUS']);
    expect(row?.slice(0, 5)).to.deep.equal(['auto', '4', '4', '4', 'AllBrowsersReady']);
    expect((await pools.get('auto'))?.spec.replicas).to.equal(1);
    sessions.byEndpoint.set(endpoint, 30);
    await new Promise((r) => setTimeout(r, 2000));
    expect(await live('auto')).to.have.length(4);
    sessions.byEndpoint.set(endpoint, 0);
    await eventually(async () => (await live('auto')).length === 1 || undefined, 30_000, () => describePool('auto'));
  });

  it('drains and replaces a browser that stays unready past unhealthyAfterSeconds', async () => {
    await pools.create('sick', { replicas: 2, recycle: { maxAgeSeconds: 3600, drainTimeoutSeconds: 5, unhealthyAfterSeconds: 2 } });
    const pool = await eventually(async () => {
      const p = await pools.get('sick');
      return p?.status?.readyReplicas === 2 ? p : undefined;
    }, 30_000, () => describePool('sick'));
    const victim = pool.status?.browsers?.[0]?.name ?? '';
    runner.setReady(ns.name, victim, false);
    await eventually(async () => {
      const p = await pools.get('sick');
      const names = p?.status?.browsers?.map((b) => b.name) ?? [];
      return !names.includes(victim) && p?.status?.readyReplicas === 2 && condition(p, 'Degraded')?.status === 'False' ? true : undefined;
    }, 30_000, () => describePool('sick'));
    const events = await pools.events();
    expect(events.some((e) => e.reason === 'DrainingBrowser' && e.message.includes(victim) && e.message.includes('Unhealthy')), JSON.stringify(events)).to.equal(true);
  });
});
