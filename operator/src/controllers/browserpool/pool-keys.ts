import type { KubernetesObject } from '@kubernetes/client-node';
import { BROWSERPOOL_KIND } from '#kube/api/v1alpha1/browserpool.ts';
import type { InformerEvent } from '#kube/runtime/informer.ts';
import { LABEL_POOL } from '#kube/api/v1alpha1/contract.ts';

/**
 * Key mapping for a pool's children (browser Pods, the token Secret): the `namespace/name` of the BrowserPool
 * that controls the object (its controller owner reference of kind BrowserPool), or, for an object without one,
 * the pool named by its `browser.composer-mcp.io/pool` label. On an update both the new and the old object count,
 * so a child that changes pools wakes both. Pure.
 */
export function poolKeysFor(event: InformerEvent<KubernetesObject>): string[] {
  const objects = event.type === 'update' ? [event.object, event.old] : [event.object];
  const keys = new Set<string>();
  for (const object of objects) {
    const meta = object.metadata;
    if (!meta?.namespace) continue;
    const owner = meta.ownerReferences?.find((ref) => ref.controller && ref.kind === BROWSERPOOL_KIND);
    const pool = owner?.name ?? meta.labels?.[LABEL_POOL];
    if (pool) keys.add(`${meta.namespace}/${pool}`);
  }
  return [...keys];
}
