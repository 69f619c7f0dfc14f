import type { CheckResult } from '#common/health.ts';
import type { ControllerHealth } from './controller.ts';

/** The facts readiness is decided from. */
export interface ReadinessFacts {
  /** Names of informers that have not synced yet. */
  unsyncedCaches: string[];
  /** Leader-election state; undefined when leader election is off (the instance always works). */
  election?: {
    leading: boolean;
    running: boolean;
    /** Milliseconds since the Lease was last read or written successfully. */
    sinceLastContactMs: number;
    /** How stale that contact may be for a standby to count as healthy. */
    maxContactAgeMs: number;
  };
}

/**
 * Ready = every cache synced and either leading, or standing by as a healthy candidate (election running and
 * the Lease reachable recently). Pure: the detail says what is missing.
 */
export function decideReadiness(facts: ReadinessFacts): CheckResult {
  if (facts.unsyncedCaches.length > 0) return { ok: false, detail: `caches not synced: ${facts.unsyncedCaches.join(', ')}` };
  const election = facts.election;
  if (!election || election.leading) return { ok: true, detail: election ? 'leading' : 'synced' };
  if (!election.running) return { ok: false, detail: 'not leading and not standing for election' };
  if (election.sinceLastContactMs > election.maxContactAgeMs) {
    return { ok: false, detail: `standby cannot reach its Lease (last contact ${Math.round(election.sinceLastContactMs / 1000)} s ago)` };
  }
  return { ok: true, detail: 'standing by' };
}

/** Live = no controller is wedged (a reconcile stuck past its limit, or workers gone while not stopping). Pure. */
export function decideLiveness(controllers: Array<{ name: string; health: ControllerHealth }>): CheckResult {
  const wedged = controllers.filter((c) => c.health.wedged);
  if (wedged.length === 0) return { ok: true };
  const detail = wedged
    .map((c) => `${c.name}: ${c.health.workersAlive} workers alive, oldest reconcile ${Math.round(c.health.oldestReconcileMs / 1000)} s`)
    .join('; ');
  return { ok: false, detail: `wedged controllers: ${detail}` };
}
