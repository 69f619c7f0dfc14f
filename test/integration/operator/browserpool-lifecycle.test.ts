import { expect } from 'chai';
import type { KubeConfig } from '@kubernetes/client-node';
import { startPodRunner, type PodRunner } from '#support/pod-runner/pod-runner.ts';
import { podName } from '#operator/controllers/browserpool/names.ts';
import {
  Pools, condition, createNamespace, ensureCrd, eventually, kubeConfig, startTestOperator, testLogger, type TestOperator,
} from './helpers.ts';

describe('BrowserPool operator against a real API server (browserless pod runner)', function () {
  this.timeout(120_000);
  let kc: KubeConfig;
  let ns: { name: string; remove: () => Promise<void> };
  let runner: PodRunner;
  let operator: TestOperator;
  let pools: Pools;

  before(async () => {
    kc = kubeConfig();
    await ensureCrd(kc);
    ns = await createNamespace(kc, 'bp-life');
    runner = await startPodRunner({ kubeconfigPath: process.env['KUBECONFIG'] ?? '', browserless: true, logger: testLogger('pod-runner') });
    operator = await startTestOperator(kc, { namespace: ns.name });
    pools = new Pools(kc, ns.name);
  });

  after(async () => {
    await operator?.stop();
    await runner?.stop();
    await ns?.remove();
  });

  const describePool = async (name: string): Promise<string> => JSON.stringify({
    status: (await pools.get(name))?.status,
    pods: (await pools.pods(name)).map((p) => [p.metadata?.name, p.status?.phase, p.metadata?.deletionTimestamp ? 'deleting' : '', p.metadata?.annotations?.['browser.composer-mcp.io/draining-since'] ?? '']),
  });

  it('creates a pool: token Secret, NetworkPolicy, pods with owner references, and a Ready status at generation 1', async () => {
    const created = await pools.create('life', { replicas: 2, recycle: { maxAgeSeconds: 3600, drainTimeoutSeconds: 1, unhealthyAfterSeconds: 60 } });
    const pool = await eventually(async () => {
      const p = await pools.get('life');
      return condition(p, 'Ready')?.status === 'True' && p?.status?.readyReplicas === 2 ? p : undefined;
    }, 30_000, () => describePool('life'));
    expect(pool.status?.observedGeneration).to.equal(1);
    expect(pool.status?.replicas).to.equal(2);
    expect(pool.status?.selector).to.equal('app.kubernetes.io/name=composer-mcp-browser,browser.composer-mcp.io/pool=life');
    for (const type of ['Ready', 'Available', 'Progressing', 'Degraded']) expect(condition(pool, type)?.observedGeneration, type).to.equal(1);
    expect(condition(pool, 'Available')?.status).to.equal('True');
    expect(condition(pool, 'Degraded')?.status).to.equal('False');
    expect(pool.status?.browsers?.map((b) => b.state)).to.deep.equal(['Ready', 'Ready']);
    for (const b of pool.status?.browsers ?? []) expect(b.endpoint).to.match(/^http:\/\/127\.77\.\d+\.\d+:9222$/);
    const pods = await pools.pods('life');
    expect(pods.map((p) => p.metadata?.name).toSorted()).to.deep.equal([podName('life', created.metadata.uid ?? '', 0), podName('life', created.metadata.uid ?? '', 1)].toSorted());
    for (const p of pods) {
      expect(p.metadata?.ownerReferences?.[0]).to.include({ kind: 'BrowserPool', name: 'life', uid: created.metadata.uid, controller: true });
      expect(p.metadata?.managedFields?.some((f) => f.manager === 'browserpool-operator' && f.operation === 'Apply')).to.equal(true);
    }
    const events = await eventually(async () => {
      const e = await pools.events();
      return e.filter((x) => x.reason === 'CreatedBrowser').length >= 2 ? e : undefined;
    }, 10_000);
    expect(events.some((e) => e.reason === 'CreatedBrowser')).to.equal(true);
    await eventually(() => condition(pool, 'Progressing')?.status === 'False' || undefined, 1);
  });

  it('scales up: status shows 4 Ready browsers and the scale is visible through the scale subresource fields', async () => {
    const patched = await pools.patchSpec('life', { replicas: 4 });
    const pool = await eventually(async () => {
      const p = await pools.get('life');
      return p?.status?.readyReplicas === 4 && p.status.observedGeneration === patched.metadata.generation && condition(p, 'Ready')?.status === 'True' ? p : undefined;
    }, 30_000, () => describePool('life'));
    expect(pool.status?.browsers).to.have.length(4);
    expect(await pools.pods('life')).to.have.length(4);
  });

  it('scales down: drains then deletes the surplus, keeping exactly replicas browsers', async () => {
    const patched = await pools.patchSpec('life', { replicas: 1 });
    const pool = await eventually(async () => {
      const p = await pools.get('life');
      const pods = await pools.pods('life');
      return pods.length === 1 && p?.status?.browsers?.length === 1 && p.status.observedGeneration === patched.metadata.generation && condition(p, 'Progressing')?.status === 'False' ? p : undefined;
    }, 30_000, () => describePool('life'));
    expect(pool.status?.readyReplicas).to.equal(1);
    expect(condition(pool, 'Ready')?.status).to.equal('True');
    const events = await pools.events();
    expect(events.filter((e) => e.reason === 'DrainingBrowser').length).to.be.at.least(3);
    expect(events.filter((e) => e.reason === 'DeletedBrowser').length).to.be.at.least(3);
  });

  it('reports an invalid spec as Degraded InvalidSpec without touching the browsers, and recovers on a valid spec', async () => {
    const before = (await pools.pods('life')).map((p) => p.metadata?.uid);
    // Requests above limits: the API server's schema and CEL rules cannot compare quantities, the operator can.
    const bad = await pools.patchSpec('life', { browser: { image: 'ghcr.io/composer-mcp/chromium:0.1.0', resources: { requests: { memory: '2Gi' }, limits: { memory: '1Gi' } } } });
    const pool = await eventually(async () => {
      const p = await pools.get('life');
      return condition(p, 'Degraded')?.reason === 'InvalidSpec' && p?.status?.observedGeneration === bad.metadata.generation ? p : undefined;
    }, 20_000, () => describePool('life'));
    expect(condition(pool, 'Degraded')?.message).to.match(/spec\.browser\.resources\.requests\.memory \(2Gi\) is greater than spec\.browser\.resources\.limits\.memory \(1Gi\)/);
    expect(condition(pool, 'Ready')?.status).to.equal('False');
    // The Event is written after the status: wait for it, then make sure no second one follows.
    const invalidEvents = async () => (await pools.events()).filter((e) => e.reason === 'InvalidSpec');
    await eventually(async () => (await invalidEvents()).length > 0 || undefined, 10_000, () => 'no InvalidSpec Event');
    // No hot loop: the status is not rewritten while nothing changes.
    const rv = pool.metadata.resourceVersion;
    await new Promise((r) => setTimeout(r, 2000));
    expect((await pools.get('life'))?.metadata.resourceVersion).to.equal(rv);
    expect(await invalidEvents()).to.have.length(1);
    expect((await pools.pods('life')).map((p) => p.metadata?.uid)).to.deep.equal(before);
    const good = await pools.patchSpec('life', { browser: { image: 'ghcr.io/composer-mcp/chromium:0.1.0', resources: { requests: { memory: '512Mi' }, limits: { memory: '1Gi' } } } });
    await eventually(async () => {
      const p = await pools.get('life');
      return condition(p, 'Degraded')?.status === 'False' && p?.status?.observedGeneration === good.metadata.generation ? p : undefined;
    }, 20_000, () => describePool('life'));
  });

  it('deletes a pool: its pods go with it', async () => {
    await pools.delete('life');
    await eventually(async () => (await pools.pods('life')).length === 0, 30_000, () => describePool('life'));
    expect(runner.running().size).to.equal(0);
  });
});
