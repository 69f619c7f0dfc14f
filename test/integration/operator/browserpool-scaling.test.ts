import { expect } from 'chai';
import { CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import { BROWSERPOOL_GROUP, BROWSERPOOL_PLURAL, BROWSERPOOL_VERSION } from '#kube/api/v1alpha1/browserpool.ts';
import type { SessionReader } from '#operator/controllers/browserpool/session-reader.ts';
import { startPodRunner, type PodRunner } from '#support/pod-runner/pod-runner.ts';
import {
  Pools, condition, createNamespace, ensureCrd, eventually, kubeConfig, startTestOperator, testLogger, type TestOperator,
} from './helpers.ts';

/** Sessions per endpoint, set by the test (stands in for the gateways' /status in browserless mode). */
class FakeSessions implements SessionReader {
  readonly byEndpoint = new Map<string, number>();
  async read(endpoint: string): Promise<number | undefined> {
    return this.byEndpoint.get(endpoint) ?? 0;
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

  before(async () => {
    kc = kubeConfig();
    await ensureCrd(kc);
    ns = await createNamespace(kc, 'bp-scale');
    runner = await startPodRunner({ kubeconfigPath: process.env['KUBECONFIG'] ?? '', browserless: true, logger: testLogger('pod-runner') });
    operator = await startTestOperator(kc, { namespace: ns.name, sessions, planOptions: { minDrainSeconds: 0.5, sessionPollSeconds: 1 } });
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

  it('autoscales between min and max by observed sessions per browser', async () => {
    await pools.create('auto', { replicas: 1, autoscaling: { minReplicas: 1, maxReplicas: 4, targetSessionsPerBrowser: 2 } });
    const first = await eventually(async () => {
      const p = await pools.get('auto');
      return p?.status?.readyReplicas === 1 ? p : undefined;
    }, 30_000, () => describePool('auto'));
    const endpoint = first.status?.browsers?.[0]?.endpoint ?? '';
    sessions.byEndpoint.set(endpoint, 7);
    await eventually(async () => (await pools.get('auto'))?.status?.readyReplicas === 4 || undefined, 30_000, () => describePool('auto'));
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
