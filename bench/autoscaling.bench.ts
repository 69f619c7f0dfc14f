/**
 * Demand-driven pools and leadership hand-over, against a real etcd + kube-apiserver with the pod runner in
 * browserless mode (a pod becomes Ready AUTOSCALING_BENCH_POD_START_MS after it starts, 2000 by default, standing in
 * for Chromium's start). Callers and servers are simulated (bench/support/demand-simulation.ts): they answer the
 * operator as the gateways' /status and the servers' /metrics would.
 * 1. a burst of N = 2 × capacity callers: time to enough Ready browsers and until the last caller is served,
 *    demand-driven (minIdle 2) vs a fixed pool of the same starting size; then browsers held over a quiet period
 *    (should fall to minIdle);
 * 2. scale from zero: the first caller's wait for a cold start;
 * 3. hand-over under load: two operators on one Lease, pools changing all the time, the leader stopped
 *    gracefully: the reconcile gap and the old leader's writes after the new leader's first (target: 0).
 */
import { randomBytes } from 'node:crypto';
import { CoreV1Api, CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { createLogger, type Logger } from '#common/logger.ts';
import {
  BROWSERPOOL_API_VERSION, BROWSERPOOL_GROUP, BROWSERPOOL_KIND, BROWSERPOOL_PLURAL, BROWSERPOOL_VERSION, type BrowserPool, type BrowserPoolSpec,
} from '#kube/api/v1alpha1/browserpool.ts';
import { createInformer, type Informer } from '#kube/runtime/informer.ts';
import { createBrowserPoolOperator } from '#operator/browserpool-operator.ts';
import { applyBrowserPoolCrd } from '#support/kube/browserpool-crd.ts';
import { overlappingWrites, recordingWriter, type WriteRecord } from '#support/kube/recording-writer.ts';
import { startControlPlane } from '#support/control-plane/control-plane.ts';
import { startPodRunner } from '#support/pod-runner/pod-runner.ts';
import { DemandSimulation } from './support/demand-simulation.ts';
import { fmt, summarize, type BenchReport, type TargetCheck } from './support/stats.ts';

const num = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const MAX_SESSIONS = 4;
/** The demand-driven pool's scale-down stabilisation window: shorter than the quiet period, so the pool falls to its floor within it. */
const WINDOW_S = 10;
const jsonPatch = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);
const progress = (message: string): void => {
  process.stderr.write(`  … ${message}\n`);
};

async function until<T>(check: () => T | undefined | false, timeoutMs: number, what: string): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v) return v;
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

interface Env {
  kc: KubeConfig;
  logger: Logger;
  core: CoreV1Api;
  custom: CustomObjectsApi;
  cleanups: Array<() => Promise<void>>;
}

async function namespace(env: Env, prefix: string): Promise<string> {
  const name = `${prefix}-${randomBytes(3).toString('hex')}`;
  await env.core.createNamespace({ body: { metadata: { name } } });
  return name;
}

async function createPool(env: Env, ns: string, name: string, spec: Partial<BrowserPoolSpec>): Promise<void> {
  await env.custom.createNamespacedCustomObject({
    group: BROWSERPOOL_GROUP, version: BROWSERPOOL_VERSION, plural: BROWSERPOOL_PLURAL, namespace: ns,
    body: { apiVersion: BROWSERPOOL_API_VERSION, kind: BROWSERPOOL_KIND, metadata: { name }, spec: { maxSessionsPerBrowser: MAX_SESSIONS, ...spec } },
  });
}

function watchPools(env: Env, ns: string): Informer<BrowserPool> {
  const informer = createInformer<BrowserPool>(env.kc, { group: BROWSERPOOL_GROUP, version: BROWSERPOOL_VERSION, plural: BROWSERPOOL_PLURAL, namespace: ns }, { logger: env.logger });
  informer.start();
  env.cleanups.push(() => informer.stop());
  return informer;
}

const readyEndpoints = (pool: BrowserPool | undefined): string[] =>
  (pool?.status?.browsers ?? []).filter((b) => b.state === 'Ready' && b.endpoint).map((b) => b.endpoint);
