import type { V1Pod } from '@kubernetes/client-node';
import type { GatewayLoad } from '#common/gateway-status.ts';
import { ANNOTATION_DRAIN_REASON, ANNOTATION_DRAINING_SINCE, ANNOTATION_SERIAL, ANNOTATION_SPEC_HASH } from '#kube/api/v1alpha1/contract.ts';

/** What the planner knows about one browser pod: a flat, clock-free view of the Pod plus its gateway's load. */
export interface ObservedBrowser {
  name: string;
  uid: string;
  /** Slot number the name came from (annotation), when known. */
  serial?: number;
  /** Pod-template hash the pod was created with. */
  specHash?: string;
  createdAt: Date;
  /** When the kubelet started the pod (status.startTime). */
  startedAt?: Date;
  podIP?: string;
  /** Pod phase: Pending, Running, Succeeded, Failed, Unknown. */
  phase: string;
  /** Ready condition True. */
  ready: boolean;
  /** Since when the Ready condition has its current value (creation time when there is none). */
  readySince: Date;
  /** True once the pod has been Ready at least once (some container started, the probe passed). */
  everReady: boolean;
  /** deletionTimestamp is set: the pod is going away; its name stays taken. */
  terminating: boolean;
  /** Time the operator marked it Draining. */
  drainingSince?: Date;
  /** Why it is draining (the annotation the operator wrote), e.g. ScaleDown. */
  drainReason?: string;
  /** Sessions leased on it (its gateway's /status); undefined when not known. */
  sessions?: number;
  /** Leases it has served since it started; undefined when not known. */
  leasesServed?: number;
  /** Resident memory of its browser in bytes; undefined when not known. */
  rssBytes?: number;
}

/** A Date from a Date, an RFC 3339 string or nothing (objects from watches may carry either). */
export function toDate(value: Date | string | undefined | null): Date | undefined {
  if (value === undefined || value === null) return undefined;
  const d = value instanceof Date ? value : new Date(value);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/** Flattens a Pod (and the load its gateway reported) into what the planner needs. */
export function observeBrowser(pod: V1Pod, load?: GatewayLoad): ObservedBrowser {
  const meta = pod.metadata ?? {};
  const annotations = meta.annotations ?? {};
  const createdAt = toDate(meta.creationTimestamp) ?? new Date(0);
  const readyCondition = pod.status?.conditions?.find((c) => c.type === 'Ready');
  const ready = readyCondition?.status === 'True';
  const serialText = annotations[ANNOTATION_SERIAL];
  const serial = serialText !== undefined && /^\d+$/.test(serialText) ? Number(serialText) : undefined;
  const started = (pod.status?.containerStatuses ?? []).some((c) => (c.restartCount ?? 0) > 0 || c.ready);
  const b: ObservedBrowser = {
    name: meta.name ?? '',
    uid: meta.uid ?? '',
    createdAt,
    phase: pod.status?.phase ?? 'Pending',
    ready,
    readySince: toDate(readyCondition?.lastTransitionTime) ?? createdAt,
    everReady: ready || started,
    terminating: meta.deletionTimestamp !== undefined && meta.deletionTimestamp !== null,
  };
  if (serial !== undefined) b.serial = serial;
  const hash = annotations[ANNOTATION_SPEC_HASH];
  if (hash) b.specHash = hash;
  const startedAt = toDate(pod.status?.startTime);
  if (startedAt) b.startedAt = startedAt;
  if (pod.status?.podIP) b.podIP = pod.status.podIP;
  const drainingSince = toDate(annotations[ANNOTATION_DRAINING_SINCE]);
  if (drainingSince) b.drainingSince = drainingSince;
  const drainReason = annotations[ANNOTATION_DRAIN_REASON];
  if (drainReason) b.drainReason = drainReason;
  if (load) {
    b.sessions = load.leased;
    if (load.leasesServed !== undefined) b.leasesServed = load.leasesServed;
    if (load.rssBytes !== undefined) b.rssBytes = load.rssBytes;
  }
  return b;
}
