import type { V1ContainerStatus, V1ObjectMeta, V1Pod, V1PodCondition } from '@kubernetes/client-node';

/**
 * What the operator's caches keep of a pod: the informers' transforms (client-go's `SetTransform`). A browser pod
 * as the API server sends it carries its whole spec (containers, probes, volumes, security contexts) and every
 * container's status, several kilobytes the operator never reads; at a thousand pods that is most of the cache.
 * Each view keeps exactly what the operator reads, listed below with its reader; a unit test holds the readers'
 * results the same on the view as on the full pod.
 */

/** Metadata the operator reads: identity, labels (selectors, indexes), annotations (drain, serial, hash), owners, times. */
function metadataView(meta: V1ObjectMeta | undefined): V1ObjectMeta {
  const m = meta ?? {};
  const out: V1ObjectMeta = {};
  if (m.name !== undefined) out.name = m.name;
  if (m.namespace !== undefined) out.namespace = m.namespace;
  if (m.uid !== undefined) out.uid = m.uid;
  if (m.resourceVersion !== undefined) out.resourceVersion = m.resourceVersion;
  if (m.creationTimestamp !== undefined) out.creationTimestamp = m.creationTimestamp;
  if (m.deletionTimestamp !== undefined && m.deletionTimestamp !== null) out.deletionTimestamp = m.deletionTimestamp;
  if (m.labels) out.labels = m.labels;
  if (m.annotations) out.annotations = m.annotations;
  if (m.ownerReferences) out.ownerReferences = m.ownerReferences;
  return out;
}

/** The Ready condition only (type, status, since when). */
function readyConditionView(conditions: V1PodCondition[] | undefined): V1PodCondition[] | undefined {
  const ready = conditions?.find((c) => c.type === 'Ready');
  if (!ready) return undefined;
  const out: V1PodCondition = { type: ready.type, status: ready.status };
  if (ready.lastTransitionTime !== undefined) out.lastTransitionTime = ready.lastTransitionTime;
  return [out];
}

/**
 * A browser pod as the BrowserPool controller reads it (observed-browser.ts, pool-keys.ts, the reconciler's label
 * restore and clean-up, the pods informer's indexes): metadata; phase, pod IP, start time, the Ready condition
 * and each container's readiness and restart count. No spec.
 */
export function browserPodView(pod: V1Pod): V1Pod {
  const status = pod.status ?? {};
  const view: V1Pod = { metadata: metadataView(pod.metadata) };
  if (pod.apiVersion) view.apiVersion = pod.apiVersion;
  if (pod.kind) view.kind = pod.kind;
  const s: NonNullable<V1Pod['status']> = {};
  if (status.phase !== undefined) s.phase = status.phase;
  if (status.podIP !== undefined) s.podIP = status.podIP;
  if (status.startTime !== undefined) s.startTime = status.startTime;
  const conditions = readyConditionView(status.conditions);
  if (conditions) s.conditions = conditions;
  if (status.containerStatuses) {
    // Only what tells whether a container ever started; image and state are left out (the cast says so).
    s.containerStatuses = status.containerStatuses.map((c) => ({ name: c.name, ready: c.ready, restartCount: c.restartCount }) as V1ContainerStatus);
  }
  view.status = s;
  return view;
}

/**
 * A composer-mcp server pod as the demand reader reads it (demand-reader.ts: its labels for the pool's client
 * selector, its IP, readiness and deletion, the port named `http`): metadata; the containers' named ports only;
 * pod IP and the Ready condition.
 */
export function serverPodView(pod: V1Pod): V1Pod {
  const view: V1Pod = { metadata: metadataView(pod.metadata) };
  if (pod.apiVersion) view.apiVersion = pod.apiVersion;
  if (pod.kind) view.kind = pod.kind;
  view.spec = {
    containers: (pod.spec?.containers ?? []).map((c) => ({
      name: c.name,
      ...(c.ports ? { ports: c.ports.filter((p) => p.name !== undefined).map((p) => ({ name: p.name, containerPort: p.containerPort })) } : {}),
    })),
  };
  const s: NonNullable<V1Pod['status']> = {};
  if (pod.status?.podIP !== undefined) s.podIP = pod.status.podIP;
  const conditions = readyConditionView(pod.status?.conditions);
  if (conditions) s.conditions = conditions;
  view.status = s;
  return view;
}
