import type { ResolvedPoolSpec } from './validate-spec.ts';
import type { ObservedBrowser } from './observed-browser.ts';
import { podName } from './names.ts';
import { stabilizedReplicas, type Recommendation } from './scale-down-stabilization.ts';

/** Why a browser is being drained. */
export type DrainReason = 'MaxAge' | 'MaxLeases' | 'Memory' | 'Unhealthy' | 'SpecChanged' | 'ScaleDown';
/** Why a browser is being deleted. */
export type DeleteReason = 'Drained' | 'DrainTimeout' | 'Failed' | 'NeverReady';
/** Where a browser is in its life, as the status reports it (Terminating ones are not reported). */
export type BrowserState = 'Starting' | 'Ready' | 'Draining' | 'Failed' | 'Terminating';

/** Tunables of the planner; the defaults suit production. */
export interface PlanOptions {
  /** A browser that was Ready and is now Draining stays at least this long, so servers see the change. Default 2. */
  minDrainSeconds?: number;
  /** How often sessions are re-read while something depends on them (draining, status). Default 10. */
  sessionPollSeconds?: number;
  /** How often an autoscaled pool looks at its demand again. Default 3. */
  autoscalePollSeconds?: number;
  /** Extra browsers allowed while replacing; default max(1, ceil(desired / 4)). */
  maxSurge?: number;
}

/** Everything the planner decides from. */
export interface PlanInput {
  poolName: string;
  poolUid: string;
  spec: ResolvedPoolSpec;
  /** Hash of the current pod template. */
  specHash: string;
  /** Every pod of the pool, including terminating ones. */
  browsers: ObservedBrowser[];
  now: Date;
  /** New pods get serials ≥ this (the caller's high-water mark, so names are not reused within a process). */
  nextSerial?: number;
  /** Callers the servers have queued for this pool (demand not yet served); autoscaling adds it to the leased. */
  queued?: number;
  /**
   * The autoscaler's recommendations within the pool's scale-down stabilisation window before now (the caller keeps
   * them, see scale-down-stabilization.ts): the pool scales down only to the highest of them. Without them (or without
   * autoscaling) it follows the recommendation at once.
   */
  recentRecommendations?: readonly Recommendation[];
  options?: PlanOptions;
}

/** What to do now to move the pool toward its spec. */
export interface Plan {
  /** Browsers wanted (spec.replicas, or the autoscaler's choice after scale-down stabilisation). */
  desiredReplicas: number;
  /** What demand asks for now, before scale-down stabilisation (spec.replicas without autoscaling): the caller records it. */
  recommendedReplicas: number;
  create: Array<{ name: string; serial: number }>;
  drain: Array<{ name: string; reason: DrainReason }>;
  /** Browsers drained for scale-down that demand needs again: back to Ready (see {@link returnableFromDrain}). */
  undrain: Array<{ name: string; sessions: number }>;
  delete: Array<{ name: string; uid: string; reason: DeleteReason }>;
  /** When to look again for time-based transitions (max age, unhealthy threshold, drain timeout, polling). */
  requeueAfterMs?: number;
}

const seconds = (a: Date, b: Date): number => (a.getTime() - b.getTime()) / 1000;

/** The state of one browser now: Terminating, Draining, Failed (dead or unready too long), Ready or Starting. */
export function classifyBrowser(b: ObservedBrowser, spec: ResolvedPoolSpec, now: Date): BrowserState {
  if (b.terminating) return 'Terminating';
  if (b.drainingSince) return 'Draining';
  if (b.phase === 'Failed' || b.phase === 'Succeeded') return 'Failed';
  if (b.ready) return 'Ready';
  if (seconds(now, b.readySince) >= spec.recycle.unhealthyAfterSeconds) return 'Failed';
  return 'Starting';
}

/**
 * Browsers the pool should have: spec.replicas; with autoscaling, the busy browsers demand needs
 * (ceil((leased + queued) / target)) plus `minIdle` idle ones, within [min, max]. Demand counts leased sessions
 * only, never pre-warmed pages, so the pool cannot ratchet up on its own warm pages.
 */
export function desiredReplicas(spec: ResolvedPoolSpec, browsers: ObservedBrowser[], queued = 0): number {
  const a = spec.autoscaling;
  if (!a) return spec.replicas;
  const leased = browsers.filter((b) => !b.terminating).reduce((sum, b) => sum + (b.sessions ?? 0), 0);
  const busy = Math.ceil((leased + Math.max(0, queued)) / a.targetSessionsPerBrowser);
  return Math.min(a.maxReplicas, Math.max(a.minReplicas, busy + a.minIdle));
}

