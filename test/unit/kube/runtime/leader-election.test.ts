import { expect } from 'chai';
import { Writable } from 'node:stream';
import { createLogger } from '#common/logger.ts';
import { FakeClock } from '#support/fake-clock.ts';
import { LeaderElector } from '#kube/runtime/leader-election.ts';
import { MemoryLease } from '#support/memory-lease.ts';

const quiet = createLogger({ component: 'test', stream: new Writable({ write: (_c, _e, cb) => cb() }) });

const timings = { leaseDurationMs: 2000, renewDeadlineMs: 1500, retryPeriodMs: 300 };

function candidate(lease: MemoryLease, clock: FakeClock, identity: string, releaseOnCancel = true) {
  const elector = new LeaderElector({ ...timings, store: lease.store(), identity, clock, logger: quiet, releaseOnCancel });
  const log: string[] = [];
  const stop = new AbortController();
  let leaderSignal: AbortSignal | undefined;
  const done = elector.run({
    onStartedLeading: (signal) => {
      leaderSignal = signal;
      log.push('started');
    },
    onStoppedLeading: () => log.push('stopped'),
    signal: stop.signal,
  });
  return { elector, log, stop, done, signal: () => leaderSignal };
}

describe('LeaderElector (in-memory Lease, fake clock)', () => {
  let clock: FakeClock;
  let lease: MemoryLease;
  const running: Array<{ stop: AbortController; done: Promise<void> }> = [];

  beforeEach(() => {
    clock = new FakeClock();
    lease = new MemoryLease();
  });

  afterEach(async () => {
    for (const c of running.splice(0)) {
      c.stop.abort();
      await clock.tick(5000);
      await c.done;
    }
  });

  it('one of two candidates leads; a release hands over at once', async () => {
    const a = candidate(lease, clock, 'a');
    running.push(a);
    await clock.tick(0);
    const b = candidate(lease, clock, 'b');
    running.push(b);
    await clock.tick(1000);
    expect(a.elector.isLeader()).to.equal(true);
    expect(b.elector.isLeader()).to.equal(false);
    expect(lease.stored?.record.holderIdentity).to.equal('a');
    expect(b.elector.status()).to.include({ leader: 'a', leading: false, running: true });
    a.stop.abort();
    await clock.tick(0);
    await a.done;
    expect(a.log).to.deep.equal(['started', 'stopped']);
    expect(a.signal()?.aborted).to.equal(true);
    expect(lease.stored?.record).to.include({ holderIdentity: '', leaseDurationSeconds: 1 });
    await clock.tick(400);
    expect(b.elector.isLeader()).to.equal(true);
    expect(lease.stored?.record.leaseTransitions).to.equal(1);
  });

  it('a candidate takes over only after the silent leader has not renewed for the lease duration', async () => {
    const a = candidate(lease, clock, 'a', false);
    running.push(a);
    await clock.tick(0);
    const b = candidate(lease, clock, 'b');
    running.push(b);
    await clock.tick(1000);
    a.stop.abort(); // stops renewing without releasing, like a crashed leader
    await clock.tick(0);
    expect(lease.stored?.record.holderIdentity).to.equal('a');
    const stoppedAt = clock.now();
    while (!b.elector.isLeader() && clock.now() - stoppedAt < 5000) await clock.tick(50);
    const takeover = clock.now() - stoppedAt;
    expect(takeover).to.be.at.least(2000 - 400).and.at.most(2000 + 400);
  });

  it('steps down when renewals fail for the renew deadline, aborting the leader signal', async () => {
    const a = candidate(lease, clock, 'a');
    running.push(a);
    await clock.tick(100);
    expect(a.elector.isLeader()).to.equal(true);
    lease.failing = true;
    const failedAt = clock.now();
    const lastRenewal = lease.stored?.record.renewTime ?? 0;
    while (a.elector.isLeader() && clock.now() - failedAt < 5000) await clock.tick(50);
    expect(a.log).to.deep.equal(['started', 'stopped']);
    expect(a.signal()?.aborted).to.equal(true);
    expect(clock.now() - lastRenewal).to.be.at.least(1500).and.at.most(1500 + 400);
    await a.done;
  });

  it('steps down at once when it sees another holder took the lease', async () => {
    const a = candidate(lease, clock, 'a');
    running.push(a);
    await clock.tick(100);
    lease.stored = {
      record: { holderIdentity: 'intruder', leaseDurationSeconds: 2, leaseTransitions: 5, renewTime: clock.now() },
      resourceVersion: String(++lease.version),
    };
    await clock.tick(400);
    expect(a.elector.isLeader()).to.equal(false);
    expect(a.log).to.deep.equal(['started', 'stopped']);
    await a.done;
  });

  it('cancels a Lease request that outlives its timeout instead of leaving it to land later', async () => {
    const inner = lease.store();
    let aborted = 0;
    const hanging = {
      ...inner,
      get: (signal?: AbortSignal) => new Promise<never>((_resolve, reject) => {
        signal?.addEventListener('abort', () => {
          aborted++;
          reject(new Error('aborted'));
        }, { once: true });
      }),
    };
    const elector = new LeaderElector({ ...timings, store: hanging, identity: 'a', clock, logger: quiet });
    const stop = new AbortController();
    const done = elector.run({ onStartedLeading: () => undefined, onStoppedLeading: () => undefined, signal: stop.signal });
    await clock.tick(timings.leaseDurationMs + 10);
    expect(aborted, 'the timed-out request was aborted').to.equal(1);
    stop.abort();
    await clock.tick(5000);
    await done;
  });

  it('refuses an empty identity and incoherent timings', () => {
    expect(() => new LeaderElector({ store: lease.store(), identity: '' })).to.throw(/identity/);
    expect(() => new LeaderElector({ store: lease.store(), identity: 'x', leaseDurationMs: 1000, renewDeadlineMs: 2000, retryPeriodMs: 300 })).to.throw(
      /leaseDurationMs/,
    );
  });
});
