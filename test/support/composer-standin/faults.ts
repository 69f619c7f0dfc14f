/** The routes of the stand-in whose behaviour tests can change. */
export type StandinRoute = 'app' | 'me' | 'upload' | 'read';

/** Every stand-in route name, for validation of admin requests. */
export const STANDIN_ROUTES: readonly StandinRoute[] = ['app', 'me', 'upload', 'read'];

/** Switches that make the stand-in slow or failing, settable at start and at run time. */
export interface StandinFaults {
  /** Delay before answering, per route, in milliseconds (`app` delays the app's HTML: a slow app load). */
  latencyMs: Partial<Record<StandinRoute, number>>;
  /** How many of the next answers of each route are `failStatus` errors (counts down as they are served). */
  failNext: Partial<Record<StandinRoute, number>>;
  /** Status of the injected failures (default 503). */
  failStatus: number;
  /** When true every token is rejected with 401, whatever its signature. */
  rejectAllTokens: boolean;
}

/** A partial update of the fault switches; nested records are merged route by route. */
export interface StandinFaultsPatch {
  latencyMs?: Partial<Record<StandinRoute, number>>;
  failNext?: Partial<Record<StandinRoute, number>>;
  failStatus?: number;
  rejectAllTokens?: boolean;
}

/** The switches when nothing is injected. */
export function noFaults(): StandinFaults {
  return { latencyMs: {}, failNext: {}, failStatus: 503, rejectAllTokens: false };
}

function checkRecord(name: string, record: Record<string, unknown> | undefined): Partial<Record<StandinRoute, number>> {
  const out: Partial<Record<StandinRoute, number>> = {};
  for (const [route, value] of Object.entries(record ?? {})) {
    if (!STANDIN_ROUTES.includes(route as StandinRoute)) throw new Error(`${name}.${route}: unknown route (expected one of ${STANDIN_ROUTES.join(', ')})`);
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new Error(`${name}.${route}: expected a number >= 0, got ${JSON.stringify(value)}`);
    out[route as StandinRoute] = value;
  }
  return out;
}

/** Returns `faults` with `patch` applied (pure); throws a clear error on an unknown route or a bad number. */
export function applyFaultsPatch(faults: StandinFaults, patch: StandinFaultsPatch): StandinFaults {
  const next: StandinFaults = {
    latencyMs: { ...faults.latencyMs, ...checkRecord('latencyMs', patch.latencyMs) },
    failNext: { ...faults.failNext, ...checkRecord('failNext', patch.failNext) },
    failStatus: faults.failStatus,
    rejectAllTokens: faults.rejectAllTokens,
  };
  if (patch.failStatus !== undefined) {
    if (!Number.isInteger(patch.failStatus) || patch.failStatus < 500 || patch.failStatus > 599) throw new Error(`failStatus: expected an integer 500..599, got ${JSON.stringify(patch.failStatus)}`);
    next.failStatus = patch.failStatus;
  }
  if (patch.rejectAllTokens !== undefined) {
    if (typeof patch.rejectAllTokens !== 'boolean') throw new Error(`rejectAllTokens: expected a boolean, got ${JSON.stringify(patch.rejectAllTokens)}`);
    next.rejectAllTokens = patch.rejectAllTokens;
  }
  return next;
}

/** Consumes one injected failure for `route` if any is left; returns the status to answer with, or undefined. */
export function takeFailure(faults: StandinFaults, route: StandinRoute): number | undefined {
  const left = faults.failNext[route] ?? 0;
  if (left <= 0) return undefined;
  faults.failNext[route] = left - 1;
  return faults.failStatus;
}
