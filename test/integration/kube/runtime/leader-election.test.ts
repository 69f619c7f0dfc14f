import { expect } from 'chai';
import { CoordinationV1Api, type KubeConfig } from '@kubernetes/client-node';
import { createLeaderElector, type LeaderElector } from '#kube/runtime/leader-election.ts';
import { eventually, testKubeConfig, testNamespace } from './kube-test-kit.ts';

const timings = { leaseDurationMs: 2000, renewDeadlineMs: 1500, retryPeriodMs: 300 };

interface Candidate {
  elector: LeaderElector;
  stop: AbortController;
  done: Promise<void>;
  started: number;
  stopped: number;
  leaderSignal: AbortSignal | undefined;
}

describe('LeaderElector on a real Lease', function () {
  this.timeout(60_000);
  let kc: KubeConfig;
  let ns: { name: string; remove(): Promise<void> };
  const candidates: Candidate[] = [];

  before(async () => {
    kc = testKubeConfig();
    ns = await testNamespace(kc, 'rt-lease');
  });

  afterEach(async () => {
    for (const c of candidates.splice(0)) {
      c.stop.abort();
      await c.done;
    }
  });

  after(async () => {
    await ns?.remove();
  });

  function stand(lease: string, identity: string, releaseOnCancel = true): Candidate {
    const elector = createLeaderElector(kc, { namespace: ns.name, name: lease, identity, releaseOnCancel, ...timings });
    const stop = new AbortController();
    const candidate: Candidate = { elector, stop, done: Promise.resolve(), started: 0, stopped: 0, leaderSignal: undefined };
    candidate.done = elector.run({
      onStartedLeading: (signal) => {
        candidate.started++;
        candidate.leaderSignal = signal;
      },
      onStoppedLeading: () => candidate.stopped++,
      signal: stop.signal,
    });
    candidates.push(candidate);
    return candidate;
  }

  async function readLease(name: string) {
    return kc.makeApiClient(CoordinationV1Api).readNamespacedLease({ name, namespace: ns.name });
  }

  it('one candidate leads; when it releases, the other leads within the lease duration', async () => {
    const a = stand('handover', 'candidate-a');
    await eventually(() => a.elector.isLeader(), 10_000, 'a leads');
    const b = stand('handover', 'candidate-b');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(b.elector.isLeader()).to.equal(false);
    expect(b.elector.status().leader).to.equal('candidate-a');
    const lease = await readLease('handover');
    expect(lease.spec?.holderIdentity).to.equal('candidate-a');
    expect(lease.spec?.leaseDurationSeconds).to.equal(2);
    expect(String(lease.spec?.renewTime)).to.match(/\.\d{6}Z$/);

    const releasedAt = Date.now();
    a.stop.abort();
    await a.done;
    expect(a.stopped).to.equal(1);
    expect(a.leaderSignal?.aborted).to.equal(true);
    const released = await readLease('handover');
    expect(['', 'candidate-b']).to.include(released.spec?.holderIdentity ?? '');
    await eventually(() => b.elector.isLeader(), timings.leaseDurationMs, 'b leads within the lease duration');
    const handover = Date.now() - releasedAt;
    console.log(`      handover after release: ${handover} ms`);
    expect(handover).to.be.below(timings.leaseDurationMs);
    const after = await readLease('handover');
    expect(after.spec?.holderIdentity).to.equal('candidate-b');
    expect(after.spec?.leaseTransitions).to.equal(1);
  });

  it('when the leader stops renewing without releasing, the other takes over only after the lease expires', async () => {
    const a = stand('crash', 'candidate-a', false);
    await eventually(() => a.elector.isLeader(), 10_000, 'a leads');
    const b = stand('crash', 'candidate-b');
    await new Promise((resolve) => setTimeout(resolve, 700));
    const stoppedAt = Date.now();
    a.stop.abort(); // like a crash: no more renewals, no release
    await a.done;
    expect((await readLease('crash')).spec?.holderIdentity).to.equal('candidate-a');
    await eventually(() => b.elector.isLeader(), 10_000, 'b takes over');
    const takeover = Date.now() - stoppedAt;
    console.log(`      takeover after the leader went silent: ${takeover} ms (lease ${timings.leaseDurationMs} ms)`);
    // b waits for a whole lease duration from its last sight of a renewal (≤ one retry period before the stop)
    expect(takeover).to.be.at.least(timings.leaseDurationMs - 2 * timings.retryPeriodMs);
    expect(takeover).to.be.at.most(timings.leaseDurationMs + 3 * timings.retryPeriodMs + 500);
    expect((await readLease('crash')).spec?.holderIdentity).to.equal('candidate-b');
  });
});
