import { expect } from 'chai';
import {
  recommendationsInWindow, recordRecommendation, stabilizedReplicas, type Recommendation,
} from '#operator/controllers/browserpool/scale-down-stabilization.ts';
import { plan, type PlanInput } from '#operator/controllers/browserpool/plan.ts';
import { NOW, ago, browser, resolved } from './fixtures.ts';

const at = (secondsAgo: number, replicas: number): Recommendation => ({ atMs: NOW.getTime() - secondsAgo * 1000, replicas });
const bounds = { minReplicas: 0, maxReplicas: 10 };

describe('scale-down stabilisation (the HorizontalPodAutoscaler\'s behavior.scaleDown.stabilizationWindowSeconds)', () => {
  describe('stabilizedReplicas', () => {
    it('scales up at once, whatever the window holds', () => {
      expect(stabilizedReplicas({ recommended: 5, current: 2, recent: [at(10, 3), at(5, 1)], ...bounds })).to.equal(5);
      expect(stabilizedReplicas({ recommended: 3, current: 3, recent: [at(10, 8)], ...bounds }), 'as many as serve: no change').to.equal(3);
    });

    it('scales down only to the highest recommendation of the window', () => {
      expect(stabilizedReplicas({ recommended: 1, current: 4, recent: [at(50, 3), at(20, 2)], ...bounds })).to.equal(3);
      expect(stabilizedReplicas({ recommended: 1, current: 4, recent: [], ...bounds }), 'an empty window: at once').to.equal(1);
      expect(stabilizedReplicas({ recommended: 2, current: 4, recent: [at(20, 1)], ...bounds }), 'never below what demand asks now').to.equal(2);
    });

    it('never scales up to an old recommendation: the answer lies between the recommendation and what serves', () => {
      expect(stabilizedReplicas({ recommended: 1, current: 2, recent: [at(30, 6)], ...bounds })).to.equal(2);
    });

    it('keeps within the bounds a window made under older ones', () => {
      expect(stabilizedReplicas({ recommended: 2, current: 6, recent: [at(30, 6)], minReplicas: 0, maxReplicas: 4 })).to.equal(4);
      expect(stabilizedReplicas({ recommended: 3, current: 3, recent: [], minReplicas: 4, maxReplicas: 8 })).to.equal(4);
    });

    it('holds a pool whose demand oscillates around a boundary at the higher count, then lets it go once the window passes', () => {
      // Recommendations flip 3, 2, 3, 2... every 5 s; with a 30 s window the pool stays at 3 and never drains.
      let history: Recommendation[] = [];
      let current = 0;
      const decided: number[] = [];
      for (let t = 0; t <= 120; t += 5) {
        const nowMs = t * 1000;
        const recommended = t <= 60 ? (t % 10 === 0 ? 3 : 2) : 1;
        const desired = stabilizedReplicas({ recommended, current, recent: recommendationsInWindow(history, nowMs, 30), ...bounds });
        history = recordRecommendation(history, nowMs, 30, recommended);
        decided.push(desired);
        current = desired;
      }
      const flips = decided.slice(1).filter((d, i) => d !== decided[i]).length;
      expect(decided.slice(0, 13), 'while demand oscillates (0..60 s)').to.deep.equal(Array(13).fill(3));
      expect(decided.at(-1), 'demand fell to 1 at 65 s; the last 3 (at 60 s) left the window after 90 s').to.equal(1);
      expect(decided[18], 'at 90 s the 60 s recommendation is still inside the window (its start counts)').to.equal(3);
      expect(flips, 'one step down, no flapping').to.equal(1);
    });
  });

  describe('the history kept', () => {
    it('keeps only what can still be the highest of a later window: strictly decreasing, bounded however often it is called', () => {
      let history: Recommendation[] = [];
      for (let i = 0; i < 10_000; i++) history = recordRecommendation(history, i * 100, 60, [4, 2, 3, 1][i % 4]!);
      expect(history.map((r) => r.replicas)).to.deep.equal([4, 3, 1]);
      expect(history.length).to.be.at.most(4);
    });

    it('forgets recommendations older than the window', () => {
      const history = recordRecommendation([{ atMs: 0, replicas: 9 }, { atMs: 50_000, replicas: 5 }], 61_000, 60, 2);
      expect(history).to.deep.equal([{ atMs: 50_000, replicas: 5 }, { atMs: 61_000, replicas: 2 }]);
      expect(recommendationsInWindow(history, 61_000, 0), 'a window of 0 s holds only this instant').to.deep.equal([{ atMs: 61_000, replicas: 2 }]);
    });
  });

  describe('in the plan', () => {
    const spec = resolved({ replicas: 1, autoscaling: { minReplicas: 1, maxReplicas: 6, minIdle: 1, targetSessionsPerBrowser: 2 } });
    const input = (over: Partial<PlanInput>): PlanInput => ({ poolName: 'pool', poolUid: 'u1', spec, specHash: 'h1', browsers: [], now: NOW, ...over });
    const four = ['a', 'b', 'c', 'd'].map((n, i) => browser(n, { serial: i, sessions: n === 'a' ? 1 : 0 }));

    it('drains nothing while the window holds a higher recommendation, and reports both numbers', () => {
      const p = plan(input({ browsers: four, recentRecommendations: [at(20, 4)] }));
      expect(p.recommendedReplicas, '1 leased → 1 busy + 1 idle').to.equal(2);
      expect(p.desiredReplicas).to.equal(4);
      expect(p.drain).to.deep.equal([]);
      expect(p.create).to.deep.equal([]);
    });

    it('drains down to the highest recommendation left in the window', () => {
      const p = plan(input({ browsers: four, recentRecommendations: [at(20, 3)] }));
      expect(p.desiredReplicas).to.equal(3);
      expect(p.drain.map((d) => d.reason)).to.deep.equal(['ScaleDown']);
    });

    it('counts neither draining nor failed browsers as serving: demand rising again returns a drained one at once', () => {
      const drained = browser('d', { serial: 3, drainingSince: ago(5), drainReason: 'ScaleDown', sessions: 0 });
      const p = plan(input({ browsers: [browser('a', { serial: 0, sessions: 3 }), browser('b', { serial: 1 }), drained], recentRecommendations: [at(20, 2)] }));
      // 3 leased → 2 busy + 1 idle = 3 > the 2 serving: up at once, by returning the drained browser.
      expect(p.desiredReplicas).to.equal(3);
      expect(p.undrain.map((u) => u.name)).to.deep.equal(['d']);
    });

    it('changes nothing without autoscaling or without a history (the caller keeps none)', () => {
      const fixed = plan(input({ spec: resolved({ replicas: 2 }), browsers: four, recentRecommendations: [at(1, 4)] }));
      expect(fixed.desiredReplicas).to.equal(2);
      expect(fixed.recommendedReplicas).to.equal(2);
      const noHistory = plan(input({ browsers: four }));
      expect(noHistory.desiredReplicas).to.equal(2);
    });
  });
});
