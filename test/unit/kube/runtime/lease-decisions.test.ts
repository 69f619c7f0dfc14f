import { expect } from 'chai';
import {
  decideLease,
  leaseDurationSeconds,
  lostToAnother,
  nextRecord,
  observe,
  releasedRecord,
  shouldStepDown,
  validateTimings,
  type LeaseRecord,
} from '#kube/runtime/lease-decisions.ts';
import { leaseFromRecord, recordFromLease } from '#kube/runtime/lease-store.ts';

const T0 = Date.UTC(2026, 0, 1);
const held = (holder: string, renewTime = T0): LeaseRecord => ({
  holderIdentity: holder,
  leaseDurationSeconds: 15,
  acquireTime: T0,
  renewTime,
  leaseTransitions: 3,
});

describe('lease decisions', () => {
  it('creates the lease when none exists', () => {
    expect(decideLease(undefined, 'me', T0)).to.deep.equal({ action: 'create' });
  });

  it('renews a lease it holds', () => {
    expect(decideLease(observe(undefined, held('me'), T0), 'me', T0 + 60_000).action).to.equal('renew');
  });

  it('acquires a released lease at once', () => {
    const released = releasedRecord(held('other'), T0);
    expect(decideLease(observe(undefined, released, T0), 'me', T0)).to.deep.equal({ action: 'acquire', reason: 'free' });
  });

  it('waits while another holder keeps the lease fresh, then acquires once it stops changing for the duration', () => {
    let obs = observe(undefined, held('other', T0), T0);
    expect(decideLease(obs, 'me', T0 + 14_999)).to.deep.equal({ action: 'wait', holder: 'other', expiresAt: T0 + 15_000 });
    // the holder renews: a changed record resets the clock
    obs = observe(obs, held('other', T0 + 10_000), T0 + 10_000);
    expect(decideLease(obs, 'me', T0 + 20_000).action).to.equal('wait');
    // reading the same record again does not
    obs = observe(obs, held('other', T0 + 10_000), T0 + 24_000);
    expect(decideLease(obs, 'me', T0 + 24_999).action).to.equal('wait');
    expect(decideLease(obs, 'me', T0 + 25_000)).to.deep.equal({ action: 'acquire', reason: 'expired' });
  });

  it('judges expiry by its own observation time, not by the timestamps written by another clock', () => {
    // renewTime far in the past (skewed clock), but first seen just now: not expired yet
    const obs = observe(undefined, held('other', T0 - 3_600_000), T0);
    expect(decideLease(obs, 'me', T0 + 1000).action).to.equal('wait');
  });

  it('keeps acquireTime and transitions on renewal, and counts a transition on takeover', () => {
    const renewed = nextRecord(held('me'), 'me', T0 + 5000, 15);
    expect(renewed).to.include({ holderIdentity: 'me', acquireTime: T0, renewTime: T0 + 5000, leaseTransitions: 3 });
    const taken = nextRecord(held('other'), 'me', T0 + 5000, 15);
    expect(taken).to.include({ holderIdentity: 'me', acquireTime: T0 + 5000, leaseTransitions: 4 });
    expect(nextRecord(undefined, 'me', T0, 2).leaseTransitions).to.equal(0);
  });

  it('releases with no holder and a 1 s duration', () => {
    expect(releasedRecord(held('me'), T0 + 1)).to.deep.equal({
      holderIdentity: '',
      leaseDurationSeconds: 1,
      acquireTime: T0 + 1,
      renewTime: T0 + 1,
      leaseTransitions: 3,
    });
  });

  it('steps down once renewal has failed for the renew deadline', () => {
    expect(shouldStepDown(T0, T0 + 9_999, 10_000)).to.equal(false);
    expect(shouldStepDown(T0, T0 + 10_000, 10_000)).to.equal(true);
  });

  it('knows it lost the lease when another holder is seen with a valid lease', () => {
    expect(lostToAnother(observe(undefined, held('other'), T0), 'me', T0 + 1)).to.equal(true);
    expect(lostToAnother(observe(undefined, held('me'), T0), 'me', T0 + 1)).to.equal(false);
    expect(lostToAnother(observe(undefined, held('other'), T0), 'me', T0 + 15_000)).to.equal(false);
  });

  it('rejects incoherent timings with a message that says what to change', () => {
    expect(() => validateTimings({ leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 })).not.to.throw();
    expect(() => validateTimings({ leaseDurationMs: 2_000, renewDeadlineMs: 1_500, retryPeriodMs: 300 })).not.to.throw();
    expect(() => validateTimings({ leaseDurationMs: 10_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 })).to.throw(/leaseDurationMs .* must exceed renewDeadlineMs/);
    expect(() => validateTimings({ leaseDurationMs: 15_000, renewDeadlineMs: 2_000, retryPeriodMs: 2_000 })).to.throw(/renewDeadlineMs .* must exceed 1.2/);
    expect(leaseDurationSeconds({ leaseDurationMs: 1500, renewDeadlineMs: 1000, retryPeriodMs: 300 })).to.equal(2);
  });

  it('writes times as V1MicroTime with six fractional digits and reads them back', () => {
    const lease = leaseFromRecord('ns', 'l', held('me', T0 + 123), '42');
    const json = JSON.parse(JSON.stringify(lease)) as { spec: { renewTime: string }; metadata: { resourceVersion: string } };
    expect(json.spec.renewTime).to.equal('2026-01-01T00:00:00.123000Z');
    expect(json.metadata.resourceVersion).to.equal('42');
    expect(recordFromLease(json as never)).to.deep.equal(held('me', T0 + 123));
  });
});
