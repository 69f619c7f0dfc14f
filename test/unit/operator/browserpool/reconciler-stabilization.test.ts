import { expect } from 'chai';
import type { KubernetesObject, V1Pod, V1Secret } from '@kubernetes/client-node';
import { createLogger } from '#common/logger.ts';
import type { BrowserPool, BrowserPoolSpec } from '#kube/api/v1alpha1/browserpool.ts';
import { WriteFence } from '#kube/runtime/write-fence.ts';
import { FakeClock } from '#support/fake-clock.ts';
import { BrowserPoolReconciler, type ReconcileTerm } from '#operator/controllers/browserpool/reconciler.ts';
import type { KubeWriter } from '#operator/controllers/browserpool/kube-writer.ts';
import { desiredPod } from '#operator/controllers/browserpool/desired-pods.ts';
import { validateSpec } from '#operator/controllers/browserpool/validate-spec.ts';

const SPEC = {
  replicas: 1,
  autoscaling: { minReplicas: 1, maxReplicas: 4, minIdle: 0, targetSessionsPerBrowser: 1, scaleDownStabilizationWindowSeconds: 30 },
} as BrowserPoolSpec;

/** A pool of three Ready browsers whose gateways report `leased[i]`, and a writer that records the drains. */
function threeBrowsers() {
  const clock = new FakeClock();
  const pool: BrowserPool = {
    apiVersion: 'browser.composer-mcp.io/v1alpha1', kind: 'BrowserPool',
    metadata: { name: 'pool', namespace: 'ns', uid: 'uid-pool', generation: 1 }, spec: SPEC,
  };
  const resolved = validateSpec('pool', SPEC);
  if (!resolved.ok) throw new Error(resolved.problems.join('; '));
  const ref = { apiVersion: pool.apiVersion, kind: pool.kind, name: 'pool', namespace: 'ns', uid: 'uid-pool' };
  const pods: V1Pod[] = [0, 1, 2].map((serial) => {
    const pod = desiredPod(ref, resolved.spec, serial);
    pod.metadata = { ...pod.metadata, uid: `uid-${serial}`, creationTimestamp: new Date(clock.now() - 100_000) };
    pod.status = {
      phase: 'Running', podIP: `10.0.0.${serial + 2}`,
      conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: new Date(clock.now() - 90_000) }],
      containerStatuses: [{ name: 'browser', ready: true, restartCount: 0, image: 'x', imageID: 'x' }],
    };
    return pod;
  });
  const leased = [0, 0, 0];
  const drained: string[] = [];
  const writer: KubeWriter = {
    async apply<T extends KubernetesObject>(object: T): Promise<T> { return object; },
    async createSecret(secret: V1Secret) { return { ...secret, metadata: { ...secret.metadata, uid: 'uid-secret' } }; },
    async annotatePod(_namespace, name, annotations) {
      if (annotations['browser.composer-mcp.io/draining-since']) drained.push(name);
      return true;
    },
    async labelPod() { return true; },
    async deletePod() { return true; },
    async deleteObject() { return true; },
    async writeStatus(_pool, status) { pool.status = status; },
    async event() {},
  };
  const reconciler = new BrowserPoolReconciler({
    caches: {
      getPool: () => pool, listPools: () => [pool], podsOwnedBy: () => pods, podsLabelled: () => pods,
      getSecret: () => undefined, getNetworkPolicy: () => undefined,
    },
    writer,
    sessions: { read: async (endpoint) => ({ leased: leased[Number(/10\.0\.0\.(\d+)/.exec(endpoint)?.[1]) - 2] ?? 0 }) },
    demand: { queued: async () => 0 },
    logger: createLogger({ component: 'test', level: 'error' }),
    clock,
    sessionTtlMs: 0,
  });
  const term = (): ReconcileTerm => {
    const fence = new WriteFence({ signal: new AbortController().signal, clock });
    return { signal: fence.signal, fence };
  };
  return { clock, pool, leased, drained, reconcile: (t: ReconcileTerm) => reconciler.reconcile('ns/pool', t), term };
}

describe('BrowserPoolReconciler: scale-down stabilisation across reconciles and leadership terms', () => {
  it('remembers the window\'s recommendations between reconciles: no drain until the high one has left it', async () => {
    const { clock, pool, leased, drained, reconcile, term } = threeBrowsers();
    const t = term();
    leased.splice(0, 3, 1, 1, 1);
    await reconcile(t);
    expect(pool.status?.desiredReplicas).to.equal(3);
    leased.splice(0, 3, 1, 0, 0);
    for (let i = 0; i < 6; i++) {
      clock.advance(5000);
      await reconcile(t);
    }
    expect(drained, 'within the 30 s window').to.deep.equal([]);
    expect(pool.status?.desiredReplicas).to.equal(3);
    clock.advance(1000);
    await reconcile(t);
    expect(drained, 'the window has passed: down to what demand asks (1 busy browser)').to.have.length(2);
    expect(pool.status?.desiredReplicas).to.equal(1);
  });

  it('starts a new term from the count last written, so a hand-over does not shrink the pool before a window has passed', async () => {
    const { clock, pool, leased, drained, reconcile, term } = threeBrowsers();
    leased.splice(0, 3, 1, 1, 1);
    await reconcile(term());
    expect(pool.status?.desiredReplicas).to.equal(3);
    leased.splice(0, 3, 1, 0, 0);
    const next = term();
    clock.advance(1000);
    await reconcile(next);
    expect(drained, 'the new leader never saw the old one\'s recommendations').to.deep.equal([]);
    clock.advance(29_000);
    await reconcile(next);
    expect(drained, 'still inside the window the new term started').to.deep.equal([]);
    clock.advance(2000);
    await reconcile(next);
    expect(drained).to.have.length(2);
  });
});
