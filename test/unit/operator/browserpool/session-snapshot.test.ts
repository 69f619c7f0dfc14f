import { expect } from 'chai';
import { snapshotServes, type SessionSnapshot } from '#operator/controllers/browserpool/session-snapshot.ts';

const snapshot = (askedAt: number, keys: string[]): SessionSnapshot => ({ askedAt, loads: new Map(keys.map((k) => [k, { leased: 1 }])) });

describe('a pool\'s gateway loads come from one round of reads (session-snapshot)', () => {
  it('serves a reconcile while younger than the reuse period and covering every browser it needs', () => {
    expect(snapshotServes(snapshot(1000, ['a', 'b']), ['a', 'b'], 1999, 1000)).to.equal(true);
    expect(snapshotServes(snapshot(1000, ['a', 'b']), ['b'], 1500, 1000), 'a browser gone (not Ready): the rest still from one round').to.equal(true);
    expect(snapshotServes(snapshot(1000, ['a']), [], 1500, 1000)).to.equal(true);
  });

  it('ages from when its reads were asked: a slow answer does not make the round younger', () => {
    expect(snapshotServes(snapshot(1000, ['a', 'b']), ['a', 'b'], 2000, 1000)).to.equal(false);
  });

  it('is read again, every browser together, when a browser it did not read is needed (never topped up with one newer read)', () => {
    expect(snapshotServes(snapshot(1000, ['a']), ['a', 'b'], 1100, 1000)).to.equal(false);
  });

  it('is not reused with no snapshot, a zero reuse period, or a clock that went back', () => {
    expect(snapshotServes(undefined, ['a'], 1000, 1000)).to.equal(false);
    expect(snapshotServes(snapshot(1000, ['a']), ['a'], 1000, 0)).to.equal(false);
    expect(snapshotServes(snapshot(1000, ['a']), ['a'], 900, 1000)).to.equal(false);
  });
});
