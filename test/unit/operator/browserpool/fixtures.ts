import type { ObservedBrowser } from '#operator/controllers/browserpool/observed-browser.ts';
import { validateSpec, type ResolvedPoolSpec } from '#operator/controllers/browserpool/validate-spec.ts';
import type { BrowserPoolSpec } from '#kube/api/v1alpha1/browserpool.ts';

/** A fixed "now" for the pure-function tests. */
export const NOW = new Date('2026-01-01T12:00:00.000Z');

/** `seconds` before NOW. */
export function ago(seconds: number): Date {
  return new Date(NOW.getTime() - seconds * 1000);
}

/** A resolved spec with defaults and the given overrides; throws when invalid (tests pass valid ones). */
export function resolved(spec: Partial<BrowserPoolSpec> = {}): ResolvedPoolSpec {
  const v = validateSpec('pool', spec);
  if (!v.ok) throw new Error(v.problems.join('; '));
  return v.spec;
}

/** An observed browser: Ready, current hash, 100 s old, 0 sessions, unless overridden. */
export function browser(name: string, over: Partial<ObservedBrowser> = {}): ObservedBrowser {
  return {
    name,
    uid: `uid-${name}`,
    specHash: 'h1',
    createdAt: ago(100),
    startedAt: ago(99),
    podIP: '10.244.0.2',
    phase: 'Running',
    ready: true,
    readySince: ago(95),
    everReady: true,
    terminating: false,
    sessions: 0,
    ...over,
  };
}
