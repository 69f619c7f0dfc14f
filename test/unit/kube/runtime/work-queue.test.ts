import { expect } from 'chai';
import { FakeClock, flushMicrotasks } from '#support/fake-clock.ts';
import { WorkQueue } from '#kube/runtime/work-queue.ts';
import {
  ExponentialBackoffRateLimiter,
  TokenBucketRateLimiter,
  defaultControllerRateLimiter,
} from '#kube/runtime/rate-limiter.ts';

/** Resolves to the key if `get()` answered within the current turn, else 'pending'. */
function getNow(queue: WorkQueue): Promise<string | undefined | 'pending'> {
  return Promise.race([queue.get(), flushMicrotasks().then(() => 'pending' as const)]);
}

describe('WorkQueue', () => {
  let clock: FakeClock;
  let queue: WorkQueue;

  beforeEach(() => {
    clock = new FakeClock();
    queue = new WorkQueue({ clock });
  });

  afterEach(() => {
    // Not awaited: some tests leave keys in flight on purpose; shutting down still ends idle getters.
    void queue.shutDown({ discardQueued: true });
  });

  it('holds a key once however often it is added before being handed out', async () => {
    queue.add('ns/a');
    queue.add('ns/b');
    queue.add('ns/a');
    expect(queue.len()).to.equal(2);
    expect(await queue.get()).to.equal('ns/a');
    expect(await queue.get()).to.equal('ns/b');
    expect(await getNow(queue)).to.equal('pending');
  });

  it('never hands out a key that is being processed; a re-add while processing is queued again on done', async () => {
    queue.add('ns/a');
    const key = await queue.get();
    expect(key).to.equal('ns/a');
    queue.add('ns/a');
    queue.add('ns/a');
    expect(queue.len()).to.equal(0);
    const second = queue.get();
    expect(await Promise.race([second, flushMicrotasks().then(() => 'pending')])).to.equal('pending');
    queue.done('ns/a');
    expect(await second).to.equal('ns/a');
    queue.done('ns/a');
    expect(queue.len()).to.equal(0);
    expect(queue.inFlight()).to.equal(0);
  });

  it('wakes a waiting getter when a key arrives', async () => {
    const waiting = queue.get();
    queue.add('ns/x');
    expect(await waiting).to.equal('ns/x');
    expect(queue.inFlight()).to.equal(1);
  });

  it('delays addAfter keys and hands them out in due order, earliest delay winning', async () => {
    queue.addAfter('late', 300);
    queue.addAfter('early', 100);
    queue.addAfter('late', 50);
    queue.addAfter('early', 500);
    expect(queue.len()).to.equal(0);
    clock.advance(49);
    expect(queue.len()).to.equal(0);
    clock.advance(1);
    expect(queue.len()).to.equal(1);
    clock.advance(50);
    expect(queue.len()).to.equal(2);
    expect(await queue.get()).to.equal('late');
    expect(await queue.get()).to.equal('early');
    clock.advance(1000);
    expect(queue.len()).to.equal(0);
  });

  it('backs a failing key off exponentially from 5 ms, and forget starts it over', async () => {
    const delays: number[] = [];
    for (let i = 0; i < 5; i++) {
      const before = clock.now();
      queue.addRateLimited('ns/a');
      while (queue.len() === 0) clock.advance(1);
      delays.push(clock.now() - before);
      await queue.get();
      queue.done('ns/a');
    }
    expect(delays).to.deep.equal([5, 10, 20, 40, 80]);
    expect(queue.numRequeues('ns/a')).to.equal(5);
    queue.forget('ns/a');
    expect(queue.numRequeues('ns/a')).to.equal(0);
    queue.addRateLimited('ns/a');
    clock.advance(4);
    expect(queue.len()).to.equal(0);
    clock.advance(1);
    expect(queue.len()).to.equal(1);
  });

  it('caps the per-key backoff at the ceiling', () => {
    const limiter = new ExponentialBackoffRateLimiter();
    const delays = Array.from({ length: 40 }, () => limiter.when('k'));
    expect(delays[0]).to.equal(5);
    expect(Math.max(...delays)).to.equal(1_000_000);
    expect(delays.at(-1)).to.equal(1_000_000);
    const custom = new ExponentialBackoffRateLimiter({ baseMs: 100, maxMs: 1000 });
    expect(Array.from({ length: 6 }, () => custom.when('k'))).to.deep.equal([100, 200, 400, 800, 1000, 1000]);
    expect(custom.when('other')).to.equal(100);
  });

  it('rejects a nonsensical backoff configuration with a clear message', () => {
    expect(() => new ExponentialBackoffRateLimiter({ baseMs: 0 })).to.throw(RangeError, /baseMs/);
    expect(() => new TokenBucketRateLimiter(clock, { qps: 0 })).to.throw(RangeError, /qps/);
  });

  it('limits overall retries with a token bucket: burst free, then qps', () => {
    const bucket = new TokenBucketRateLimiter(clock, { qps: 10, burst: 3 });
    expect([bucket.when('a'), bucket.when('b'), bucket.when('c')]).to.deep.equal([0, 0, 0]);
    expect(bucket.when('d')).to.equal(100);
    expect(bucket.when('e')).to.equal(200);
    clock.advance(250);
    // 2.5 tokens refilled repay the 2 borrowed: half a token left, so the next waits 50 ms
    expect(bucket.when('f')).to.equal(50);
    clock.advance(10_000);
    // refill is capped at the burst
    expect([bucket.when('g'), bucket.when('h'), bucket.when('i'), bucket.when('j')]).to.deep.equal([0, 0, 0, 100]);
  });

  it('combines backoff and bucket as the max of both (client-go default 10 qps, burst 100)', () => {
    const limiter = defaultControllerRateLimiter(clock);
    const delays = Array.from({ length: 101 }, (_, i) => limiter.when(`key-${i}`));
    expect(delays.slice(0, 100).every((d) => d === 5)).to.equal(true);
    expect(delays[100]).to.equal(100);
    limiter.forget('key-0');
    expect(limiter.numRequeues('key-0')).to.equal(0);
    expect(limiter.numRequeues('key-1')).to.equal(1);
  });

  it('shutDown stops accepting keys, cancels delays, waits for in-flight work and ends getters', async () => {
    queue.add('a');
    queue.add('b');
    queue.addAfter('c', 100);
    const a = await queue.get();
    let drained = false;
    const shutdown = queue.shutDown().then(() => (drained = true));
    queue.add('d');
    clock.advance(200);
    expect(queue.len()).to.equal(1);
    expect(await queue.get()).to.equal('b');
    queue.done('b');
    await flushMicrotasks();
    expect(drained).to.equal(false);
    queue.done(a as string);
    await shutdown;
    expect(drained).to.equal(true);
    expect(await queue.get()).to.equal(undefined);
  });

  it('shutDown can discard queued keys, and wakes idle getters with undefined', async () => {
    const idle = queue.get();
    queue.add('x');
    expect(await idle).to.equal('x');
    queue.add('y');
    queue.add('x');
    const idle2 = queue.get();
    expect(await idle2).to.equal('y');
    const idle3 = queue.get();
    const shutdown = queue.shutDown({ discardQueued: true });
    expect(await idle3).to.equal(undefined);
    queue.done('x');
    queue.done('y');
    await shutdown;
    expect(queue.len()).to.equal(0);
    expect(await queue.get()).to.equal(undefined);
  });

  it('reports depth, adds, latency, work duration and retries to its metrics hooks', async () => {
    const seen = { adds: 0, depth: [] as number[], latency: [] as number[], work: [] as number[], retries: 0 };
    const q = new WorkQueue({
      clock,
      metrics: {
        onAdd: () => seen.adds++,
        onDepth: (d) => seen.depth.push(d),
        onLatency: (ms) => seen.latency.push(ms),
        onWorkDuration: (ms) => seen.work.push(ms),
        onRetry: () => seen.retries++,
      },
    });
    q.add('a');
    q.add('b');
    clock.advance(30);
    const key = await q.get();
    clock.advance(70);
    q.done(key as string);
    q.addRateLimited('a');
    expect(seen.adds).to.equal(2);
    expect(seen.depth).to.deep.equal([1, 2, 1]);
    expect(seen.latency).to.deep.equal([30]);
    expect(seen.work).to.deep.equal([70]);
    expect(seen.retries).to.equal(1);
    await q.shutDown({ discardQueued: true });
  });
});
