import {
  CoreV1Api, CustomObjectsApi, KubernetesObjectApi, PatchStrategy, setHeaderOptions,
  type KubeConfig, type KubernetesObject, type V1Secret,
} from '@kubernetes/client-node';
import type { BrowserPool, BrowserPoolStatus } from '#kube/api/v1alpha1/browserpool.ts';
import { BROWSERPOOL_GROUP, BROWSERPOOL_PLURAL, BROWSERPOOL_VERSION } from '#kube/api/v1alpha1/browserpool.ts';
import { isAlreadyExists, isConflict, isNotFound } from '#kube/runtime/kube-errors.ts';
import { FIELD_MANAGER } from './names.ts';

/** Event type: Normal or Warning. */
export type EventType = 'Normal' | 'Warning';

/** Every write the BrowserPool reconciler makes; an interface so tests can count and fail writes. */
export interface KubeWriter {
  /** Server-side applies an object the operator owns (pods, NetworkPolicy) with field manager browserpool-operator. */
  apply<T extends KubernetesObject>(object: T): Promise<T>;
  /** Creates a Secret; resolves to the stored one. If it already exists, reads and returns the existing one. */
  createSecret(secret: V1Secret): Promise<V1Secret>;
  /** Sets (merge patch) annotations on a pod. NotFound resolves to false. */
  annotatePod(namespace: string, name: string, annotations: Record<string, string>): Promise<boolean>;
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

/** The real {@link KubeWriter} on the API server of `kubeConfig`. */
export function kubeWriter(kubeConfig: KubeConfig, reportingInstance = 'browserpool-operator'): KubeWriter {
  const objects = KubernetesObjectApi.makeApiClient(kubeConfig);
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const custom = kubeConfig.makeApiClient(CustomObjectsApi);
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
