import { expect } from 'chai';
import { computeStatus, statusChanged, endpointOf, type StatusInput } from '#operator/controllers/browserpool/status.ts';
import { plan } from '#operator/controllers/browserpool/plan.ts';
import { NOW, ago, browser, resolved } from './fixtures.ts';

function cond(s: ReturnType<typeof computeStatus>, type: string) {
  const c = s.conditions?.find((x) => x.type === type);
  if (!c) throw new Error(`no ${type} condition`);
  return c;
}

function statusOf(over: Partial<StatusInput>) {
  const spec = over.spec ?? resolved();
  const browsers = over.browsers ?? [];
  const p = plan({ poolName: 'pool', poolUid: 'u', spec, specHash: 'h1', browsers, now: NOW });
  return computeStatus({ poolName: 'pool', generation: 3, spec, specHash: 'h1', browsers, plan: p, now: NOW, ...over });
}

describe('computeStatus', () => {
  it('lists browsers with endpoint, state, sessions and startedAt, sorted by name', () => {
    const s = statusOf({ browsers: [browser('b', { podIP: '10.244.0.3', sessions: 2 }), browser('a', { podIP: '10.244.0.2' })] });
    expect(s.browsers).to.deep.equal([
      { name: 'a', endpoint: 'http://10.244.0.2:9222', state: 'Ready', sessions: 0, startedAt: ago(99).toISOString() },
      { name: 'b', endpoint: 'http://10.244.0.3:9222', state: 'Ready', sessions: 2, startedAt: ago(99).toISOString() },
    ]);
    expect(s.replicas).to.equal(2);
    expect(s.readyReplicas).to.equal(2);
    expect(s.observedGeneration).to.equal(3);
    expect(s.desiredReplicas, 'spec.replicas without autoscaling').to.equal(2);
    expect(s.selector).to.equal('app.kubernetes.io/name=composer-mcp-browser,browser.composer-mcp.io/pool=pool');
  });

  it('is Ready, Available, not Progressing, not Degraded in a steady pool; each condition has observedGeneration', () => {
    const s = statusOf({ browsers: [browser('a'), browser('b')] });
    expect(cond(s, 'Ready')).to.include({ status: 'True', reason: 'AllBrowsersReady', observedGeneration: 3 });
    expect(cond(s, 'Available')).to.include({ status: 'True', reason: 'BrowsersAvailable' });
    expect(cond(s, 'Progressing')).to.include({ status: 'False', reason: 'Complete' });
    expect(cond(s, 'Degraded')).to.include({ status: 'False', reason: 'AsExpected' });
    for (const c of s.conditions ?? []) expect(c.lastTransitionTime).to.equal(NOW.toISOString());
  });

  it('is not Ready and Progressing (ScalingUp) while browsers are created', () => {
    const s = statusOf({ browsers: [] });
    expect(cond(s, 'Ready')).to.include({ status: 'False', reason: 'BrowsersNotReady', message: '0 of 2 browsers ready' });
    expect(cond(s, 'Available')).to.include({ status: 'False', reason: 'NoBrowsersReady' });
    expect(cond(s, 'Progressing')).to.include({ status: 'True', reason: 'ScalingUp' });
  });

  it('shows Starting browsers with an empty endpoint until they have an IP', () => {
    const s = statusOf({ browsers: [browser('a'), browser('b', { ready: false, everReady: false, podIP: undefined, readySince: ago(1) })] });
    expect(s.browsers?.find((b) => b.name === 'b')).to.include({ state: 'Starting', endpoint: '' });
    expect(s.readyReplicas).to.equal(1);
    expect(cond(s, 'Progressing')).to.include({ status: 'True', reason: 'ScalingUp' });
  });

  it('shows browsers being drained in this reconcile as Draining, and leaves out the ones being deleted and terminating', () => {
    const s = statusOf({
      spec: resolved({ replicas: 1 }),
      browsers: [browser('busy', { sessions: 2 }), browser('idle'), browser('gone', { terminating: true }), browser('drained', { drainingSince: ago(5) })],
    });
    expect(s.browsers?.map((b) => [b.name, b.state])).to.deep.equal([['busy', 'Ready'], ['idle', 'Draining']]);
    expect(cond(s, 'Progressing')).to.include({ status: 'True', reason: 'ScalingDown' });
  });

  it('shows a draining browser returned to Ready in this reconcile as Ready, and counts it ready', () => {
    const spec = resolved({ autoscaling: { minReplicas: 0, maxReplicas: 4, minIdle: 0, targetSessionsPerBrowser: 2 } });
    const s = statusOf({
      spec,
      browsers: [browser('a', { sessions: 2 }), browser('back', { drainingSince: ago(5), drainReason: 'ScaleDown', sessions: 2 })],
    });
    expect(s.browsers?.map((b) => [b.name, b.state, b.sessions])).to.deep.equal([['a', 'Ready', 2], ['back', 'Ready', 2]]);
    expect(s.readyReplicas).to.equal(2);
    expect(cond(s, 'Progressing')).to.include({ status: 'False', reason: 'Complete' });
  });

  it('reports Degraded BrowsersFailed for failed browsers and ReconcileError for apply errors', () => {
    const s = statusOf({ browsers: [browser('a'), browser('b', { phase: 'Failed' })], plan: { desiredReplicas: 2, recommendedReplicas: 2, create: [], drain: [], undrain: [], delete: [] } });
    expect(cond(s, 'Degraded')).to.include({ status: 'True', reason: 'BrowsersFailed' });
    const e = statusOf({ browsers: [browser('a'), browser('b')], reconcileError: 'pods is forbidden' });
    expect(cond(e, 'Degraded')).to.include({ status: 'True', reason: 'ReconcileError', message: 'pods is forbidden' });
  });

  it('reports ReplacingBrowsers while old-spec browsers exist', () => {
    const s = statusOf({ browsers: [browser('a', { specHash: 'h0' }), browser('b', { specHash: 'h0' })] });
    expect(cond(s, 'Progressing')).to.include({ status: 'True', reason: 'ReplacingBrowsers' });
    expect(cond(s, 'Ready')).to.include({ status: 'False' });
    expect(cond(s, 'Available')).to.include({ status: 'True' });
  });

  it('reports the autoscaler\'s choice as desiredReplicas, not spec.replicas', () => {
    const spec = resolved({ replicas: 1, autoscaling: { minReplicas: 1, maxReplicas: 6, minIdle: 1, targetSessionsPerBrowser: 2 } });
    const s = statusOf({ spec, browsers: [browser('a', { sessions: 5 })] });
    expect(s.desiredReplicas, '3 busy + 1 idle').to.equal(4);
  });

  it('reports an invalid spec as Degraded InvalidSpec with the problems, and not Progressing', () => {
    const s = computeStatus({ poolName: 'pool', generation: 7, problems: ['spec.replicas: -1 must be a whole number'], browsers: [browser('a')], now: NOW });
    expect(cond(s, 'Degraded')).to.include({ status: 'True', reason: 'InvalidSpec', observedGeneration: 7, message: 'spec.replicas: -1 must be a whole number' });
    expect(cond(s, 'Ready')).to.include({ status: 'False', reason: 'InvalidSpec' });
    expect(cond(s, 'Progressing')).to.include({ status: 'False', reason: 'InvalidSpec' });
    expect(s.browsers?.map((b) => b.name)).to.deep.equal(['a']);
    expect(s.desiredReplicas, 'nothing is steered towards while the spec is invalid').to.equal(undefined);
  });

  it('is Ready with reason ScaledToZero and not Available at zero replicas', () => {
    const s = statusOf({ spec: resolved({ replicas: 0 }), browsers: [] });
    expect(cond(s, 'Ready')).to.include({ status: 'True', reason: 'ScaledToZero' });
    expect(cond(s, 'Available')).to.include({ status: 'False', reason: 'ScaledToZero' });
  });

  it('keeps lastTransitionTime when a condition keeps its status, and moves it when the status flips', () => {
    const earlier = '2025-12-31T00:00:00.000Z';
    const previous = statusOf({ browsers: [browser('a'), browser('b')] });
    for (const c of previous.conditions ?? []) c.lastTransitionTime = earlier;
    const same = statusOf({ browsers: [browser('a', { sessions: 1 }), browser('b')], previous });
    expect(cond(same, 'Ready').lastTransitionTime).to.equal(earlier);
    const flipped = statusOf({ browsers: [browser('a')], previous, plan: { desiredReplicas: 2, recommendedReplicas: 2, create: [], drain: [], undrain: [], delete: [] } });
    expect(cond(flipped, 'Ready').lastTransitionTime).to.equal(NOW.toISOString());
    expect(cond(flipped, 'Degraded').lastTransitionTime).to.equal(earlier);
  });

  it('formats IPv6 endpoints with brackets', () => {
    expect(endpointOf(browser('a', { podIP: 'fd00::5' }), 9222)).to.equal('http://[fd00::5]:9222');
  });
});

describe('statusChanged', () => {
  it('ignores condition timestamps and key order, but sees every other difference', () => {
    const a = statusOf({ browsers: [browser('a'), browser('b')] });
    const b = structuredClone(a);
    for (const c of b.conditions ?? []) c.lastTransitionTime = '2020-01-01T00:00:00Z';
    expect(statusChanged(a, b)).to.equal(false);
    const reordered = Object.fromEntries(Object.entries(a).toReversed()) as typeof a;
    expect(statusChanged(a, reordered)).to.equal(false);
    const c = structuredClone(a);
    c.browsers![0]!.sessions = 5;
    expect(statusChanged(a, c)).to.equal(true);
    const d = structuredClone(a);
    d.conditions![0]!.reason = 'Other';
    expect(statusChanged(a, d)).to.equal(true);
    expect(statusChanged(undefined, a)).to.equal(true);
    expect(statusChanged({ ...a, observedGeneration: 4 }, a)).to.equal(true);
  });
});
