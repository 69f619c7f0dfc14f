import { expect } from 'chai';
import { canTakeLease, chooseBrowser, type PlacementCandidate } from '#server/browsers/placement.ts';

const b = (id: string, inUse: number, extra: Partial<PlacementCandidate> = {}): PlacementCandidate => ({
  id, healthy: true, draining: false, inUse, cap: 4, ...extra,
});

describe('placement', () => {
  it('chooses the least-loaded browser', () => {
    expect(chooseBrowser([b('a', 3), b('b', 1), b('c', 2)])).to.equal('b');
  });

  it('compares load relative to each browser cap', () => {
    expect(chooseBrowser([b('a', 2, { cap: 4 }), b('b', 3, { cap: 8 })])).to.equal('b');
  });

  it('breaks ties by id so placement is deterministic', () => {
    expect(chooseBrowser([b('b', 1), b('a', 1)])).to.equal('a');
  });

  it('never places on a browser at its cap, unhealthy or draining', () => {
    expect(chooseBrowser([b('full', 4), b('sick', 0, { healthy: false }), b('drain', 0, { draining: true })])).to.equal(undefined);
    expect(canTakeLease(b('full', 4))).to.equal(false);
    expect(canTakeLease(b('ok', 3))).to.equal(true);
  });

  it('avoids a browser that just failed the lease while another can take it', () => {
    expect(chooseBrowser([b('a', 0), b('b', 3)], new Set(['a']))).to.equal('b');
  });

  it('falls back to an avoided browser when it is the only one with room', () => {
    expect(chooseBrowser([b('a', 0), b('b', 4)], new Set(['a']))).to.equal('a');
  });

  it('returns undefined for an empty pool', () => {
    expect(chooseBrowser([])).to.equal(undefined);
  });
});
