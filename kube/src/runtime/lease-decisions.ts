/** The leader-election fields of a `coordination.k8s.io/v1` Lease, times in epoch milliseconds. */
export interface LeaseRecord {
  /** Current holder; '' when released or never held. */
  holderIdentity: string;
  leaseDurationSeconds: number;
  acquireTime?: number;
  renewTime?: number;
  leaseTransitions: number;
}

/** A lease record as this candidate last saw it, and when (by its own clock) it last saw it change. */
export interface LeaseObservation {
  record: LeaseRecord;
  observedAt: number;
}

/** What a candidate should do about the lease right now. */
export type LeaseDecision =
  | { action: 'create' }
  | { action: 'acquire'; reason: 'free' | 'expired' }
  | { action: 'renew' }
  | { action: 'wait'; holder: string; expiresAt: number };

/** Timings of leader election, in milliseconds. */
export interface LeaderElectionTimings {
  /** How long a lease stays valid without renewal (others wait this long before taking it). Default 15 s. */
  leaseDurationMs: number;
  /** How long the leader keeps trying to renew before it steps down. Default 10 s. */
  renewDeadlineMs: number;
  /** How often to try to acquire or renew. Default 2 s. */
  retryPeriodMs: number;
}

/** client-go's defaults: 15 s lease, 10 s renew deadline, 2 s retry period. */
export const DEFAULT_LEADER_ELECTION_TIMINGS: LeaderElectionTimings = {
  leaseDurationMs: 15_000,
  renewDeadlineMs: 10_000,
  retryPeriodMs: 2_000,
};

/** Retry jitter factor (client-go's): the renew deadline must leave room for a jittered retry. */
export const RETRY_JITTER = 1.2;

/**
 * Checks timings are coherent (lease > renew deadline > 1.2 × retry period > 0, lease a whole number of
 * seconds ≥ 1); throws a RangeError naming what to change.
 */
export function validateTimings(t: LeaderElectionTimings): void {
  if (!(t.retryPeriodMs > 0)) throw new RangeError(`retryPeriodMs must be > 0 (got ${t.retryPeriodMs})`);
  if (!(t.renewDeadlineMs > RETRY_JITTER * t.retryPeriodMs)) {
    throw new RangeError(`renewDeadlineMs (${t.renewDeadlineMs}) must exceed ${RETRY_JITTER} × retryPeriodMs (${t.retryPeriodMs})`);
  }
  if (!(t.leaseDurationMs > t.renewDeadlineMs)) {
    throw new RangeError(`leaseDurationMs (${t.leaseDurationMs}) must exceed renewDeadlineMs (${t.renewDeadlineMs})`);
  }
  if (t.leaseDurationMs < 1000) throw new RangeError(`leaseDurationMs must be at least 1000 (got ${t.leaseDurationMs})`);
}

function sameRecord(a: LeaseRecord, b: LeaseRecord): boolean {
  return (
    a.holderIdentity === b.holderIdentity &&
    a.leaseDurationSeconds === b.leaseDurationSeconds &&
    a.renewTime === b.renewTime &&
    a.acquireTime === b.acquireTime &&
    a.leaseTransitions === b.leaseTransitions
  );
}

/**
 * Folds a freshly read record into the previous observation. Expiry is judged by when *this* candidate saw
 * the record last change, not by the timestamps in it, so clock skew between machines cannot cause a
 * takeover (client-go's rule).
 */
export function observe(previous: LeaseObservation | undefined, record: LeaseRecord, now: number): LeaseObservation {
  if (previous && sameRecord(previous.record, record)) return previous;
  return { record, observedAt: now };
}

/** When the observed lease lapses if its holder does not renew it. */
export function expiresAt(observation: LeaseObservation): number {
  return observation.observedAt + observation.record.leaseDurationSeconds * 1000;
}

/** Decides create / acquire / renew / wait for `identity` given the observed lease (undefined: no Lease exists). */
export function decideLease(observation: LeaseObservation | undefined, identity: string, now: number): LeaseDecision {
  if (!observation) return { action: 'create' };
  const { record } = observation;
  if (record.holderIdentity === identity) return { action: 'renew' };
  if (record.holderIdentity === '') return { action: 'acquire', reason: 'free' };
  const expiry = expiresAt(observation);
  if (expiry <= now) return { action: 'acquire', reason: 'expired' };
  return { action: 'wait', holder: record.holderIdentity, expiresAt: expiry };
}

/** The record to write for a create/acquire/renew decision. */
export function nextRecord(
  current: LeaseRecord | undefined,
  identity: string,
  now: number,
  leaseDurationSeconds: number,
): LeaseRecord {
  if (current && current.holderIdentity === identity) {
    return { ...current, leaseDurationSeconds, renewTime: now, acquireTime: current.acquireTime ?? now };
  }
  return {
    holderIdentity: identity,
    leaseDurationSeconds,
    acquireTime: now,
    renewTime: now,
    leaseTransitions: current ? current.leaseTransitions + 1 : 0,
  };
}

/** The record a leader writes when it steps down on purpose: no holder, 1 s duration, so others take it at once. */
export function releasedRecord(current: LeaseRecord, now: number): LeaseRecord {
  return { holderIdentity: '', leaseDurationSeconds: 1, acquireTime: now, renewTime: now, leaseTransitions: current.leaseTransitions };
}

/** True when the leader has gone `renewDeadlineMs` without a successful renewal and must step down. */
export function shouldStepDown(lastRenewedAt: number, now: number, renewDeadlineMs: number): boolean {
  return now - lastRenewedAt >= renewDeadlineMs;
}

/** True when the observed lease is held by someone else and still valid: the leader has lost it for sure. */
export function lostToAnother(observation: LeaseObservation | undefined, identity: string, now: number): boolean {
  const decision = decideLease(observation, identity, now);
  return decision.action === 'wait';
}

/** Lease duration in whole seconds (rounded up, at least 1), as the Lease stores it. */
export function leaseDurationSeconds(timings: LeaderElectionTimings): number {
  return Math.max(1, Math.ceil(timings.leaseDurationMs / 1000));
}
