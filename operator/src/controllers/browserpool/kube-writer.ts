import {
  CoreV1Api, CustomObjectsApi, KubernetesObjectApi, PatchStrategy, setHeaderOptions,
  type KubeConfig, type KubernetesObject, type V1Secret,
} from '@kubernetes/client-node';
import type { BrowserPool, BrowserPoolStatus } from '#kube/api/v1alpha1/browserpool.ts';
import { BROWSERPOOL_GROUP, BROWSERPOOL_PLURAL, BROWSERPOOL_VERSION } from '#kube/api/v1alpha1/browserpool.ts';
import { makeApiClient } from '#kube/runtime/api-client.ts';
import { isAlreadyExists, isConflict, isNotFound } from '#kube/runtime/kube-errors.ts';
import type { WriteFence } from '#kube/runtime/write-fence.ts';
import { FIELD_MANAGER } from './names.ts';

/** Event type: Normal or Warning. */
export type EventType = 'Normal' | 'Warning';

/** Every write the BrowserPool reconciler makes; an interface so tests can count and fail writes. */
export interface KubeWriter {
  /** Server-side applies an object the operator owns (pods, NetworkPolicy, token Secret) with field manager browserpool-operator. */
  apply<T extends KubernetesObject>(object: T): Promise<T>;
  /** Creates a Secret; resolves to the stored one. If it already exists, reads and returns the existing one. */
  createSecret(secret: V1Secret): Promise<V1Secret>;
  /** Sets (merge patch) annotations on a pod; a null value removes one. NotFound resolves to false. */
  annotatePod(namespace: string, name: string, annotations: Record<string, string | null>): Promise<boolean>;
  /** Sets (merge patch) labels on a pod, restoring the pool's labels after an edit. NotFound resolves to false. */
  labelPod(namespace: string, name: string, labels: Record<string, string>): Promise<boolean>;
  /** Deletes a pod if it still has `uid`. NotFound and a changed uid resolve to false. */
  deletePod(namespace: string, name: string, uid: string): Promise<boolean>;
  /** Deletes an object by kind if it exists (used to clean up after a pool that is gone). */
  deleteObject(object: KubernetesObject): Promise<boolean>;
  /** Writes `status` of the pool through the status subresource (server-side apply, forced). */
  writeStatus(pool: BrowserPool, status: BrowserPoolStatus): Promise<void>;
  /** Records a Kubernetes Event on the pool; failures are swallowed (events are best effort). */
  event(pool: BrowserPool, type: EventType, reason: string, message: string): Promise<void>;
}

const ssa = setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply);
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/**
 * The real {@link KubeWriter} on the API server of `kubeConfig`. Its requests honour the signal a {@link WriteFence}
 * gives each write (aborted at the write timeout).
 */
