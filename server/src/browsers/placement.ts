/** What placement knows about one browser. */
export interface PlacementCandidate {
  id: string;
  /** Connected and passing health checks. */
  healthy: boolean;
  /** Draining browsers take no new leases. */
  draining: boolean;
  /** Leases currently held (or reserved) on this browser. */
  inUse: number;
  /** Session cap of this browser. */
  cap: number;
}

/** True when `c` may take one more lease now. */
export function canTakeLease(c: PlacementCandidate): boolean {
  return c.healthy && !c.draining && c.inUse < c.cap;
}

/**
 * Chooses the browser for the next lease: the least-loaded (by `inUse / cap`, then by `inUse`, then by id) healthy,
 * non-draining browser under its cap. Browsers in `avoid` (e.g. one that just failed this lease) are used only when
 * nothing else can take the lease. Returns undefined when no browser can take a lease now. Pure.
 */
export function chooseBrowser(candidates: readonly PlacementCandidate[], avoid: ReadonlySet<string> = new Set()): string | undefined {
  const open = candidates.filter(canTakeLease);
  const preferred = open.filter((c) => !avoid.has(c.id));
  const pool = preferred.length > 0 ? preferred : open;
  let best: PlacementCandidate | undefined;
  for (const c of pool) {
    if (best === undefined || compareLoad(c, best) < 0) best = c;
  }
  return best?.id;
}

function compareLoad(a: PlacementCandidate, b: PlacementCandidate): number {
  const byRatio = a.inUse / a.cap - b.inUse / b.cap;
  if (byRatio !== 0) return byRatio;
  if (a.inUse !== b.inUse) return a.inUse - b.inUse;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