const serving = (pool: BrowserPool | undefined): number =>
  (pool?.status?.browsers ?? []).filter((b) => b.state === 'Ready' || b.state === 'Starting').length;

interface BurstResult {
  startBrowsers: number;
  callers: number;
  enoughReadyMs: number;
  lastServedMs: number;
  waits: ReturnType<typeof summarize>;
  quietBrowsers: number;
  quietFallMs: number;
}

/** One burst of 2 × capacity callers against a pool with `spec`, then a quiet period. */
async function burst(env: Env, spec: Partial<BrowserPoolSpec>, holdMs: number, quietMs: number): Promise<BurstResult> {
  const ns = await namespace(env, 'bench-burst');
  const pools = watchPools(env, ns);
  await pools.waitForSync();
  const pool = () => pools.get(`${ns}/burst`);
  const sim = new DemandSimulation({ maxSessions: MAX_SESSIONS, holdMs, readyEndpoints: () => readyEndpoints(pool()) });
  const { manager } = createBrowserPoolOperator({
    kubeConfig: env.kc, namespace: ns, logger: env.logger, identity: 'bench', sessions: sim.sessions(), demand: sim.demand(),
  });
  manager.start();
  env.cleanups.push(() => manager.stop());
  await createPool(env, ns, 'burst', spec);
  progress(`burst: pool created (${spec.autoscaling ? 'demand-driven' : 'fixed'})`);
  const startBrowsers = await until(() => {
    const p = pool();
    const ready = readyEndpoints(p).length;
    return ready > 0 && ready === serving(p) && p?.status?.conditions?.find((c) => c.type === 'Progressing')?.status === 'False' ? ready : undefined;
  }, 60_000, 'the pool to settle');
  const callers = 2 * startBrowsers * MAX_SESSIONS;
  progress(`burst: ${startBrowsers} browsers ready; ${callers} callers arrive`);
  sim.start();
  const t0 = performance.now();
  sim.arrive(callers);
  const enough = Math.ceil(callers / MAX_SESSIONS);
  let enoughReadyMs = Number.NaN;
  await until(() => {
    if (Number.isNaN(enoughReadyMs) && readyEndpoints(pool()).length >= enough) enoughReadyMs = performance.now() - t0;
    return sim.queued() === 0;
  }, holdMs * 3 + 60_000, 'every caller to be served');
  const lastServedMs = Math.max(...sim.callers.map((c) => (c.leasedAt ?? t0) - t0));
  const waits = summarize(sim.callers.map((c) => (c.leasedAt ?? t0) - c.arrivedAt));
  await until(() => sim.leased() === 0, holdMs * 3, 'the leases to end');
  const q0 = performance.now();
  const floor = spec.autoscaling ? Math.max(spec.autoscaling.minReplicas ?? 1, spec.autoscaling.minIdle ?? 1) : spec.replicas ?? 2;
  let quietFallMs = Number.NaN;
  while (performance.now() - q0 < quietMs) {
    if (Number.isNaN(quietFallMs) && serving(pool()) <= floor) quietFallMs = performance.now() - q0;
    await sleep(100);
  }
  sim.stop();
  await manager.stop();
  return { startBrowsers, callers, enoughReadyMs, lastServedMs, waits, quietBrowsers: serving(pool()), quietFallMs };
}

/** A pool at zero; one caller arrives: its wait for a cold start. */
async function coldStart(env: Env): Promise<number> {
  const ns = await namespace(env, 'bench-zero');
  const pools = watchPools(env, ns);
  await pools.waitForSync();
  const pool = () => pools.get(`${ns}/zero`);
  const sim = new DemandSimulation({ maxSessions: MAX_SESSIONS, holdMs: 1000, readyEndpoints: () => readyEndpoints(pool()) });
  const { manager } = createBrowserPoolOperator({
    kubeConfig: env.kc, namespace: ns, logger: env.logger, identity: 'bench', sessions: sim.sessions(), demand: sim.demand(),
  });
  manager.start();
  env.cleanups.push(() => manager.stop());
  await createPool(env, ns, 'zero', { replicas: 0, autoscaling: { minReplicas: 0, maxReplicas: 4, minIdle: 0, targetSessionsPerBrowser: MAX_SESSIONS } });
  await until(() => pool()?.status?.observedGeneration === 1 && serving(pool()) === 0, 30_000, 'the pool at zero');
  sim.start();
  sim.arrive(1);
  await until(() => sim.queued() === 0, 60_000, 'the first caller to be served');
  sim.stop();
  await manager.stop();
  const caller = sim.callers[0]!;
  return (caller.leasedAt ?? Number.NaN) - caller.arrivedAt;
}

