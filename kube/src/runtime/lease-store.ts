import { CoordinationV1Api, V1MicroTime, type KubeConfig, type V1Lease } from '@kubernetes/client-node';
import { makeApiClient, withRequestSignal } from './api-client.ts';
import { isNotFound } from './kube-errors.ts';
import type { LeaseRecord } from './lease-decisions.ts';

/** A lease record with the resourceVersion it was read at (for optimistic concurrency). */
export interface StoredLease {
  record: LeaseRecord;
  resourceVersion: string;
}

/**
 * Reads and writes one Lease. Writes are conditional: a stale resourceVersion fails with HTTP 409. Every call takes
 * a signal that aborts its request (the elector aborts a request that outlives its timeout).
 */
export interface LeaseStore {
  /** The lease, or undefined if it does not exist. */
  get(signal?: AbortSignal): Promise<StoredLease | undefined>;
  /** Creates the lease; fails with 409 if it already exists. Returns the new resourceVersion. */
  create(record: LeaseRecord, signal?: AbortSignal): Promise<string>;
  /** Replaces the lease if it is still at `resourceVersion`; fails with 409 otherwise. Returns the new version. */
  update(record: LeaseRecord, resourceVersion: string, signal?: AbortSignal): Promise<string>;
  /** Human-readable location for logs (`namespace/name`). */
  readonly description: string;
}

function toMillis(value: unknown): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const ms = value instanceof Date ? value.getTime() : new Date(String(value)).getTime();
  return Number.isNaN(ms) ? undefined : ms;
}

/** Reads the leader-election fields from a Lease (times arrive as strings or Dates). */
export function recordFromLease(lease: V1Lease): LeaseRecord {
  const spec = lease.spec ?? {};
  const record: LeaseRecord = {
    holderIdentity: spec.holderIdentity ?? '',
    leaseDurationSeconds: spec.leaseDurationSeconds ?? 0,
    leaseTransitions: spec.leaseTransitions ?? 0,
  };
  const acquire = toMillis(spec.acquireTime);
  const renew = toMillis(spec.renewTime);
  if (acquire !== undefined) record.acquireTime = acquire;
  if (renew !== undefined) record.renewTime = renew;
  return record;
}

/** Builds a Lease body; times are `V1MicroTime` (six fractional digits), as the API requires. */
export function leaseFromRecord(namespace: string, name: string, record: LeaseRecord, resourceVersion?: string): V1Lease {
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: resourceVersion ? { name, namespace, resourceVersion } : { name, namespace },
    spec: {
      holderIdentity: record.holderIdentity,
      leaseDurationSeconds: record.leaseDurationSeconds,
      leaseTransitions: record.leaseTransitions,
      ...(record.acquireTime !== undefined ? { acquireTime: new V1MicroTime(record.acquireTime) } : {}),
      ...(record.renewTime !== undefined ? { renewTime: new V1MicroTime(record.renewTime) } : {}),
    },
  };
}

/** A {@link LeaseStore} on a `coordination.k8s.io/v1` Lease in the API server of `kubeConfig`. */
export function kubeLeaseStore(kubeConfig: KubeConfig, namespace: string, name: string): LeaseStore {
  const api = makeApiClient(kubeConfig, CoordinationV1Api);
  const signalled = <T>(signal: AbortSignal | undefined, call: () => Promise<T>): Promise<T> => (signal ? withRequestSignal(signal, call) : call());
  return {
    description: `${namespace}/${name}`,
    async get(signal) {
      try {
        const lease = await signalled(signal, () => api.readNamespacedLease({ name, namespace }));
        return { record: recordFromLease(lease), resourceVersion: lease.metadata?.resourceVersion ?? '' };
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    },
    async create(record, signal) {
      const lease = await signalled(signal, () => api.createNamespacedLease({ namespace, body: leaseFromRecord(namespace, name, record) }));
      return lease.metadata?.resourceVersion ?? '';
    },
    async update(record, resourceVersion, signal) {
      const lease = await signalled(signal, () => api.replaceNamespacedLease({
        name,
        namespace,
        body: leaseFromRecord(namespace, name, record, resourceVersion),
      }));
      return lease.metadata?.resourceVersion ?? '';
    },
  };
}