/** Why a serving browser must be replaced now (spec, age, leases served, memory), or undefined. */
export function replacementReason(b: ObservedBrowser, spec: ResolvedPoolSpec, specHash: string, now: Date): DrainReason | undefined {
  if (b.specHash !== specHash) return 'SpecChanged';
  if (seconds(now, b.createdAt) >= spec.recycle.maxAgeSeconds) return 'MaxAge';
  if (spec.recycle.maxLeases > 0 && (b.leasesServed ?? 0) >= spec.recycle.maxLeases) return 'MaxLeases';
  if (spec.recycle.maxMemoryBytes !== undefined && (b.rssBytes ?? 0) > spec.recycle.maxMemoryBytes) return 'Memory';
  return undefined;
}

/** Sort key: idle first (unknown sessions count as busy), then the oldest (closest to recycling). */
function idlestFirst(a: ObservedBrowser, b: ObservedBrowser): number {
  const sa = a.sessions ?? Number.MAX_SAFE_INTEGER;
  const sb = b.sessions ?? Number.MAX_SAFE_INTEGER;
  if (sa !== sb) return sa - sb;
  return a.createdAt.getTime() - b.createdAt.getTime() || (a.name < b.name ? -1 : 1);
}

/**
 * Whether a Draining browser may be returned to Ready when demand needs it again. Only one drained because the
 * pool shrank (ScaleDown) and still fit to serve: its pod Ready and Running, its gateway answering (sessions
 * known), the current spec, not due for recycling by age, leases served or memory. Never one drained for
 * recycling, unhealthiness or a spec change: those were drained to go, whatever the demand.
 */
export function returnableFromDrain(b: ObservedBrowser, spec: ResolvedPoolSpec, specHash: string, now: Date): boolean {
  return b.drainingSince !== undefined && !b.terminating && b.drainReason === 'ScaleDown'
    && b.ready && b.everReady && b.phase === 'Running' && b.sessions !== undefined
    && replacementReason(b, spec, specHash, now) === undefined;
}

/**
 * Which returnable Draining browsers to put back first: those holding leases (most first: they stay anyway until
 * their leases end, and their callers keep a browser that is not going away), then the youngest (furthest from
 * recycling).
 */
function mostWorthReturning(a: ObservedBrowser, b: ObservedBrowser): number {
  const sa = a.sessions ?? 0;
  const sb = b.sessions ?? 0;
  if (sa !== sb) return sb - sa;
  return b.createdAt.getTime() - a.createdAt.getTime() || (a.name < b.name ? -1 : 1);
}

/**
 * Decides which browsers to create, mark Draining and delete. Level-based and pure: the same input gives the
 * same plan. With autoscaling, the browsers wanted are what demand asks for, scaled down only to the highest
 * recommendation of the scale-down stabilisation window (`recentRecommendations`). Replacement (max age, unhealthy, spec change) is surge-first: a Ready browser is drained only when
 * enough other Ready browsers cover `desired`. Scale-down drains the idlest first. When demand needs more
 * browsers than serve, Draining browsers drained for scale-down that are still fit are returned to Ready before
 * any pod is created (a server may have placed a lease on one the operator had just drained, since the status
 * lags; and demand can come back while a browser drains). Draining browsers go when their sessions reach zero
 * (after `minDrainSeconds`) or `drainTimeoutSeconds` passes.
 */
