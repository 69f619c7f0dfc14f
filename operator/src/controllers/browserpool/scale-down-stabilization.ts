/** One recommendation of the autoscaler: how many browsers demand asked for, and when (epoch ms). */
export interface Recommendation {
  atMs: number;
  replicas: number;
}

/**
 * The recommendations made within the last `windowSeconds` before `nowMs` (the window includes its start, as the
 * HorizontalPodAutoscaler's does). Pure.
 */
export function recommendationsInWindow(history: readonly Recommendation[], nowMs: number, windowSeconds: number): Recommendation[] {
  const since = nowMs - windowSeconds * 1000;
  return history.filter((r) => r.atMs >= since && r.atMs <= nowMs);
}

/** What {@link stabilizedReplicas} decides from. */
export interface StabilizationInput {
  /** What demand asks for now (already within [min, max]). */
  recommended: number;
  /** Browsers serving now: Ready or Starting, neither Draining nor Failed nor going away. */
  current: number;
  /** The recommendations made within the scale-down stabilisation window before now (see {@link recommendationsInWindow}). */
  recent: readonly Recommendation[];
  /** Bounds the answer stays within (a window may hold recommendations made under older bounds). */
  minReplicas: number;
  maxReplicas: number;
}

/**
 * Browsers to keep, with scale-down stabilisation as the HorizontalPodAutoscaler does it
 * (`behavior.scaleDown.stabilizationWindowSeconds`): scale up at once to what demand asks for; scale down only to the
 * highest recommendation of the window, never below what demand asks for now, and never up to an old recommendation
 * (so the answer lies between the recommendation and the browsers serving). Demand oscillating around a boundary then
 * keeps the higher count for the window instead of flipping browsers between Draining and Ready. Pure.
 */
export function stabilizedReplicas(input: StabilizationInput): number {
  const { recommended, current } = input;
  let desired = recommended;
  if (recommended < current) {
    const highest = input.recent.reduce((max, r) => Math.max(max, r.replicas), recommended);
    desired = Math.min(current, highest);
  }
  return Math.min(input.maxReplicas, Math.max(input.minReplicas, desired));
}

/**
 * The history to keep after recording `recommended` at `nowMs`: the window's recommendations that can still be the
 * highest of a later window, plus this one. A recommendation followed by one at least as high never is (the later one
 * stays in the window longer), so the history is strictly decreasing and holds at most one entry per replica count,
 * however often the pool is reconciled. Pure.
 */
export function recordRecommendation(history: readonly Recommendation[], nowMs: number, windowSeconds: number, recommended: number): Recommendation[] {
  const kept = recommendationsInWindow(history, nowMs, windowSeconds).filter((r) => r.replicas > recommended);
  return [...kept, { atMs: nowMs, replicas: recommended }];
}
