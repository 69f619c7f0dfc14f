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

  it('counts the contexts other servers hold on a browser (its gateway\'s report) against its cap', () => {
    expect(canTakeLease(b('shared', 1, { others: 3 }))).to.equal(false);
    expect(canTakeLease(b('shared', 1, { others: 2 }))).to.equal(true);
    expect(chooseBrowser([b('a', 0, { others: 3 }), b('b', 1)]), 'a is busier over all servers').to.equal('b');
  });

  it('lets a lease take its own warm context on a browser that has no room for a new one', () => {
    expect(canTakeLease(b('warm', 2, { others: 1, warm: 1 })), '1 + 2 leases + the warm one = 4').to.equal(true);
    expect(canTakeLease(b('cold', 2, { others: 2, warm: 0 }))).to.equal(false);
    expect(canTakeLease(b('two-warm', 2, { others: 1, warm: 2 })), 'already over: 1 + 2 + 2').to.equal(false);
  });

  it('keeps this server\'s own cap when it is lower than the browser\'s', () => {
    expect(canTakeLease(b('mine-full', 1, { cap: 4, ownCap: 1 }))).to.equal(false);
    expect(canTakeLease(b('room', 0, { cap: 4, ownCap: 1, others: 3 }))).to.equal(true);
  });

  it('does not count warm contexts as load', () => {
    expect(chooseBrowser([b('a', 1, { warm: 1 }), b('b', 1, { others: 1 })])).to.equal('a');
  });
});
