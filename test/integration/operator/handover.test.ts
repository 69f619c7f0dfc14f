import { expect } from 'chai';
import type { GatewayLoad } from '#common/gateway-status.ts';
import type { KubeConfig } from '@kubernetes/client-node';
import { kubeLeaseStore, type LeaseStore } from '#kube/runtime/lease-store.ts';
import { overlappingWrites, recordingWriter, type WriteRecord } from '#support/kube/recording-writer.ts';
import type { SessionReader } from '#operator/controllers/browserpool/session-reader.ts';
import type { ReconcileOutcome } from '#kube/runtime/metrics.ts';
import { startPodRunner, type PodRunner } from '#support/pod-runner/pod-runner.ts';
import {
  Pools, createNamespace, ensureCrd, eventually, kubeConfig, startTestOperator, testLogger, type TestOperator,
} from './helpers.ts';

/** Sessions that can be held: while closed, every read waits (ignoring any signal, like a slow, careless call). */
class GatedSessions implements SessionReader {
  #open: Promise<void> = Promise.resolve();
  #release: () => void = () => undefined;
  blocked = 0;

  close(): void {
    this.#open = new Promise((resolve) => {
      this.#release = resolve;
    });
  }

  open(): void {
    this.#release();
  }

  async read(): Promise<GatewayLoad | undefined> {
    this.blocked++;
    await this.#open;
    this.blocked--;
    return { leased: 0 };
  }
}

/** A Lease store that can be cut off (a leader partitioned from the Lease, or its requests timing out). */
function severableStore(inner: LeaseStore): LeaseStore & { cut: boolean } {
  const fail = (): never => {
    throw Object.assign(new Error('connection refused (test: Lease cut off)'), { code: 503 });
  };
  const store = {
    cut: false,
    description: inner.description,
    get: (signal?: AbortSignal) => (store.cut ? Promise.reject(fail()) : inner.get(signal)),
    create: (record: Parameters<LeaseStore['create']>[0], signal?: AbortSignal) => (store.cut ? Promise.reject(fail()) : inner.create(record, signal)),
    update: (record: Parameters<LeaseStore['update']>[0], rv: string, signal?: AbortSignal) =>
      (store.cut ? Promise.reject(fail()) : inner.update(record, rv, signal)),
  };
  return store;
}