export function plan(input: PlanInput): Plan {
  const { spec, now, browsers } = input;
  const minDrain = input.options?.minDrainSeconds ?? 2;
  const poll = input.options?.sessionPollSeconds ?? 10;
  const state = new Map(browsers.map((b) => [b.name, classifyBrowser(b, spec, now)] as const));
  const recommended = desiredReplicas(spec, browsers, input.queued ?? 0);
  const desired = spec.autoscaling && input.recentRecommendations
    ? stabilizedReplicas({
      recommended,
      current: browsers.filter((b) => state.get(b.name) === 'Ready' || state.get(b.name) === 'Starting').length,
      recent: input.recentRecommendations,
      minReplicas: spec.autoscaling.minReplicas,
      maxReplicas: spec.autoscaling.maxReplicas,
    })
    : recommended;
  const maxSurge = input.options?.maxSurge ?? Math.max(1, Math.ceil(desired / 4));
  const out: Plan = { desiredReplicas: desired, recommendedReplicas: recommended, create: [], drain: [], undrain: [], delete: [] };
  const wakeups: number[] = [];
  const wakeAt = (s: number): void => {
    wakeups.push(Math.max(0.1, s));
  };

  const serving = browsers.filter((b) => state.get(b.name) !== 'Terminating' && state.get(b.name) !== 'Draining');
  const newlyDrained: Array<{ b: ObservedBrowser; reason: DrainReason }> = [];
  const good: ObservedBrowser[] = [];
  const replaceReady: Array<{ b: ObservedBrowser; reason: DrainReason }> = [];

  for (const b of serving) {
    const st = state.get(b.name);
    if (st === 'Failed') {
      newlyDrained.push({ b, reason: 'Unhealthy' });
      continue;
    }
    const reason = replacementReason(b, spec, input.specHash, now);
    if (reason === undefined) {
      good.push(b);
      if (b.ready) wakeAt(spec.recycle.maxAgeSeconds - seconds(now, b.createdAt));
      else wakeAt(spec.recycle.unhealthyAfterSeconds - seconds(now, b.readySince));
    } else if (!b.ready) {
      newlyDrained.push({ b, reason }); // provides no capacity: replace at once
    } else {
      replaceReady.push({ b, reason });
    }
  }

  // Demand needs more than serves: return browsers drained for scale-down before creating any.
  const returned = new Set<string>();
  if (good.length < desired) {
    const returnable = browsers
      .filter((b) => state.get(b.name) === 'Draining' && returnableFromDrain(b, spec, input.specHash, now))
      .toSorted(mostWorthReturning)
      .slice(0, desired - good.length);
    for (const b of returnable) {
      returned.add(b.name);
      good.push(b);
      out.undrain.push({ name: b.name, sessions: b.sessions ?? 0 });
      wakeAt(spec.recycle.maxAgeSeconds - seconds(now, b.createdAt));
    }
  }

  // Surge-first: drain Ready browsers that need replacing only while enough Ready good ones cover `desired`.
  replaceReady.sort((x, y) => idlestFirst(x.b, y.b));
  const readyGood = good.filter((b) => b.ready).length;
  const drainable = Math.max(0, Math.min(replaceReady.length, readyGood + replaceReady.length - desired));
  const keptForCapacity = replaceReady.slice(drainable);
  newlyDrained.push(...replaceReady.slice(0, drainable));

  // Scale down: drain the surplus of good browsers, Starting ones first, then the idlest.
  if (good.length > desired) {
    const victims = good.toSorted((x, y) => {
      if (x.ready !== y.ready) return x.ready ? 1 : -1;
      return idlestFirst(x, y);
    }).slice(0, good.length - desired);
    const victimNames = new Set(victims.map((v) => v.name));
    victims.forEach((b) => newlyDrained.push({ b, reason: 'ScaleDown' }));
    good.splice(0, good.length, ...good.filter((b) => !victimNames.has(b.name)));
  }

  // Create what is missing, within the surge budget.
  const need = desired - good.length;
  if (need > 0) {
    const servingAfter = good.length + keptForCapacity.length;
    const count = Math.min(need, Math.max(0, desired + maxSurge - servingAfter));
    const used = new Set(browsers.map((b) => b.name));
    let serial = Math.max(input.nextSerial ?? 0, ...browsers.map((b) => (b.serial ?? -1) + 1));
    for (let i = 0; i < count; i++) {
      while (used.has(podName(input.poolName, input.poolUid, serial))) serial++;
      const name = podName(input.poolName, input.poolUid, serial);
      used.add(name);
      out.create.push({ name, serial });
      serial++;
    }
    if (count < need) wakeAt(poll);
  }

  for (const { b, reason } of newlyDrained) {
    if (!b.everReady) {
      out.delete.push({ name: b.name, uid: b.uid, reason: 'NeverReady' });
    } else {
      out.drain.push({ name: b.name, reason });
      wakeAt(minDrain);
    }
  }

  // Browsers already Draining: delete once idle (after the minimum), dead, or past the drain timeout. One drained
  // because the pool shrinks is never deleted while it has leased sessions: the timeout is for replacements.
  for (const b of browsers) {
    if (state.get(b.name) !== 'Draining' || !b.drainingSince || returned.has(b.name)) continue;
    const drained = seconds(now, b.drainingSince);
    const busyScaleDown = b.drainReason === 'ScaleDown' && (b.sessions ?? 0) > 0;
    if (!b.everReady) out.delete.push({ name: b.name, uid: b.uid, reason: 'NeverReady' });
    else if (b.sessions === 0 && drained >= minDrain) out.delete.push({ name: b.name, uid: b.uid, reason: 'Drained' });
    else if (drained >= spec.recycle.drainTimeoutSeconds && !busyScaleDown) out.delete.push({ name: b.name, uid: b.uid, reason: 'DrainTimeout' });
    else if (b.phase === 'Failed' || b.phase === 'Succeeded' || (!b.ready && b.sessions === undefined)) {
      out.delete.push({ name: b.name, uid: b.uid, reason: 'Failed' });
    } else if (busyScaleDown) wakeAt(poll);
    else {
      wakeAt(Math.min(spec.recycle.drainTimeoutSeconds - drained, b.sessions === 0 ? minDrain - drained : poll));
    }
  }

  if (spec.autoscaling) wakeAt(input.options?.autoscalePollSeconds ?? 3);
  if (serving.some((b) => b.ready)) wakeAt(poll);
  if (wakeups.length > 0) out.requeueAfterMs = Math.ceil(Math.min(...wakeups) * 1000);
  return out;
}
