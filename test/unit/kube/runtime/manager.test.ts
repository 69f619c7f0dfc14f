import { expect } from 'chai';
import { Writable } from 'node:stream';
import { createLogger } from '#common/logger.ts';
import { Informer } from '#kube/runtime/informer.ts';
import { Manager } from '#kube/runtime/manager.ts';
import { isTermEnded } from '#kube/runtime/write-fence.ts';
import { FakeClock } from '#support/fake-clock.ts';
import { MemoryLease } from '#support/memory-lease.ts';
import { ScriptedListWatch, testObject } from './fake-list-watch.ts';

const quiet = createLogger({ component: 'test', stream: new Writable({ write: (_c, _e, cb) => cb() }) });
const timings = { leaseDurationMs: 4000, renewDeadlineMs: 3000, retryPeriodMs: 500 };

/** A gate a reconcile waits at. */
function gate(): { wait: Promise<void>; open: () => void } {
  let open = (): void => undefined;
  const wait = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { wait, open };
}

describe('Manager (fake clock, in-memory Lease, scripted informer)', () => {
  let clock: FakeClock;
  let lease: MemoryLease;
  let events: string[];
  let held: ReturnType<typeof gate>;

  /** A manager whose one reconcile waits at `held`, then writes through the fence; every step is logged. */
  function manager(drainTimeoutMs: number): Manager {
    const api = new ScriptedListWatch();
    api.items = [testObject('pool', '1')];
    const informer = new Informer({ client: api, clock, logger: quiet, name: 'pools' });
    const inner = lease.store();
    const m = new Manager({
      identity: 'a', clock, logger: quiet, drainTimeoutMs,
      leaderElection: {
        ...timings,
        store: {
          ...inner,
          update: async (record, rv, signal) => {
            const version = await inner.update(record, rv, signal);
            if (record.holderIdentity === '') events.push('lease released');
            return version;
          },
        },
      },
    });
    m.addInformer(informer);
    m.addController({
      name: 'pools',
      sources: [{ informer }],
      reconcile: async (_key, context) => {
        events.push('reconcile started');
        await held.wait;
        try {
          await context.fence.run('write', async () => {
            events.push('write');
          });
        } catch (err) {
          if (isTermEnded(err)) events.push('write refused');
          throw err;
        }
      },
    });
    return m;
  }

  beforeEach(() => {
    clock = new FakeClock();
    lease = new MemoryLease();
    events = [];
    held = gate();
  });

  it('a reconcile that finishes within the drain time writes, and only then is the Lease released', async () => {
    const m = manager(1000);
    m.start();
    await clock.tick(100);
    expect(m.isLeader()).to.equal(true);
    expect(events).to.deep.equal(['reconcile started']);
    const stopped = m.stop();
    await clock.tick(500);
    expect(lease.stored?.record.holderIdentity, 'the Lease is kept while the reconcile runs').to.equal('a');
    held.open();
    await clock.tick(100);
    await stopped;
    expect(events).to.deep.equal(['reconcile started', 'write', 'lease released']);
  });

  it('a reconcile that outlives the drain time is cut off: the Lease goes after the fence closed, and its late write is refused', async () => {
    const m = manager(1000);
    m.start();
    await clock.tick(100);
    const stopped = m.stop();
    await clock.tick(900);
    expect(lease.stored?.record.holderIdentity).to.equal('a');
    await clock.tick(200);
    await stopped;
    expect(lease.stored?.record.holderIdentity).to.equal('');
    held.open();
    await clock.tick(10);
    expect(events).to.deep.equal(['reconcile started', 'lease released', 'write refused']);
  });

  it('a leader that cannot renew stops writing by the renew deadline, before anyone may take the Lease', async () => {
    const m = manager(1000);
    m.start();
    await clock.tick(100);
    const renewedAt = lease.stored?.record.renewTime ?? 0;
    lease.failing = true;
    // Time runs on without the elector noticing yet: the fence alone must refuse from the renew deadline on.
    clock.advance(timings.renewDeadlineMs);
    held.open();
    await clock.tick(0);
    expect(events).to.deep.equal(['reconcile started', 'write refused']);
    expect(clock.now() - renewedAt).to.be.below(timings.leaseDurationMs);
    lease.failing = false;
    await clock.tick(5000);
    await m.stop();
  });

  it('is ready once its caches synced and it leads or stands by, and live unless a reconcile is wedged', async () => {
    const m = manager(1000);
    expect(m.readiness().ok).to.equal(false);
    m.start();
    await clock.tick(100);
    expect(m.readiness()).to.deep.equal({ ok: true, detail: 'leading' });
    expect(m.liveness().ok).to.equal(true);
    await clock.tick(301_000);
    expect(m.liveness()).to.include({ ok: false });
    expect(m.liveness().detail).to.match(/wedged controllers: pools/);
    held.open();
    const stopped = m.stop();
    await clock.tick(2000);
    await stopped;
  });
});
