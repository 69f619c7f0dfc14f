import { expect } from 'chai';
import { decideReadiness } from '#kube/runtime/health.ts';

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
});
