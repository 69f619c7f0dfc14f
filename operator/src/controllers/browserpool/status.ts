import type { BrowserPoolStatus, BrowserStatus, Condition } from '#kube/api/v1alpha1/browserpool.ts';
import type { ResolvedPoolSpec } from './validate-spec.ts';
import type { ObservedBrowser } from './observed-browser.ts';
import { classifyBrowser, type Plan } from './plan.ts';
import { selectorString } from '#kube/api/v1alpha1/contract.ts';
import { canonicalJson } from './names.ts';

/** Everything the status is computed from. */
export interface StatusInput {
  poolName: string;
  /** metadata.generation of the pool that was reconciled. */
  generation: number;
  /** The resolved spec, or undefined when it is invalid (then `problems` says why). */
  spec?: ResolvedPoolSpec;
  problems?: string[];
  specHash?: string;
  /** Every pod of the pool, as observed before the plan was applied. */
  browsers: ObservedBrowser[];
  /** The plan being applied in this reconcile (its drains, returns to Ready and deletes show in the status). */
  plan?: Plan;
  /** The status currently stored, for lastTransitionTime. */
  previous?: BrowserPoolStatus;
  /** An error applying the plan, reported as Degraded. */
  reconcileError?: string;
  now: Date;
}

type CondSpec = Pick<Condition, 'type' | 'status' | 'reason' | 'message'>;

/** Builds the conditions with observedGeneration, keeping lastTransitionTime where the status value did not change. */
export function withTransitions(conds: CondSpec[], generation: number, previous: Condition[] | undefined, now: Date): Condition[] {
  return conds.map((c) => {
    const prev = previous?.find((p) => p.type === c.type);
    const lastTransitionTime = prev && prev.status === c.status && prev.lastTransitionTime ? prev.lastTransitionTime : now.toISOString();
    return { ...c, observedGeneration: generation, lastTransitionTime };
  });
}

/** The endpoint servers connect to: `http://<podIP>:<port>` (empty until the pod has an IP). */
export function endpointOf(b: ObservedBrowser, port: number): string {
  if (!b.podIP) return '';
  return b.podIP.includes(':') ? `http://[${b.podIP}]:${port}` : `http://${b.podIP}:${port}`;
}

/**
 * The pool status: browsers[] (not the terminating ones) with endpoint, state and sessions, counts, selector, and
 * the conditions Ready (enough current browsers Ready), Available (at least one Ready), Progressing (creating,
 * draining or starting) and Degraded (invalid spec, failed browsers, reconcile errors), each with reason and message.
 */
