import { expect } from 'chai';
import { plan, classifyBrowser, desiredReplicas, type PlanInput } from '#operator/controllers/browserpool/plan.ts';
import { podName } from '#operator/controllers/browserpool/names.ts';
import { NOW, ago, browser, resolved } from './fixtures.ts';

function input(over: Partial<PlanInput>): PlanInput {
  return { poolName: 'pool', poolUid: 'u1', spec: resolved(), specHash: 'h1', browsers: [], now: NOW, ...over };
}

function auto(min: number, max: number, target: number, minIdle = 1) {
  return resolved({ replicas: Math.max(min, Math.min(2, max)), autoscaling: { minReplicas: min, maxReplicas: max, minIdle, targetSessionsPerBrowser: target } });
}

describe('plan', () => {
  it('creates replicas pods with deterministic, distinct names for an empty pool', () => {
    const p = plan(input({ spec: resolved({ replicas: 3 }) }));
    expect(p.create.map((c) => c.serial)).to.deep.equal([0, 1, 2]);
    expect(p.create.map((c) => c.name)).to.deep.equal([0, 1, 2].map((s) => podName('pool', 'u1', s)));
    expect(new Set(p.create.map((c) => c.name)).size).to.equal(3);
    expect(plan(input({ spec: resolved({ replicas: 3 }) }))).to.deep.equal(p);
    expect(p.drain).to.deep.equal([]);
    expect(p.delete).to.deep.equal([]);
  });

  it('does nothing in a steady pool but schedules the next look (poll or max age)', () => {
    const p = plan(input({ browsers: [browser('a'), browser('b')] }));
    expect(p.create).to.deep.equal([]);
    expect(p.drain).to.deep.equal([]);
    expect(p.delete).to.deep.equal([]);
    expect(p.requeueAfterMs).to.equal(10_000);
  });

  it('wakes at max age when that is sooner than the poll', () => {
    const p = plan(input({ spec: resolved({ recycle: { maxAgeSeconds: 103, drainTimeoutSeconds: 300, unhealthyAfterSeconds: 60 } }), browsers: [browser('a'), browser('b')] }));
    expect(p.requeueAfterMs).to.equal(3000);
  });

  it('never reuses a name that an existing or terminating pod has, and honours nextSerial', () => {
    const taken = podName('pool', 'u1', 0);
    const p = plan(input({ spec: resolved({ replicas: 2 }), browsers: [browser(taken, { serial: 0, terminating: true })], nextSerial: 5 }));
    expect(p.create.map((c) => c.serial)).to.deep.equal([5, 6]);
    expect(p.create.map((c) => c.name)).to.not.include(taken);
  });

  it('does not count terminating pods as capacity', () => {
    const p = plan(input({ browsers: [browser('a'), browser('b', { terminating: true })] }));
    expect(p.create).to.have.length(1);
  });

  it('scales up by the difference only', () => {
    const p = plan(input({ spec: resolved({ replicas: 4 }), browsers: [browser('a', { serial: 0 }), browser('b', { serial: 1 })] }));
    expect(p.create.map((c) => c.serial)).to.deep.equal([2, 3]);
  });

  it('scales down by draining the idlest browser first, never the busy one', () => {
    const p = plan(input({ spec: resolved({ replicas: 1 }), browsers: [browser('busy', { sessions: 3 }), browser('idle', { sessions: 0 })] }));
    expect(p.drain).to.deep.equal([{ name: 'idle', reason: 'ScaleDown' }]);
    expect(p.delete).to.deep.equal([]);
    expect(p.create).to.deep.equal([]);
  });

  it('scales down Starting browsers first and deletes them at once (nobody uses them)', () => {
    const p = plan(input({
      spec: resolved({ replicas: 1 }),
      browsers: [browser('idle', { sessions: 0 }), browser('starting', { ready: false, everReady: false, readySince: ago(5), sessions: undefined })],
    }));
    expect(p.drain).to.deep.equal([]);
    expect(p.delete).to.deep.equal([{ name: 'starting', uid: 'uid-starting', reason: 'NeverReady' }]);
  });

  it('treats unknown sessions as busy when choosing what to scale down', () => {
    const p = plan(input({ spec: resolved({ replicas: 1 }), browsers: [browser('unknown', { sessions: undefined }), browser('one', { sessions: 1 })] }));
    expect(p.drain.map((d) => d.name)).to.deep.equal(['one']);
  });

  it('deletes a draining browser once idle after the minimum drain time', () => {
    const p = plan(input({ spec: resolved({ replicas: 1 }), browsers: [browser('a'), browser('d', { drainingSince: ago(3), sessions: 0 })] }));
    expect(p.delete).to.deep.equal([{ name: 'd', uid: 'uid-d', reason: 'Drained' }]);
  });

  it('keeps a just-drained idle browser for the minimum drain time, then comes back', () => {
    const p = plan(input({ spec: resolved({ replicas: 1 }), browsers: [browser('a'), browser('d', { drainingSince: ago(0.5), sessions: 0 })] }));
    expect(p.delete).to.deep.equal([]);
    expect(p.requeueAfterMs).to.equal(1500);
  });

  it('keeps a busy draining browser until the drain timeout, then deletes it', () => {
    const busy = plan(input({ spec: resolved({ replicas: 1 }), browsers: [browser('a'), browser('d', { drainingSince: ago(100), sessions: 2 })] }));
    expect(busy.delete).to.deep.equal([]);
    expect(busy.requeueAfterMs).to.equal(10_000);
    const late = plan(input({ spec: resolved({ replicas: 1 }), browsers: [browser('a'), browser('d', { drainingSince: ago(300), sessions: 2 })] }));
    expect(late.delete).to.deep.equal([{ name: 'd', uid: 'uid-d', reason: 'DrainTimeout' }]);
  });

  it('wakes exactly at the drain timeout when that is sooner than the poll', () => {
    const p = plan(input({ spec: resolved({ replicas: 1 }), browsers: [browser('a'), browser('d', { drainingSince: ago(295), sessions: 2 })] }));
    expect(p.requeueAfterMs).to.equal(5000);
  });

  it('deletes a draining browser whose pod died', () => {
    const p = plan(input({ spec: resolved({ replicas: 1 }), browsers: [browser('a'), browser('d', { drainingSince: ago(10), ready: false, sessions: undefined })] }));
    expect(p.delete.map((d) => d.reason)).to.deep.equal(['Failed']);
  });

  it('replaces an expired browser surge-first: creates first, drains only when the new one is Ready', () => {
    const spec = resolved({ replicas: 2, recycle: { maxAgeSeconds: 50, drainTimeoutSeconds: 300, unhealthyAfterSeconds: 60 } });
    const old = [browser('a', { serial: 0, createdAt: ago(100) }), browser('b', { serial: 1, createdAt: ago(20) })];
    const step1 = plan(input({ spec, browsers: old }));
    expect(step1.create).to.have.length(1);
    expect(step1.drain).to.deep.equal([]);
    const starting = browser('c', { serial: 2, createdAt: ago(1), ready: false, everReady: false, readySince: ago(1) });
    const step2 = plan(input({ spec, browsers: [...old, starting] }));
    expect(step2.create).to.deep.equal([]);
    expect(step2.drain).to.deep.equal([]);
    const step3 = plan(input({ spec, browsers: [...old, { ...starting, ready: true, everReady: true }] }));
    expect(step3.drain).to.deep.equal([{ name: 'a', reason: 'MaxAge' }]);
    expect(step3.create).to.deep.equal([]);
  });

  it('rolls a spec change one surge at a time and drains the idlest old browser first', () => {
    const spec = resolved({ replicas: 3 });
    const old = [browser('a', { specHash: 'h0', sessions: 2 }), browser('b', { specHash: 'h0', sessions: 0 }), browser('c', { specHash: 'h0', sessions: 1 })];
    const step1 = plan(input({ spec, browsers: old }));
    expect(step1.create).to.have.length(1);
    expect(step1.drain).to.deep.equal([]);
    const fresh = browser('n1', { serial: 9 });
    const step2 = plan(input({ spec, browsers: [...old, fresh] }));
    expect(step2.drain).to.deep.equal([{ name: 'b', reason: 'SpecChanged' }]);
    expect(step2.create).to.have.length(1);
  });

  it('honours an explicit maxSurge', () => {
    const spec = resolved({ replicas: 4 });
    const old = ['a', 'b', 'c', 'd'].map((n) => browser(n, { specHash: 'h0' }));
    expect(plan(input({ spec, browsers: old, options: { maxSurge: 4 } })).create).to.have.length(4);
    expect(plan(input({ spec, browsers: old })).create).to.have.length(1);
  });

  it('replaces not-ready old-spec browsers at once (they provide no capacity)', () => {
    const spec = resolved({ replicas: 1 });
    const p = plan(input({ spec, browsers: [browser('a', { specHash: 'h0', ready: false, everReady: false, readySince: ago(3) })] }));
    expect(p.delete).to.deep.equal([{ name: 'a', uid: 'uid-a', reason: 'NeverReady' }]);
    expect(p.create).to.have.length(1);
  });

  it('drains a browser unready past unhealthyAfterSeconds and starts a replacement', () => {
    const p = plan(input({ browsers: [browser('a'), browser('sick', { ready: false, readySince: ago(61), sessions: undefined })] }));
    expect(p.drain).to.deep.equal([{ name: 'sick', reason: 'Unhealthy' }]);
    expect(p.create).to.have.length(1);
  });

  it('waits for a briefly unready browser and wakes at the unhealthy threshold', () => {
    const p = plan(input({ browsers: [browser('a'), browser('blip', { ready: false, readySince: ago(50) })] }));
    expect(p.drain).to.deep.equal([]);
    expect(p.create).to.deep.equal([]);
    expect(p.requeueAfterMs).to.equal(10_000);
    const q = plan(input({ browsers: [browser('a', { ready: false, readySince: ago(58) }), browser('b', { ready: false, readySince: ago(58) })] }));
    expect(q.requeueAfterMs).to.equal(2000);
  });

  it('replaces a failed pod (phase Failed) at once', () => {
    const p = plan(input({ browsers: [browser('a'), browser('dead', { phase: 'Failed', ready: false, readySince: ago(1) })] }));
    expect(p.drain).to.deep.equal([{ name: 'dead', reason: 'Unhealthy' }]);
    expect(p.create).to.have.length(1);
  });

  it('drains everything when scaled to zero', () => {
    const p = plan(input({ spec: resolved({ replicas: 0 }), browsers: [browser('a', { sessions: 1 }), browser('b', { specHash: 'h0' })] }));
    expect(p.drain.map((d) => d.name).toSorted()).to.deep.equal(['a', 'b']);
    expect(p.create).to.deep.equal([]);
  });

  describe('demand-driven autoscaling', () => {
    it('keeps ceil((leased + queued) / target) busy browsers plus minIdle idle ones, within [min, max]', () => {
      expect(desiredReplicas(auto(1, 10, 3), [browser('a', { sessions: 7 })]), '3 busy + 1 idle').to.equal(4);
      expect(desiredReplicas(auto(1, 10, 3), [browser('a', { sessions: 0 })]), 'no demand: minIdle').to.equal(1);
      expect(desiredReplicas(auto(1, 10, 3, 3), [browser('a', { sessions: 0 })]), 'minIdle 3').to.equal(3);
      expect(desiredReplicas(auto(1, 10, 3), [browser('a', { sessions: 2 })], 7), 'queued callers count as demand').to.equal(4);
      expect(desiredReplicas(auto(2, 10, 3, 0), []), 'minReplicas').to.equal(2);
      expect(desiredReplicas(auto(1, 4, 1), [browser('a', { sessions: 30 })]), 'maxReplicas').to.equal(4);
      expect(desiredReplicas(auto(1, 10, 3), [browser('a', { sessions: 5, terminating: true })]), 'terminating ones do not count').to.equal(1);
    });

    it('counts leased sessions only, so warm pages cannot make the pool ratchet up', () => {
      // Every browser holds a warm page per server replica but no lease: the pool stays at minIdle + min.
      const warmOnly = [browser('a', { sessions: 0 }), browser('b', { sessions: 0 }), browser('c', { sessions: 0 })];
      expect(desiredReplicas(auto(1, 10, 3), warmOnly)).to.equal(1);
    });

    it('scales to zero with minReplicas 0 and minIdle 0, and back up on the first queued caller', () => {
      expect(desiredReplicas(auto(0, 10, 3, 0), [])).to.equal(0);
      expect(desiredReplicas(auto(0, 10, 3, 0), [], 1)).to.equal(1);
      const cold = plan(input({ spec: auto(0, 10, 3, 0), browsers: [], queued: 1 }));
      expect(cold.create).to.have.length(1);
    });

    it('scales up when busy and looks again within the autoscale poll', () => {
      const p = plan(input({ spec: auto(1, 5, 2), browsers: [browser('a', { serial: 0, sessions: 4 }), browser('b', { serial: 1, sessions: 3 })] }));
      expect(p.desiredReplicas).to.equal(5);
      expect(p.create).to.have.length(3);
      expect(p.requeueAfterMs).to.be.at.most(3000);
    });

    it('ignores spec.replicas when autoscaling is on', () => {
      expect(desiredReplicas(auto(1, 5, 2), [])).to.equal(1);
    });

    it('falls back to minIdle idle browsers after a quiet period: the idle surplus drains', () => {
      const p = plan(input({ spec: auto(0, 10, 3, 1), browsers: ['a', 'b', 'c'].map((n, i) => browser(n, { serial: i, sessions: 0 })) }));
      expect(p.desiredReplicas).to.equal(1);
      expect(p.drain.map((d) => d.reason)).to.deep.equal(['ScaleDown', 'ScaleDown']);
    });
  });

  describe('scale-down never removes a busy browser', () => {
    it('keeps a busy browser drained for scale-down past the drain timeout, and deletes it once its sessions end', () => {
      const spec = resolved({ replicas: 1, recycle: { maxAgeSeconds: 3600, drainTimeoutSeconds: 30, unhealthyAfterSeconds: 60 } });
      const busy = browser('d', { drainingSince: ago(500), drainReason: 'ScaleDown', sessions: 2 });
      const waiting = plan(input({ spec, browsers: [browser('a'), busy] }));
      expect(waiting.delete).to.deep.equal([]);
      const idle = plan(input({ spec, browsers: [browser('a'), { ...busy, sessions: 0 }] }));
      expect(idle.delete).to.deep.equal([{ name: 'd', uid: 'uid-d', reason: 'Drained' }]);
    });

    it('still deletes a busy browser drained for replacement at the drain timeout', () => {
      const spec = resolved({ replicas: 1, recycle: { maxAgeSeconds: 3600, drainTimeoutSeconds: 30, unhealthyAfterSeconds: 60 } });
      const p = plan(input({ spec, browsers: [browser('a'), browser('d', { drainingSince: ago(500), drainReason: 'MaxAge', sessions: 2 })] }));
      expect(p.delete).to.deep.equal([{ name: 'd', uid: 'uid-d', reason: 'DrainTimeout' }]);
    });
  });

  describe('demand that returns while browsers drain', () => {
    const spec = auto(0, 6, 2, 2);
    const scaledDown = (name: string, over: Parameters<typeof browser>[1] = {}) =>
      browser(name, { drainingSince: ago(5), drainReason: 'ScaleDown', ...over });

    it('returns a browser drained for scale-down that holds leases to Ready instead of creating a pod (the lease landed on it after the drain)', () => {
      // Demand fell to zero, the operator drained 'late' (and 'other'); then a server's lease landed on 'late'.
      const browsers = [browser('a', { serial: 0 }), browser('b', { serial: 1 }), scaledDown('late', { serial: 2, sessions: 2 }), scaledDown('other', { serial: 3, sessions: 0 })];
      const p = plan(input({ spec, browsers }));
      expect(p.desiredReplicas, '1 busy + 2 idle').to.equal(3);
      expect(p.undrain).to.deep.equal([{ name: 'late', sessions: 2 }]);
      expect(p.create).to.deep.equal([]);
      expect(p.drain).to.deep.equal([]);
      expect(p.delete.map((d) => d.name), 'the idle one still drains away').to.deep.equal(['other']);
    });

    it('prefers the busiest, then the youngest, and returns no more than demand needs', () => {
      const browsers = [
        scaledDown('old-idle', { createdAt: ago(500), sessions: 0 }),
        scaledDown('young-idle', { createdAt: ago(50), sessions: 0 }),
        scaledDown('busy', { createdAt: ago(900), sessions: 1 }),
      ];
      const p = plan(input({ spec: auto(0, 6, 2, 1), browsers, queued: 1 }));
      // leased 1 + queued 1 → 1 busy browser, + minIdle 1 = 2.
      expect(p.undrain.map((u) => u.name)).to.deep.equal(['busy', 'young-idle']);
      expect(p.create).to.deep.equal([]);
      expect(p.delete.map((d) => d.name)).to.deep.equal(['old-idle']);
    });

    it('creates only what returned browsers do not cover', () => {
      const p = plan(input({ spec, browsers: [scaledDown('back', { serial: 0, sessions: 1 })], queued: 3 }));
      // 1 leased + 3 queued → 2 busy + 2 idle = 4: one returned, three created.
      expect(p.undrain.map((u) => u.name)).to.deep.equal(['back']);
      expect(p.create).to.have.length(3);
    });

    it('never returns a browser drained for recycling, unhealthiness or a spec change', () => {
      for (const reason of ['MaxAge', 'MaxLeases', 'Memory', 'Unhealthy', 'SpecChanged']) {
        const p = plan(input({ spec, browsers: [scaledDown('d', { drainReason: reason, sessions: 2 })] }));
        expect(p.undrain, reason).to.deep.equal([]);
        expect(p.create, reason).to.have.length(3);
      }
      const unknownReason = plan(input({ spec, browsers: [browser('d', { drainingSince: ago(1), sessions: 2 })] }));
      expect(unknownReason.undrain, 'drained by an operator that wrote no reason').to.deep.equal([]);
    });

    it('never returns one now due for recycling or not fit to serve', () => {
      const recycle = { maxAgeSeconds: 3600, drainTimeoutSeconds: 300, unhealthyAfterSeconds: 60, maxLeases: 100, maxMemory: '1Gi' };
      const s = resolved({ autoscaling: { minReplicas: 0, maxReplicas: 6, minIdle: 2, targetSessionsPerBrowser: 2 }, recycle });
      const unfit: Array<[string, Parameters<typeof browser>[1]]> = [
        ['too old', { createdAt: ago(4000) }],
        ['served maxLeases', { leasesServed: 100 }],
        ['over maxMemory', { rssBytes: 2 * 2 ** 30 }],
        ['old spec', { specHash: 'h0' }],
        ['not Ready', { ready: false, readySince: ago(5) }],
        ['pod failed', { phase: 'Failed' }],
        ['gateway not answering', { sessions: undefined }],
        ['terminating', { terminating: true }],
      ];
      for (const [why, over] of unfit) {
        const p = plan(input({ spec: s, browsers: [scaledDown('d', { sessions: 1, ...over })] }));
        expect(p.undrain, why).to.deep.equal([]);
      }
    });

    it('leaves draining browsers alone when the serving ones cover demand', () => {
      const p = plan(input({ spec, browsers: [browser('a'), browser('b'), scaledDown('d', { sessions: 0 })] }));
      expect(p.undrain).to.deep.equal([]);
      expect(p.delete.map((d) => d.name)).to.deep.equal(['d']);
    });

    it('is the same on a fixed-size pool raised again: a browser drained for scale-down comes back before a pod is created', () => {
      const p = plan(input({ spec: resolved({ replicas: 2 }), browsers: [browser('a', { serial: 0 }), scaledDown('d', { serial: 1, sessions: 0 })] }));
      expect(p.undrain.map((u) => u.name)).to.deep.equal(['d']);
      expect(p.create).to.deep.equal([]);
    });
  });

  describe('recycling by leases served and by memory', () => {
    const recycle = { maxAgeSeconds: 3600, drainTimeoutSeconds: 300, unhealthyAfterSeconds: 60 };

    it('replaces a browser that served maxLeases leases, surge-first', () => {
      const spec = resolved({ replicas: 2, recycle: { ...recycle, maxLeases: 100 } });
      const browsers = [browser('worn', { serial: 0, leasesServed: 100 }), browser('fresh', { serial: 1, leasesServed: 3 })];
      const step1 = plan(input({ spec, browsers }));
      expect(step1.create).to.have.length(1);
      expect(step1.drain).to.deep.equal([]);
      const step2 = plan(input({ spec, browsers: [...browsers, browser('new', { serial: 2, leasesServed: 0 })] }));
      expect(step2.drain).to.deep.equal([{ name: 'worn', reason: 'MaxLeases' }]);
    });

    it('replaces a browser whose memory passed maxMemory, surge-first', () => {
      const spec = resolved({ replicas: 1, recycle: { ...recycle, maxMemory: '1Gi' } });
      const step1 = plan(input({ spec, browsers: [browser('fat', { serial: 0, rssBytes: 2 * 2 ** 30 })] }));
      expect(step1.create).to.have.length(1);
      const step2 = plan(input({ spec, browsers: [browser('fat', { serial: 0, rssBytes: 2 * 2 ** 30 }), browser('new', { serial: 1, rssBytes: 2 ** 28 })] }));
      expect(step2.drain).to.deep.equal([{ name: 'fat', reason: 'Memory' }]);
    });

    it('leaves browsers alone when the limits are off or not reached', () => {
      const spec = resolved({ replicas: 1, recycle: { ...recycle, maxLeases: 0 } });
      expect(plan(input({ spec, browsers: [browser('a', { leasesServed: 10_000, rssBytes: 9e9 })] })).create).to.deep.equal([]);
    });
  });
});

describe('classifyBrowser', () => {
  const spec = resolved();
  it('reports Terminating, Draining, Failed, Ready and Starting', () => {
    expect(classifyBrowser(browser('a', { terminating: true }), spec, NOW)).to.equal('Terminating');
    expect(classifyBrowser(browser('a', { drainingSince: ago(1) }), spec, NOW)).to.equal('Draining');
    expect(classifyBrowser(browser('a', { phase: 'Failed' }), spec, NOW)).to.equal('Failed');
    expect(classifyBrowser(browser('a'), spec, NOW)).to.equal('Ready');
    expect(classifyBrowser(browser('a', { ready: false, readySince: ago(10) }), spec, NOW)).to.equal('Starting');
    expect(classifyBrowser(browser('a', { ready: false, readySince: ago(60) }), spec, NOW)).to.equal('Failed');
  });
});
