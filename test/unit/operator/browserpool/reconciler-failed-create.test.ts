import { expect } from 'chai';
import { ApiException, type KubernetesObject, type V1Secret } from '@kubernetes/client-node';
import { createLogger } from '#common/logger.ts';
import type { BrowserPool, BrowserPoolStatus } from '#kube/api/v1alpha1/browserpool.ts';
import { FakeClock } from '#support/fake-clock.ts';
import { BrowserPoolReconciler } from '#operator/controllers/browserpool/reconciler.ts';
import type { KubeWriter } from '#operator/controllers/browserpool/kube-writer.ts';

const forbidden = (): ApiException<string> => new ApiException(403, 'Forbidden',
  '{"kind":"Status","code":403,"reason":"Forbidden","message":"unable to create new content in namespace team-a because it is being terminated"}', {});

/** A writer on an API server that refuses new pods (as in a namespace being terminated) and records writes. */
function refusingWriter(pool: BrowserPool) {
  const podAttempts: string[] = [];
  const statusWrites: BrowserPoolStatus[] = [];
  const writer: KubeWriter = {
    async apply<T extends KubernetesObject>(object: T): Promise<T> {
      if (object.kind === 'Pod') {
        podAttempts.push(object.metadata?.name ?? '');
        throw forbidden();
      }
      return object;
    },
    async createSecret(secret: V1Secret) {
      return { ...secret, metadata: { ...secret.metadata, uid: 'uid-secret', creationTimestamp: new Date() } };
    },
    async annotatePod() { return true; },
    async labelPod() { return true; },
    async deletePod() { return true; },
    async deleteObject() { return true; },
    async writeStatus(_pool, status) {
      statusWrites.push(status);
      pool.status = status; // the watch would bring the written status back into the cache
    },
    async event() {},
  };
  return { writer, podAttempts, statusWrites };
}

describe('BrowserPoolReconciler when the API server refuses to create pods', () => {
  it('retries the same pod name and leaves the status alone, so its own status write cannot re-trigger it at once', async () => {
    const pool: BrowserPool = {
      apiVersion: 'browser.composer-mcp.io/v1alpha1', kind: 'BrowserPool',
      metadata: { name: 'pool', namespace: 'team-a', uid: 'uid-pool', generation: 1 },
      // As a user writes it: the reconciler fills in the defaults.
      spec: { replicas: 1 } as BrowserPool['spec'],
    };
    const { writer, podAttempts, statusWrites } = refusingWriter(pool);
    const reconciler = new BrowserPoolReconciler({
      caches: {
        getPool: (key) => (key === 'team-a/pool' ? pool : undefined),
        listPools: () => [pool],
        podsOwnedBy: () => [],
        podsLabelled: () => [],
        getSecret: () => undefined,
        getNetworkPolicy: () => undefined,
      },
      writer,
      sessions: { read: async () => undefined },
      logger: createLogger({ component: 'test', level: 'error' }),
      clock: new FakeClock(),
    });
    for (let i = 0; i < 3; i++) {
      const error = await reconciler.reconcile('team-a/pool').then(() => undefined, (err: unknown) => err);
      expect((error as ApiException<string>).code).to.equal(403);
    }
    expect(podAttempts.length).to.equal(3);
    expect(new Set(podAttempts).size, `pod names tried: ${podAttempts.join(', ')}`).to.equal(1);
    expect(statusWrites.length).to.equal(1);
    const degraded = statusWrites[0]?.conditions?.find((c) => c.type === 'Degraded');
    expect(degraded).to.include({ status: 'True', reason: 'ReconcileError' });
    expect(degraded?.message).to.match(/being terminated/);
  });
});