export function computeStatus(input: StatusInput): BrowserPoolStatus {
  const { spec, now, plan } = input;
  const port = spec?.gateway.port ?? 9222;
  const deleting = new Set(plan?.delete.map((d) => d.name) ?? []);
  const draining = new Set(plan?.drain.map((d) => d.name) ?? []);
  const returned = new Set(plan?.undrain.map((u) => u.name) ?? []);
  const browsers: BrowserStatus[] = [];
  const states = new Map<string, BrowserStatus['state']>();
  for (const b of input.browsers.toSorted((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0))) {
    if (deleting.has(b.name)) continue;
    const cls = spec ? classifyBrowser(b, spec, now) : b.terminating ? 'Terminating' : b.drainingSince ? 'Draining' : b.ready ? 'Ready' : 'Starting';
    if (cls === 'Terminating') continue;
    const state: BrowserStatus['state'] = draining.has(b.name) ? 'Draining' : returned.has(b.name) ? 'Ready' : cls;
    states.set(b.name, state);
    browsers.push({
      name: b.name,
      endpoint: endpointOf(b, port),
      state,
      sessions: b.sessions ?? 0,
      startedAt: (b.startedAt ?? b.createdAt).toISOString(),
    });
  }
  const ready = browsers.filter((b) => b.state === 'Ready');
  const readyCurrent = input.browsers.filter((b) => states.get(b.name) === 'Ready' && b.specHash === input.specHash).length;
  const failed = browsers.filter((b) => b.state === 'Failed').length;
  const starting = browsers.filter((b) => b.state === 'Starting').length;
  const drainingCount = browsers.filter((b) => b.state === 'Draining').length;
  const desired = plan?.desiredReplicas ?? spec?.replicas ?? 0;

  const conds: CondSpec[] = [];
  if (!spec) {
    const message = (input.problems ?? ['the spec is invalid']).join('; ');
    conds.push(
      { type: 'Ready', status: 'False', reason: 'InvalidSpec', message: `The spec is invalid; fix it to continue: ${message}` },
      ready.length > 0
        ? { type: 'Available', status: 'True', reason: 'BrowsersAvailable', message: `${ready.length} browsers ready (the spec is invalid, nothing is changed)` }
        : { type: 'Available', status: 'False', reason: 'NoBrowsersReady', message: 'No browser is ready' },
      { type: 'Progressing', status: 'False', reason: 'InvalidSpec', message: 'Waiting for a valid spec' },
      { type: 'Degraded', status: 'True', reason: 'InvalidSpec', message },
    );
  } else {
    const readyMsg = `${readyCurrent} of ${desired} browsers ready`;
    conds.push(readyCurrent >= desired
      ? { type: 'Ready', status: 'True', reason: desired === 0 ? 'ScaledToZero' : 'AllBrowsersReady', message: readyMsg }
      : { type: 'Ready', status: 'False', reason: 'BrowsersNotReady', message: readyMsg });
    if (ready.length > 0) conds.push({ type: 'Available', status: 'True', reason: 'BrowsersAvailable', message: `${ready.length} browsers accept sessions` });
    else if (desired === 0) conds.push({ type: 'Available', status: 'False', reason: 'ScaledToZero', message: 'The pool is scaled to zero' });
    else conds.push({ type: 'Available', status: 'False', reason: 'NoBrowsersReady', message: 'No browser is ready yet' });

    const replacing = plan?.drain.some((d) => d.reason !== 'ScaleDown') || input.browsers.some((b) => !b.terminating && !b.drainingSince && b.specHash !== input.specHash);
    const creates = plan?.create.length ?? 0;
    const scalingDown = plan?.drain.some((d) => d.reason === 'ScaleDown') ?? false;
    let progressing: CondSpec;
    if (replacing) progressing = { type: 'Progressing', status: 'True', reason: 'ReplacingBrowsers', message: `Replacing browsers surge-first (${readyMsg})` };
    else if (creates > 0 || (starting > 0 && browsers.length - drainingCount <= desired)) progressing = { type: 'Progressing', status: 'True', reason: 'ScalingUp', message: `Starting browsers (${readyMsg})` };
    else if (scalingDown || drainingCount > 0) progressing = { type: 'Progressing', status: 'True', reason: 'ScalingDown', message: `Draining ${drainingCount} browsers (${readyMsg})` };
    else if (starting > 0) progressing = { type: 'Progressing', status: 'True', reason: 'BrowsersStarting', message: `${starting} browsers starting` };
    else progressing = { type: 'Progressing', status: 'False', reason: 'Complete', message: `The pool has the browsers its spec asks for (${readyMsg})` };
    conds.push(progressing);

    if (input.reconcileError) conds.push({ type: 'Degraded', status: 'True', reason: 'ReconcileError', message: input.reconcileError });
    else if (failed > 0) conds.push({ type: 'Degraded', status: 'True', reason: 'BrowsersFailed', message: `${failed} browsers failed and are being replaced` });
    else conds.push({ type: 'Degraded', status: 'False', reason: 'AsExpected', message: 'No problems' });
  }

  return {
    observedGeneration: input.generation,
    ...(spec ? { desiredReplicas: desired } : {}),
    replicas: browsers.length,
    readyReplicas: ready.length,
    selector: selectorString(input.poolName),
    conditions: withTransitions(conds, input.generation, input.previous?.conditions, now),
    browsers,
  };
}

function comparable(s: BrowserPoolStatus | undefined): string {
  if (!s) return 'null';
  return canonicalJson({ ...s, conditions: (s.conditions ?? []).map((c) => ({ ...c, lastTransitionTime: undefined })) });
}

/** True when two statuses differ in anything but condition timestamps: the only case the status is written. */
export function statusChanged(a: BrowserPoolStatus | undefined, b: BrowserPoolStatus | undefined): boolean {
  return comparable(a) !== comparable(b);
}
