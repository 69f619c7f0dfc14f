import { expect } from 'chai';
import { IdempotencyStoreFullError, LruIdempotencyStore } from '#server/composer/storage/idempotency-store.ts';
import { classifyUploadAnswer, classifyUploadFailure, redirectOrigin } from '#server/composer/storage/upload-outcome.ts';

const answer = (status: number, body = '', location?: string) => classifyUploadAnswer({ status, body, location });

describe('the outcome of one upload attempt', () => {
  it('is stored only with a uid in a 2xx answer; a 2xx without one is unknown (accepted, uid lost)', () => {
    expect(answer(200, '{"uid":"H4sIabc"}')).to.deep.equal({ kind: 'stored', uid: 'H4sIabc' });
    expect(answer(201, 'not json').kind).to.equal('unknown');
    expect(answer(200, '{"uid":""}').kind).to.equal('unknown');
  });

  it('may be repeated only when the platform refused it with a retryable status', () => {
    for (const status of [500, 503, 429, 408]) expect(answer(status), String(status)).to.include({ kind: 'refused', retry: true });
    for (const status of [400, 401, 403, 404, 413]) expect(answer(status), String(status)).to.include({ kind: 'refused', retry: false });
  });

  it('is unknown after a gateway lost the answer (502, 504) and after a redirect that may follow processing', () => {
    expect(answer(502).kind).to.equal('unknown');
    expect(answer(504).kind).to.equal('unknown');
    expect(answer(303, '', 'https://api.example/result').kind).to.equal('unknown');
    expect(answer(307, '', 'https://elsewhere.example/x')).to.include({ kind: 'refused', retry: false, redirect: 'https://elsewhere.example/x' });
  });

  it('is refused (repeatable) when the request never left, and unknown once it was sent', () => {
    expect(classifyUploadFailure({ phase: 'not-sent', reason: 'network', message: 'ECONNREFUSED' })).to.include({ kind: 'refused', retry: true });
    expect(classifyUploadFailure({ phase: 'not-sent', reason: 'cancelled', message: 'cancelled' })).to.include({ kind: 'refused', retry: false });
    expect(classifyUploadFailure({ phase: 'sent', reason: 'timeout', message: 'no answer within 60000 ms' }).kind).to.equal('unknown');
    expect(classifyUploadFailure({ phase: 'sent', reason: 'network', message: 'ECONNRESET' }).kind).to.equal('unknown');
    expect(classifyUploadFailure({ phase: 'sent', reason: 'cancelled', message: 'cancelled' }).kind).to.equal('unknown');
  });

  it('names only the origin of a redirect target in messages', () => {
    expect(redirectOrigin('https://evil.example/steal?token=x', 'https://api.example')).to.equal('https://evil.example');
    expect(redirectOrigin('/relative', 'https://api.example')).to.equal('https://api.example');
    expect(redirectOrigin(undefined, 'https://api.example')).to.equal('an unnamed location');
  });
});

describe('the in-memory idempotency store', () => {
  const unknown = { contentKey: 'sha256:aa', since: '2026-12-01T00:00:00.000Z', fileName: 'composition-x.rdpcomposer' };

  it('claims, refuses a second claim while uploading, and answers done once the uid is set', async () => {
    const store = new LruIdempotencyStore();
    expect(await store.claim('k', 'sha256:aa')).to.deep.equal({ kind: 'claimed' });
    expect(await store.claim('k', 'sha256:aa')).to.deep.equal({ kind: 'in-progress', contentKey: 'sha256:aa' });
    await store.set('k', { uid: 'H4sI1', contentKey: 'sha256:aa' });
    expect(await store.claim('k', 'sha256:aa')).to.deep.equal({ kind: 'done', record: { uid: 'H4sI1', contentKey: 'sha256:aa' } });
  });

  it('keeps an unknown outcome pending until a claim with retryUnknown, and frees a released claim', async () => {
    const store = new LruIdempotencyStore();
    await store.claim('k', 'sha256:aa');
    await store.markUnknown('k', unknown);
    expect(await store.claim('k', 'sha256:aa')).to.deep.equal({ kind: 'unknown', unknown });
    expect(await store.get('k')).to.equal(undefined);
    expect(await store.claim('k', 'sha256:aa', { retryUnknown: true })).to.deep.equal({ kind: 'claimed' });
    await store.release('k');
    expect(await store.claim('k', 'sha256:aa')).to.deep.equal({ kind: 'claimed' });
  });

  it('makes room by evicting settled keys only: a save uploading or with an unknown outcome is never forgotten; when only those are left, a new key is refused', async () => {
    const store = new LruIdempotencyStore(2);
    await store.claim('unknown', 'sha256:aa');
    await store.markUnknown('unknown', unknown);
    await store.claim('uploading', 'sha256:bb');
    const refused = await store.claim('new', 'sha256:cc').then(() => undefined, (e: unknown) => e);
    expect(refused).to.be.instanceOf(IdempotencyStoreFullError);
    expect(refused).to.deep.include({ store: 'memory', reason: 'cap', limit: 2, held: 2, pending: 2 });
    // Nothing was lost or changed by the refusal.
    expect(await store.claim('unknown', 'sha256:aa')).to.deep.equal({ kind: 'unknown', unknown });
    expect(await store.claim('uploading', 'sha256:bb')).to.deep.equal({ kind: 'in-progress', contentKey: 'sha256:bb' });
    expect(store.size).to.equal(2);
    // Once the upload has its uid, that settled key is what makes room.
    await store.set('uploading', { uid: 'H4sIb', contentKey: 'sha256:bb' });
    expect(await store.claim('new', 'sha256:cc')).to.deep.equal({ kind: 'claimed' });
    expect(await store.get('uploading')).to.equal(undefined);
    expect(await store.claim('unknown', 'sha256:aa')).to.deep.equal({ kind: 'unknown', unknown });
  });

  it('evicts the least recently used finished keys, never a claim under way', async () => {
    const store = new LruIdempotencyStore(2);
    await store.claim('uploading', 'sha256:aa');
    await store.set('a', { uid: 'A', contentKey: 'x' });
    await store.set('b', { uid: 'B', contentKey: 'x' });
    expect(store.size).to.equal(2);
    expect(await store.claim('uploading', 'sha256:aa')).to.deep.equal({ kind: 'in-progress', contentKey: 'sha256:aa' });
    expect(await store.get('a')).to.equal(undefined);
    expect(await store.get('b')).to.deep.equal({ uid: 'B', contentKey: 'x' });
  });
});

describe('reachability of the Composer and its API', () => {
  it('calls an answer within the limit ok, a later one slow, a 5xx failing, whatever the latency', async () => {
    const { answeredState, describeReachability } = await import('#server/composer/storage/reachability.ts');
    expect(answeredState(404, 20, 1_000)).to.equal('ok');
    expect(answeredState(200, 2_000, 1_000)).to.equal('slow');
    expect(answeredState(503, 20, 1_000)).to.equal('failing');
    expect(describeReachability({ url: 'u', state: 'slow', reachable: true, status: 404, latencyMs: 2013 })).to.contain('slow').and.to.contain('2013 ms');
    expect(describeReachability({ url: 'u', state: 'timeout', reachable: false, latencyMs: 5001 })).to.contain('not answering within 5000 ms');
  });
});
