import { expect } from 'chai';
import { credentialsDigest, ReservedLookAlikes } from '#server/composer/broker/reserved-look-alikes.ts';
import { seedNeeded, sessionEntries } from '#server/composer/session/session-seed.ts';

const REAL = { accessToken: 'real-token-0123456789', projectKey: 'real-key-42' };

describe('look-alikes reserved for a warm page before its lease', () => {
  const reservation = (onDiscard: (r: ReservedLookAlikes) => void = () => undefined) => new ReservedLookAlikes({ token: 'fake-token-9876543210', projectKey: 'fake-key-24', mintedFrom: credentialsDigest(REAL) }, onDiscard);

  it('binds once, to a lease of the same real credentials; never again after that', () => {
    const reserved = reservation();
    expect(reserved.bind(REAL)).to.equal(true);
    expect(reserved.bind(REAL), 'never bound to a second lease').to.equal(false);
    expect(reserved.reserved).to.equal(false);
  });

  it('is not bound to a lease whose real credentials differ (a rotation since it was minted), and is discarded then', () => {
    const discarded: ReservedLookAlikes[] = [];
    const reserved = reservation((r) => discarded.push(r));
    expect(reserved.bind({ ...REAL, accessToken: 'rotated-token-0123456' })).to.equal(false);
    expect(reserved.bind({ ...REAL, projectKey: 'other-key-77' })).to.equal(false);
    expect(discarded).to.deep.equal([reserved]);
    expect(reserved.bind(REAL), 'a discarded reservation is never bound').to.equal(false);
  });

  it('a discard after binding changes nothing (the page of a lease closes with it)', () => {
    const discarded: ReservedLookAlikes[] = [];
    const reserved = reservation((r) => discarded.push(r));
    reserved.bind(REAL);
    reserved.discard();
    expect(discarded).to.deep.equal([]);
  });

  it('keeps a digest of the real credentials, never the values', () => {
    const reserved = reservation();
    expect(JSON.stringify(reserved)).to.not.include(REAL.accessToken).and.not.include(REAL.projectKey);
    expect(credentialsDigest(REAL)).to.not.equal(credentialsDigest({ accessToken: REAL.accessToken, projectKey: undefined }));
  });

  it('the lease seeds its page only when it does not hold exactly the lease\'s entries already', () => {
    const entries = sessionEntries({ accessToken: 'fake-token-9876543210', projectKey: 'fake-key-24', connectorUid: 'c1' });
    expect(seedNeeded(undefined, entries), 'not seeded ahead').to.equal(true);
    expect(seedNeeded({ ...entries }, entries), 'its bound look-alikes').to.equal(false);
    expect(seedNeeded(sessionEntries({ accessToken: 'other-token', projectKey: 'fake-key-24', connectorUid: 'c1' }), entries), 'other look-alikes').to.equal(true);
    expect(seedNeeded({ ...entries, extra: 'x' }, entries)).to.equal(true);
  });
});
