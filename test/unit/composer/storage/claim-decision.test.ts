import { expect } from 'chai';
import { decideClaim, expiredObjects, staleClaimAfterMs } from '#server/composer/storage/claim-decision.ts';
import { idempotencyObjectName } from '#server/composer/storage/kubernetes-idempotency-store.ts';

const T0 = Date.parse('2026-11-25T03:00:00.000Z');
const STALE = 60_000;

describe('idempotency claim decision', () => {
  it('answers done with the stored uid and content when the claimer wrote its uid, however old the claim', () => {
    const decision = decideClaim({ uid: 'H4sI-abc', contentKey: 'sha256:aa', createdAt: new Date(T0 - 10 * STALE).toISOString(), resourceVersion: '7' }, T0, STALE);
    expect(decision).to.deep.equal({ action: 'done', uid: 'H4sI-abc', contentKey: 'sha256:aa' });
  });

  it('waits on a claim without a uid younger than the stale age, reporting the content being saved', () => {
    expect(decideClaim({ contentKey: 'sha256:bb', createdAt: new Date(T0 - STALE + 1).toISOString(), resourceVersion: '7' }, T0, STALE)).to.deep.equal({ action: 'wait', contentKey: 'sha256:bb' });
    // A claimer whose clock runs a little ahead still counts as live.
    expect(decideClaim({ contentKey: 'sha256:bb', createdAt: new Date(T0 + 5_000).toISOString(), resourceVersion: '7' }, T0, STALE).action).to.equal('wait');
  });

  it('reports a claim without a uid as old as the stale age as an unknown outcome (its claimer may have sent the upload), and takes it over only when told to', () => {
    const stale = { contentKey: 'sha256:bb', createdAt: new Date(T0 - STALE).toISOString(), resourceVersion: '42' };
    expect(decideClaim(stale, T0, STALE)).to.deep.equal({ action: 'unknown', contentKey: 'sha256:bb', since: stale.createdAt, fileName: '' });
    expect(decideClaim(stale, T0, STALE, true)).to.deep.equal({ action: 'take-over', resourceVersion: '42' });
  });

  it('never waits forever on a claim whose createdAt is unreadable: unknown, or a takeover when told to', () => {
    expect(decideClaim({ contentKey: 'sha256:bb', createdAt: 'yesterday', resourceVersion: '3' }, T0, STALE).action).to.equal('unknown');
    expect(decideClaim({ contentKey: 'sha256:bb', createdAt: 'yesterday', resourceVersion: '3' }, T0, STALE, true)).to.deep.equal({ action: 'take-over', resourceVersion: '3' });
  });

  it('keeps a claim marked unknown unknown however young it is, with when and under which file name it was sent', () => {
    const marked = { contentKey: 'sha256:cc', createdAt: new Date(T0 - 1_000).toISOString(), outcome: 'unknown', unknownSince: '2026-11-25T02:59:59.000Z', fileName: 'composition-ab.rdpcomposer', resourceVersion: '9' };
    expect(decideClaim(marked, T0, STALE)).to.deep.equal({ action: 'unknown', contentKey: 'sha256:cc', since: '2026-11-25T02:59:59.000Z', fileName: 'composition-ab.rdpcomposer' });
    expect(decideClaim(marked, T0, STALE, true)).to.deep.equal({ action: 'take-over', resourceVersion: '9' });
    expect(decideClaim({ ...marked, uid: 'H4sI-done' }, T0, STALE).action).to.equal('done');
  });

  it('counts a claim stale only after every upload attempt, the backoff and a margin could have run', () => {
    expect(staleClaimAfterMs(15_000, 2, 4_000)).to.equal(15_000 * 3 + 4_000 * 2 + 10_000);
    expect(staleClaimAfterMs(1_000, 0, 4_000, 0)).to.equal(1_000);
  });
});

describe('idempotency record expiry', () => {
  const at = (ms: number) => new Date(T0 - ms).toISOString();
  const items = [
    { name: 'fresh', createdAt: at(1_000), resourceVersion: '1' },
    { name: 'old', createdAt: at(90_000), resourceVersion: '2' },
    { name: 'older', createdAt: at(120_000), resourceVersion: '3' },
    { name: 'exactly-ttl', createdAt: at(60_000), resourceVersion: '4' },
    { name: 'foreign', createdAt: undefined, resourceVersion: '5' },
    { name: 'garbled', createdAt: 'not a date', resourceVersion: '6' },
  ];

  it('selects only records at least the TTL old, oldest first, never ones without a readable createdAt', () => {
    expect(expiredObjects(items, T0, 60_000, 100).map((i) => i.name)).to.deep.equal(['older', 'old', 'exactly-ttl']);
  });

  it('bounds the work of one sweep', () => {
    expect(expiredObjects(items, T0, 60_000, 2).map((i) => i.name)).to.deep.equal(['older', 'old']);
    expect(expiredObjects(items, T0, 60_000, 0)).to.deep.equal([]);
  });
});

describe('idempotency object name', () => {
  it('is composer-mcp-save- plus 40 hex of the key digest: a valid ConfigMap name, distinct per key, stable', () => {
    const a = idempotencyObjectName('https://api.example\nconnector-1\nsha256:aa');
    expect(a).to.match(/^composer-mcp-save-[0-9a-f]{40}$/);
    expect(a.length).to.be.at.most(63);
    expect(idempotencyObjectName('https://api.example\nconnector-1\nsha256:aa')).to.equal(a);
    expect(idempotencyObjectName('https://api.example\nconnector-2\nsha256:aa')).to.not.equal(a);
  });
});