export function kubeWriter(kubeConfig: KubeConfig, reportingInstance = 'browserpool-operator'): KubeWriter {
  const objects = makeApiClient(kubeConfig, KubernetesObjectApi);
  const core = makeApiClient(kubeConfig, CoreV1Api);
  const custom = makeApiClient(kubeConfig, CustomObjectsApi);
  return {
    async apply(object) {
      return objects.patch(object, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
    },
    async createSecret(secret) {
      const namespace = secret.metadata?.namespace ?? 'default';
      try {
        return await core.createNamespacedSecret({ namespace, body: secret, fieldManager: FIELD_MANAGER });
      } catch (err) {
        if (!isAlreadyExists(err)) throw err;
        return core.readNamespacedSecret({ namespace, name: secret.metadata?.name ?? '' });
      }
    },
    async annotatePod(namespace, name, annotations) {
      try {
        await core.patchNamespacedPod({ namespace, name, body: { metadata: { annotations } }, fieldManager: FIELD_MANAGER }, mergePatch);
        return true;
      } catch (err) {
        if (isNotFound(err)) return false;
        throw err;
      }
    },
    async labelPod(namespace, name, labels) {
      try {
        await core.patchNamespacedPod({ namespace, name, body: { metadata: { labels } }, fieldManager: FIELD_MANAGER }, mergePatch);
        return true;
      } catch (err) {
        if (isNotFound(err)) return false;
        throw err;
      }
    },
    async deletePod(namespace, name, uid) {
      try {
        await core.deleteNamespacedPod({ namespace, name, body: { preconditions: { uid } } });
        return true;
      } catch (err) {
        if (isNotFound(err) || isConflict(err)) return false;
        throw err;
      }
    },
    async deleteObject(object) {
      try {
        await objects.delete(object);
        return true;
      } catch (err) {
        if (isNotFound(err)) return false;
        throw err;
      }
    },
    async writeStatus(pool, status) {
      const namespace = pool.metadata.namespace ?? 'default';
      const name = pool.metadata.name ?? '';
      await custom.patchNamespacedCustomObjectStatus({
        group: BROWSERPOOL_GROUP, version: BROWSERPOOL_VERSION, plural: BROWSERPOOL_PLURAL, namespace, name,
        body: { apiVersion: `${BROWSERPOOL_GROUP}/${BROWSERPOOL_VERSION}`, kind: pool.kind ?? 'BrowserPool', metadata: { name, namespace }, status },
        fieldManager: FIELD_MANAGER,
        force: true,
      }, ssa);
    },
    async event(pool, type, reason, message) {
      const namespace = pool.metadata.namespace ?? 'default';
      const now = new Date();
      try {
        await core.createNamespacedEvent({
          namespace,
          body: {
            metadata: { generateName: `${pool.metadata.name ?? 'pool'}.`, namespace },
            involvedObject: {
              apiVersion: pool.apiVersion, kind: pool.kind, name: pool.metadata.name ?? '', namespace,
              uid: pool.metadata.uid ?? '', resourceVersion: pool.metadata.resourceVersion ?? '',
            },
            type, reason, message: message.slice(0, 1024),
            source: { component: FIELD_MANAGER },
            reportingComponent: `${BROWSERPOOL_GROUP}/${FIELD_MANAGER}`,
            reportingInstance,
            firstTimestamp: now, lastTimestamp: now, count: 1,
          },
        });
      } catch {
        // best effort: an event that cannot be written must not fail a reconcile
      }
    },
  };
}

/**
 * `writer` behind a leadership term's fence: every write starts only while the term is on and the Lease surely
 * held (else it throws TermEndedError) and counts as in flight until it settles. Events too: an old leader's
 * Event would mislead as much as its write.
 */
export function fencedWriter(writer: KubeWriter, fence: WriteFence): KubeWriter {
  return {
    apply: (object) => fence.run(`apply of ${object.kind ?? 'object'} ${object.metadata?.name ?? ''}`, () => writer.apply(object)),
    createSecret: (secret) => fence.run(`create of Secret ${secret.metadata?.name ?? ''}`, () => writer.createSecret(secret)),
    annotatePod: (namespace, name, annotations) => fence.run(`annotation of pod ${name}`, () => writer.annotatePod(namespace, name, annotations)),
    labelPod: (namespace, name, labels) => fence.run(`labels of pod ${name}`, () => writer.labelPod(namespace, name, labels)),
    deletePod: (namespace, name, uid) => fence.run(`delete of pod ${name}`, () => writer.deletePod(namespace, name, uid)),
    deleteObject: (object) => fence.run(`delete of ${object.kind ?? 'object'} ${object.metadata?.name ?? ''}`, () => writer.deleteObject(object)),
    writeStatus: (pool, status) => fence.run(`status write of BrowserPool ${pool.metadata.name ?? ''}`, () => writer.writeStatus(pool, status)),
    event: (pool, type, reason, message) => fence.run(`Event ${reason}`, () => writer.event(pool, type, reason, message)),
  };
}