/** Two operators on one Lease under constant change; the leader is stopped gracefully. */
async function handover(env: Env): Promise<{ gapMs: number; overlapping: number; writesA: number; writesB: number }> {
  const ns = await namespace(env, 'bench-handover');
  const log: WriteRecord[] = [];
  const lease = { namespace: ns, name: 'operator', leaseDurationMs: 4000, renewDeadlineMs: 3000, retryPeriodMs: 500 };
  const start = (who: string) => {
    const op = createBrowserPoolOperator({
      kubeConfig: env.kc, namespace: ns, logger: env.logger, identity: who, writer: recordingWriter(env.kc, who, log),
      leaderElection: lease, writeTimeoutMs: 900, drainTimeoutMs: 1000,
    });
    op.manager.start();
    env.cleanups.push(() => op.manager.stop());
    return op.manager;
  };
  const a = start('operator-a');
  await until(() => a.isLeader(), 20_000, 'A to lead');
  const b = start('operator-b');
  const names = Array.from({ length: 10 }, (_, i) => `load-${i}`);
  for (const name of names) await createPool(env, ns, name, { replicas: 2 });
  // Constant change: a pool's replicas flip every 100 ms.
  const stopLoad = new AbortController();
  const load = (async () => {
    for (let i = 0; !stopLoad.signal.aborted; i++) {
      const name = names[i % names.length]!;
      await env.custom.patchNamespacedCustomObject({
        group: BROWSERPOOL_GROUP, version: BROWSERPOOL_VERSION, plural: BROWSERPOOL_PLURAL, namespace: ns, name,
        body: [{ op: 'replace', path: '/spec/replicas', value: 2 + (Math.floor(i / names.length) % 2) }],
      }, jsonPatch).catch(() => undefined);
      await sleep(100);
    }
  })();
  await sleep(5000);
  progress(`hand-over: ${log.filter((w) => w.who === 'operator-a').length} writes by the leader under load; stopping it`);
  const stoppedAt = performance.now();
  await a.stop();
  await until(() => b.isLeader(), 20_000, 'B to lead');
  await until(() => log.some((w) => w.who === 'operator-b'), 20_000, 'B to write');
  await sleep(3000);
  stopLoad.abort();
  await load;
  await b.stop();
  const lastA = Math.max(stoppedAt, ...log.filter((w) => w.who === 'operator-a').map((w) => w.answeredAt ?? w.sentAt));
  const firstB = log.find((w) => w.who === 'operator-b')!;
  return {
    gapMs: firstB.sentAt - lastA,
    overlapping: overlappingWrites(log, 'operator-a', 'operator-b').length,
    writesA: log.filter((w) => w.who === 'operator-a').length,
    writesB: log.filter((w) => w.who === 'operator-b').length,
  };
}

