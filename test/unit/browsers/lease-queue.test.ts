import { expect } from 'chai';
import { LeaseQueue, RecentSamples, estimateRetryAfterSeconds, type QueueExitReason } from '#server/browsers/lease-queue.ts';

class Refused extends Error {
  readonly reason: QueueExitReason;
  readonly waitedMs: number;
  constructor(reason: QueueExitReason, waitedMs: number) {
    super(reason);
    this.reason = reason;
    this.waitedMs = waitedMs;
  }
}

const queue = (maxDepth = 3, timeoutMs = 1000) => new LeaseQueue<string>({ maxDepth, timeoutMs, refuse: (r, w) => new Refused(r, w) });

async function refusal(p: Promise<unknown>): Promise<Refused> {
  try {
    await p;
  } catch (error) {
    return error as Refused;
  }
  throw new Error('expected a refusal');
}

describe('lease queue', () => {
  it('grants waiters in arrival order', async () => {
    const q = queue();
    const first = q.wait();
    const second = q.wait();
    expect(q.depth).to.equal(2);
    q.grantNext('a');
    q.grantNext('b');
    expect(await first).to.equal('a');
    expect(await second).to.equal('b');
    expect(q.depth).to.equal(0);
    expect(q.grantNext('c')).to.equal(false);
  });

  it('refuses at once when full', async () => {
    const q = queue(1);
    const held = q.wait();
    const err = await refusal(q.wait());
    expect(err.reason).to.equal('full');
    q.grantNext('x');
    await held;
  });

  it('refuses a waiter after its deadline and removes it', async () => {
    const q = queue(3, 30);
    const err = await refusal(q.wait());
    expect(err.reason).to.equal('timeout');
    expect(err.waitedMs).to.be.at.least(25);
    expect(q.depth).to.equal(0);
  });

  it('lets an AbortSignal cancel a wait, and skips the cancelled waiter', async () => {
    const q = queue();
    const controller = new AbortController();
    const cancelled = q.wait(controller.signal);
    const next = q.wait();
    controller.abort();
    expect((await refusal(cancelled)).reason).to.equal('aborted');
    q.grantNext('y');
    expect(await next).to.equal('y');
  });

  it('refuses a wait whose signal is already aborted', async () => {
    const q = queue();
    expect((await refusal(q.wait(AbortSignal.abort()))).reason).to.equal('aborted');
    expect(q.depth).to.equal(0);
  });

  it('refuses everyone on close', async () => {
    const q = queue();
    const a = q.wait();
    const b = q.wait();
    q.close();
    expect((await refusal(a)).reason).to.equal('closed');
    expect((await refusal(b)).reason).to.equal('closed');
  });

  it('hands the waiter context to the granting side', async () => {
    const q = queue();
    const p = q.wait(undefined, 'ctx');
    expect(q.peekContext()).to.equal('ctx');
    q.grantNext('z');
    await p;
  });
});

describe('retry-after estimate', () => {
  it('uses the median hold time for one round', () => {
    expect(estimateRetryAfterSeconds({ recentHoldMs: [1000, 2000, 9000], queueDepth: 0, capacity: 4 })).to.equal(2);
  });

  it('grows with the rounds of waiters ahead', () => {
    expect(estimateRetryAfterSeconds({ recentHoldMs: [2000], queueDepth: 7, capacity: 4 })).to.equal(4);
  });

  it('falls back to the default without samples and stays within 1..300 s', () => {
    expect(estimateRetryAfterSeconds({ recentHoldMs: [], queueDepth: 0, capacity: 2 })).to.equal(5);
    expect(estimateRetryAfterSeconds({ recentHoldMs: [5], queueDepth: 0, capacity: 2 })).to.equal(1);
    expect(estimateRetryAfterSeconds({ recentHoldMs: [60_000], queueDepth: 100, capacity: 1 })).to.equal(300);
    expect(estimateRetryAfterSeconds({ recentHoldMs: [1000], queueDepth: 3, capacity: 0 })).to.equal(4);
  });

  it('keeps only the most recent samples', () => {
    const s = new RecentSamples(3);
    for (const v of [1, 2, 3, 4, 5]) s.add(v);
    expect(s.values().toSorted()).to.deep.equal([3, 4, 5]);
  });
});
