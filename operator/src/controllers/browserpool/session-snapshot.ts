import type { GatewayLoad } from '#common/gateway-status.ts';

/**
 * The loads of a pool's gateways read in one round: every read asked at the same moment, the round stamped with that
 * moment (the oldest any of its answers can be). A pool's status sums the sessions of its browsers, so they must come
 * from one round: reads of different moments summed count a lease that moved from one browser to another twice (once
 * where it ended, once where it started) — a session over-reported until the older read is replaced.
 */
export interface SessionSnapshot {
  /** When the round's reads were asked (clock ms). */
  askedAt: number;
  /** Each read gateway's load by browser key (`uid|endpoint`); undefined when it could not be read. */
  loads: ReadonlyMap<string, GatewayLoad | undefined>;
}

/**
 * Whether `snapshot` may serve a reconcile at `nowMs` that needs the loads of `wanted` (browser keys): only when it
 * was asked less than `ttlMs` ago and read every one of them. Otherwise every gateway is read again, together: a
 * snapshot is never topped up with a newer read of one browser. Pure.
 */
export function snapshotServes(snapshot: SessionSnapshot | undefined, wanted: readonly string[], nowMs: number, ttlMs: number): snapshot is SessionSnapshot {
  if (snapshot === undefined || nowMs - snapshot.askedAt >= ttlMs || nowMs < snapshot.askedAt) return false;
  return wanted.every((key) => snapshot.loads.has(key));
}
