import { expect } from 'chai';
import { FakeClock } from '#operator/runtime/clock.ts';
import { OperatorHealth, decideLiveness, decideReadiness } from '#operator/runtime/health.ts';
import type { ControllerHealth } from '#operator/runtime/controller.ts';

const fine: ControllerHealth = { started: true, stopping: false, workersAlive: 2, oldestReconcileMs: 10, wedged: false };

describe('operator health decisions', () => {
  it('is not ready until every cache synced, naming the ones missing', () => {
    expect(decideReadiness({ unsyncedCaches: ['pods', 'secrets'] })).to.deep.equal({
      ok: false,
      detail: 'caches not synced: pods, secrets',
    });
    expect(decideReadiness({ unsyncedCaches: [] }).ok).to.equal(true);
  });

  it('is ready when leading, or standing by with a reachable Lease', () => {
    const election = { leading: false, running: true, sinceLastContactMs: 1000, maxContactAgeMs: 15_000 };
    expect(decideReadiness({ unsyncedCaches: [], election: { ...election, leading: true } })).to.deep.equal({ ok: true, detail: 'leading' });
    expect(decideReadiness({ unsyncedCaches: [], election })).to.deep.equal({ ok: true, detail: 'standing by' });
    expect(decideReadiness({ unsyncedCaches: [], election: { ...election, sinceLastContactMs: 20_000 } }).detail).to.match(/cannot reach its Lease/);
    expect(decideReadiness({ unsyncedCaches: [], election: { ...election, running: false } }).ok).to.equal(false);
  });

  it('is live unless a controller is wedged, and says which', () => {
    expect(decideLiveness([{ name: 'pools', health: fine }])).to.deep.equal({ ok: true });
    const wedged = { ...fine, wedged: true, oldestReconcileMs: 400_000 };
    expect(decideLiveness([{ name: 'pools', health: wedged }])).to.deep.equal({
      ok: false,
      detail: 'wedged controllers: pools: 2 workers alive, oldest reconcile 400 s',
    });
  });

  it('reads informers, elector and controllers into checks for the health registry', () => {
    const clock = new FakeClock();
    let synced = false;
    const health = new OperatorHealth({
      clock,
      informers: [{ name: 'pods', hasSynced: () => synced }],
      elector: {
        timings: { leaseDurationMs: 15_000 },
        status: () => ({ leading: false, leader: 'other', running: true, lastContactAt: clock.now() - 2000 }),
      },
      controllers: [{ name: 'pools', health: () => fine }],
    });
    expect(health.readiness()).to.deep.equal({ ok: false, detail: 'caches not synced: pods' });
    synced = true;
    expect(health.readiness()).to.deep.equal({ ok: true, detail: 'standing by' });
    expect(health.liveness()).to.deep.equal({ ok: true });
  });
});