describe('leadership hand-over while a reconcile is in flight (real API server, browserless pod runner)', function () {
  this.timeout(120_000);
  let kc: KubeConfig;
  let ns: { name: string; remove: () => Promise<void> };
  let runner: PodRunner;
  let pools: Pools;
  const operators: TestOperator[] = [];
  const timings = { leaseDurationMs: 4000, renewDeadlineMs: 3000, retryPeriodMs: 500 };

  before(async () => {
    kc = kubeConfig();
    await ensureCrd(kc);
    ns = await createNamespace(kc, 'bp-handover');
    runner = await startPodRunner({ kubeconfigPath: process.env['KUBECONFIG'] ?? '', browserless: true, logger: testLogger('pod-runner') });
    pools = new Pools(kc, ns.name);
  });

  afterEach(async () => {
    await Promise.all(operators.splice(0).map((o) => o.stop()));
  });

  after(async () => {
    await runner?.stop();
    await ns?.remove();
  });

  /** Starts operator `who` on `lease` with a recording writer and gated sessions. */
  async function start(who: string, lease: string, log: WriteRecord[], outcomes: ReconcileOutcome[], store?: LeaseStore) {
    const sessions = new GatedSessions();
    const operator = await startTestOperator(kc, {
      namespace: ns.name, writer: recordingWriter(kc, who, log), sessions,
      onReconcile: (_key, _ms, outcome) => outcomes.push(outcome),
      lease: { namespace: ns.name, name: lease, identity: who, ...timings, ...(store ? { store } : {}) },
    });
    operators.push(operator);
    return { operator, sessions };
  }

  /** Holds A's next reconcile of `pool` inside its session read (after its reads, before its writes). */
  async function holdReconcileOf(pool: string, sessions: GatedSessions, replicas: number): Promise<void> {
    sessions.close();
    await pools.patchSpec(pool, { replicas });
    await eventually(() => sessions.blocked > 0 || undefined, 20_000, () => 'A never reached its session read');
  }

  function expectNoOverlap(log: WriteRecord[], oldLeader: string, newLeader: string): void {
    expect(log.some((w) => w.who === newLeader), `${newLeader} wrote something`).to.equal(true);
    expect(overlappingWrites(log, oldLeader, newLeader).map((w) => w.what), `${oldLeader}'s writes that may have landed after ${newLeader}'s first write`)
      .to.deep.equal([]);
  }

  it('on a graceful stop (rolling update): the old leader drains, its late writes are refused, the Lease goes only then', async () => {
    const log: WriteRecord[] = [];
    const aOutcomes: ReconcileOutcome[] = [];
    const a = await start('operator-a', 'graceful', log, aOutcomes);
    await eventually(() => a.operator.isLeader() || undefined, 10_000);
    const b = await start('operator-b', 'graceful', log, []);
    await pools.create('graceful', { replicas: 1 });
    await eventually(async () => (await pools.get('graceful'))?.status?.readyReplicas === 1 || undefined, 30_000);

    await holdReconcileOf('graceful', a.sessions, 2);
    const aStopped = a.operator.stop();
    operators.splice(operators.indexOf(a.operator), 1);
    await eventually(() => b.operator.isLeader() || undefined, 15_000, () => 'B never took over');
    await eventually(() => log.some((w) => w.who === 'operator-b') || undefined, 15_000, () => 'B never wrote');
    // The old leader's reconcile now carries on, as a slow one would after its term.
    const reconcilesBefore = aOutcomes.length;
    a.sessions.open();
    await aStopped;
    await eventually(() => aOutcomes.length > reconcilesBefore || undefined, 10_000, () => 'A\'s held reconcile never ended');

    expectNoOverlap(log, 'operator-a', 'operator-b');
    expect(aOutcomes.slice(reconcilesBefore)).to.include('cancelled');
    await eventually(async () => (await pools.get('graceful'))?.status?.readyReplicas === 2 || undefined, 30_000, () => 'B converges');
  });

  it('on a lost Lease (partitioned leader): the old leader stops writing before the standby can take over', async () => {
    const log: WriteRecord[] = [];
    const aOutcomes: ReconcileOutcome[] = [];
    const aStore = severableStore(kubeLeaseStore(kc, ns.name, 'partition'));
    const a = await start('operator-a', 'partition', log, aOutcomes, aStore);
    await eventually(() => a.operator.isLeader() || undefined, 10_000);
    const b = await start('operator-b', 'partition', log, []);
    await pools.create('partition', { replicas: 1 });
    await eventually(async () => (await pools.get('partition'))?.status?.readyReplicas === 1 || undefined, 30_000);

    await holdReconcileOf('partition', a.sessions, 2);
    aStore.cut = true;
    await eventually(() => b.operator.isLeader() || undefined, 20_000, () => 'B never took over');
    await eventually(() => log.some((w) => w.who === 'operator-b') || undefined, 15_000, () => 'B never wrote');
    const reconcilesBefore = aOutcomes.length;
    a.sessions.open();
    await eventually(() => aOutcomes.length > reconcilesBefore || undefined, 10_000, () => 'A\'s held reconcile never ended');

    expectNoOverlap(log, 'operator-a', 'operator-b');
    expect(aOutcomes.slice(reconcilesBefore)).to.include('cancelled');
    expect(a.operator.isLeader()).to.equal(false);
    await eventually(async () => (await pools.get('partition'))?.status?.readyReplicas === 2 || undefined, 30_000, () => 'B converges');
  });
});
