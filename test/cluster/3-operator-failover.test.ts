import { expect } from 'chai';
import type { V1Pod } from '@kubernetes/client-node';
import { clusterTier } from '#support/cluster/shared.ts';
import { apis, componentPods, describePool, eventually, getPool, poolPods, poolSettled } from './cluster-kit.ts';

const SERIAL = 'browser.composer-mcp.io/serial';

/** Live pods of the pool, each checked for an owner reference to the pool itself (no orphans). */
async function livePods(poolUid: string): Promise<V1Pod[]> {
  const pods = (await poolPods()).filter((p) => !p.metadata?.deletionTimestamp);
  for (const p of pods) {
    const owner = p.metadata?.ownerReferences?.find((o) => o.controller);
    expect(owner?.uid, `pod ${p.metadata?.name} is owned by the pool`).to.equal(poolUid);
  }
  return pods;
}

async function patchReplicas(replicas: number): Promise<void> {
  const tier = clusterTier();
  await apis().custom.patchNamespacedCustomObject({
    group: 'browser.composer-mcp.io', version: 'v1alpha1', plural: 'browserpools', namespace: tier.settings.namespace, name: 'default',
    body: [{ op: 'replace', path: '/spec/replicas', value: replicas }],
  });
}

describe('cluster tier: the operator leader pod deleted', function () {
  this.timeout(240_000);

  after(async () => {
    await patchReplicas(2).catch(() => undefined);
    await eventually(() => poolSettled('default', 2), 120_000, () => describePool()).catch(() => undefined);
  });

  it('another operator pod takes over the Lease within a lease duration and the pool converges with no duplicate and no orphan pod', async () => {
    const tier = clusterTier();
    const leaseName = `${tier.settings.release}-composer-mcp-operator`;
    const lease = async () => apis().coordination.readNamespacedLease({ name: leaseName, namespace: tier.settings.namespace });
    await eventually(() => poolSettled('default', 2), 120_000, () => describePool());
    const poolUid = (await getPool()).metadata.uid;
    const before = await livePods(poolUid);
    const leader = (await lease()).spec?.holderIdentity ?? '';
    const operators = (await componentPods('operator')).filter((p) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp);
    expect(operators.map((p) => p.metadata?.name), 'the Lease holder is one of the two operator pods').to.include(leader);
    const standby = operators.find((p) => p.metadata?.name !== leader)?.metadata?.name ?? '';
    expect(standby, 'a standby operator pod').to.not.equal('');

    const deletedAt = Date.now();
    await apis().core.deleteNamespacedPod({ name: leader, namespace: tier.settings.namespace });
    const taken = await eventually(async () => {
      const holder = (await lease()).spec?.holderIdentity;
      return holder && holder !== leader ? holder : undefined;
    }, 60_000, async () => JSON.stringify((await lease()).spec));
    const tookMs = Date.now() - deletedAt;
    // The leader releases its Lease on SIGTERM; the standby retries every retryPeriodSeconds (2 s) and the
    // Deployment's replacement pod starts meanwhile, so either may win: what matters is that a live operator pod
    // other than the deleted one leads, well within one lease duration (15 s).
    const candidates = (await componentPods('operator')).filter((p) => !p.metadata?.deletionTimestamp).map((p) => p.metadata?.name);
    expect(candidates, 'the new leader is a live operator pod').to.include(taken);
    expect(tookMs, 'hand-over time').to.be.below(15_000);
    process.stdout.write(`      operator leader ${leader} deleted: ${taken === standby ? 'the standby' : 'the replacement pod'} ${taken} leads after ${(tookMs / 1000).toFixed(1)} s\n`);

    // The new leader keeps the running browsers (same pods) ...
    const kept = await livePods(poolUid);
    expect(kept.map((p) => p.metadata?.uid).toSorted()).to.deep.equal(before.map((p) => p.metadata?.uid).toSorted());
    // ... and reconciles: scale to 3 and back to 2, with one pod per serial at every observation.
    await patchReplicas(3);
    await eventually(async () => {
      const pods = await livePods(poolUid);
      const serials = pods.map((p) => p.metadata?.annotations?.[SERIAL]);
      expect(new Set(serials).size, `no duplicate serials: ${JSON.stringify(serials)}`).to.equal(serials.length);
      expect(pods.length, 'never more pods than desired').to.be.at.most(3);
      return poolSettled('default', 3);
    }, 120_000, () => describePool());
    await patchReplicas(2);
    await eventually(async () => {
      const pods = await livePods(poolUid);
      expect(pods.length).to.be.at.most(3);
      return poolSettled('default', 2);
    }, 120_000, () => describePool());
    // No pod of this pool is left without its owner anywhere in the namespace.
    const all = await apis().core.listNamespacedPod({ namespace: tier.settings.namespace, labelSelector: 'browser.composer-mcp.io/pool' });
    const orphans = all.items.filter((p) => !p.metadata?.ownerReferences?.some((o) => o.uid === poolUid) && !p.metadata?.deletionTimestamp);
    expect(orphans.map((p) => p.metadata?.name), 'orphan browser pods').to.deep.equal([]);
  });
});
