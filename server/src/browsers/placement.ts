/** What placement knows about one browser. */
export interface PlacementCandidate {
  id: string;
  /** Connected and passing health checks. */
  healthy: boolean;
  /** Draining browsers take no new leases. */
  draining: boolean;
  /** Leases this server holds (or reserved) on this browser. */
  inUse: number;
  /** Browser contexts the browser holds at most (the cap its gateway enforces over all servers). */
  cap: number;
  /** Leases this server places on the browser at most (its own setting; default `cap`). */
  ownCap?: number;
  /** Contexts other servers hold on this browser, as its gateway last reported (0 when not known). */
  others?: number;
  /** This server's pre-warmed contexts on this browser that no lease has claimed yet (ready or being made). */
  warm?: number;
}

/**
 * True when `c` may take one more lease now: a lease takes a warm context of this server when one exists, else a new
 * context is made, and the contexts of every server on the browser must stay within its cap. Pure.
 */
export function canTakeLease(c: PlacementCandidate): boolean {
  if (!c.healthy || c.draining || c.inUse >= Math.min(c.cap, c.ownCap ?? c.cap)) return false;
  return (c.others ?? 0) + c.inUse + Math.max(c.warm ?? 0, 1) <= c.cap;
}

/** Leases on the browser by every server, relative to its cap (warm contexts are not load). */
function load(c: PlacementCandidate): number {
  return ((c.others ?? 0) + c.inUse) / c.cap;
}

/**
 * Chooses the browser for the next lease: the least-loaded (by the leases of every server on it relative to its cap,
 * then by this server's leases, then by id) healthy, non-draining browser with room. Browsers in `avoid` (e.g. one
 * that just failed or refused this lease) are used only when nothing else can take the lease. Returns undefined when
 * no browser can take a lease now. Pure.
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
  const byRatio = load(a) - load(b);
  if (byRatio !== 0) return byRatio;
  if (a.inUse !== b.inUse) return a.inUse - b.inUse;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