/** Runs the autoscaling and hand-over benchmarks and returns their tables and target checks. */
export async function run(): Promise<BenchReport> {
  const logger = createLogger({ component: 'autoscaling-bench', level: process.env['BENCH_LOG_LEVEL'] ?? 'error', format: 'json' });
  const podStartMs = num('AUTOSCALING_BENCH_POD_START_MS', 2000);
  const holdMs = num('AUTOSCALING_BENCH_HOLD_MS', 15_000);
  const quietMs = num('AUTOSCALING_BENCH_QUIET_MS', 20_000);
  const cp = await startControlPlane({ withControllerManager: false });
  const kc = new KubeConfig();
  kc.loadFromFile(cp.kubeconfigPath);
  const env: Env = { kc, logger, core: kc.makeApiClient(CoreV1Api), custom: kc.makeApiClient(CustomObjectsApi), cleanups: [] };
  const targets: TargetCheck[] = [];
  try {
    progress('control plane up');
    await applyBrowserPoolCrd(kc);
    const runner = await startPodRunner({ kubeconfigPath: cp.kubeconfigPath, browserless: true, readyDelayMs: podStartMs, logger });
    env.cleanups.push(() => runner.stop());

    const recycle = { maxAgeSeconds: 86_400, drainTimeoutSeconds: 60, unhealthyAfterSeconds: 600 };
    const hand = await handover(env);
    progress(`hand-over: gap ${fmt(hand.gapMs)} ms, ${hand.overlapping} overlapping writes`);
    const demandDriven = await burst(env, { replicas: 2, recycle, autoscaling: { minReplicas: 0, maxReplicas: 20, minIdle: 2, targetSessionsPerBrowser: MAX_SESSIONS, scaleDownStabilizationWindowSeconds: WINDOW_S } }, holdMs, quietMs);
    const fixed = await burst(env, { replicas: 2, recycle }, holdMs, quietMs);
    const cold = await coldStart(env);
    progress(`cold start: ${fmt(cold)} ms`);

    const row = (name: string, r: BurstResult) => [
      name, r.startBrowsers, r.callers, Number.isNaN(r.enoughReadyMs) ? 'never' : r.enoughReadyMs / 1000, r.lastServedMs / 1000,
      r.waits.p50 / 1000, r.waits.max / 1000, r.quietBrowsers, Number.isNaN(r.quietFallMs) ? 'never' : r.quietFallMs / 1000,
    ];
    targets.push({
      name: 'burst of 2× capacity: last caller served, demand-driven vs fixed',
      measured: `${fmt(demandDriven.lastServedMs / 1000)} s vs ${fmt(fixed.lastServedMs / 1000)} s`,
      target: 'demand-driven sooner', met: demandDriven.lastServedMs < fixed.lastServedMs,
    });
    targets.push({ name: 'idle browsers after a quiet period (minIdle 2)', measured: String(demandDriven.quietBrowsers), target: '= 2', met: demandDriven.quietBrowsers === 2 });
    targets.push({ name: 'hand-over under load: old leader\'s writes after the new leader\'s first', measured: String(hand.overlapping), target: '= 0', met: hand.overlapping === 0 });
    return {
      tables: [
        {
          title: `Burst of 2 × capacity callers (${MAX_SESSIONS} sessions per browser, each held ${holdMs / 1000} s; pod start ${podStartMs / 1000} s; demand-driven scale-down stabilisation ${WINDOW_S} s)`,
          columns: ['pool', 'browsers before', 'callers', 'enough Ready (s)', 'last served (s)', 'wait p50 (s)', 'wait max (s)', `browsers after ${quietMs / 1000} s quiet`, 'fell to floor in (s)'],
          rows: [row('demand-driven (minIdle 2)', demandDriven), row('fixed (replicas 2)', fixed)],
        },
        {
          title: 'Scale from zero and hand-over',
          columns: ['measure', 'value'],
          rows: [
            ['cold start after zero: first caller\'s wait (s)', cold / 1000],
            ['hand-over: gap from the old leader\'s last write to the new leader\'s first (s)', hand.gapMs / 1000],
            ['hand-over: old leader\'s writes after the new leader\'s first', hand.overlapping],
            ['hand-over: writes by the old / new leader', `${hand.writesA} / ${hand.writesB}`],
          ],
        },
      ],
      targets,
      notes: [
        'Browserless pods: "pod start" is the pod runner\'s simulated delay before Ready (AUTOSCALING_BENCH_POD_START_MS), not a Chromium start; a real cold start adds Chromium\'s start (see make test-e2e).',
        'The hand-over gap includes the drain wait (1 s here), the Lease release and the standby\'s next retry (0.5 s).',
      ],
    };
  } finally {
    for (const c of env.cleanups.toReversed()) await c().catch(() => undefined);
    await cp.stop();
  }
}
