/**
 * BrowserPool operator benchmarks against a real etcd + kube-apiserver, with the pod runner in browserless mode
 * (pods become Ready without processes):
 * 1. time from creating a BrowserPool of 10 to 10 Ready in its status, and reconcile latency p50/p99
 *    (in-process operator);
 * 2. status lag: how long the pool status takes to show a pod becoming unready ("dying"), Ready again, and
 *    deleted outright;
 * 3. the operator as its own process with OPERATOR_BENCH_POOLS pools × OPERATOR_BENCH_PODS pods (default
 *    100 × 10 = 1000): time to all Ready, then RSS and CPU while idle for OPERATOR_BENCH_IDLE_SECONDS (20).
 * Targets: status reflects a change within 1 s at p99; RSS ≤ 200 MB at 1000 pods.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { createLogger } from '#common/logger.ts';
import {
  BROWSERPOOL_API_VERSION, BROWSERPOOL_GROUP, BROWSERPOOL_KIND, BROWSERPOOL_PLURAL, BROWSERPOOL_VERSION, type BrowserPool,
} from '#kube/api/v1alpha1/browserpool.ts';
import { applyBrowserPoolCrd } from '#support/kube/browserpool-crd.ts';
import { createInformer } from '#kube/runtime/informer.ts';
import { createBrowserPoolOperator } from '#operator/browserpool-operator.ts';
import { startControlPlane } from '#support/control-plane/control-plane.ts';
import { startPodRunner } from '#support/pod-runner/pod-runner.ts';
import { CLOCK_TICKS } from './support/cpu.ts';
import { fmt, summarize, type BenchReport, type TargetCheck } from './support/stats.ts';

/**
 * Node flags of the operator process. A capped old space makes V8 collect instead of growing: without it the
 * heap holds mostly garbage (measured at 1000 pods: 243 MB heap, 371 MB RSS; with the cap 68 MB heap, 184 MB
 * RSS); the chart should set the same through NODE_OPTIONS. The live set at 1000 pods is ~60 MB, most of it
 * client-node's code and source text. Set OPERATOR_BENCH_NODE_FLAGS=" " to run without flags.
 */
const operatorNodeFlags = (process.env['OPERATOR_BENCH_NODE_FLAGS'] ?? '--max-old-space-size=96 --max-semi-space-size=2').split(' ').filter(Boolean);
/**
 * glibc malloc arenas of the operator process, as the chart sets them (operator.mallocArenaMax): two, against the
 * default 8 per core, keep memory freed after module loading and by TLS connections from lingering (measured at
 * 1000 pods: 172 MB RSS against 180 MB). OPERATOR_BENCH_MALLOC_ARENA_MAX="" runs with glibc's default.
 */
const operatorMallocArenaMax = process.env['OPERATOR_BENCH_MALLOC_ARENA_MAX'] ?? '2';
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const num = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(check: () => T | undefined | false, timeoutMs: number, what: string): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v) return v;
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(2);
  }
}

function procStat(pid: number): { rssMb: number; cpuSeconds: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { rssMb: rssKb / 1024, cpuSeconds: (Number(f[11]) + Number(f[12])) / CLOCK_TICKS };
}

/** Runs the operator benchmarks and returns their tables and target checks. */
export async function run(): Promise<BenchReport> {
  const logger = createLogger({ component: 'operator-bench', level: 'error', format: 'json' });
  const pools = num('OPERATOR_BENCH_POOLS', 100);
  const podsPerPool = num('OPERATOR_BENCH_PODS', 10);
  const flips = num('OPERATOR_BENCH_FLIPS', 40);
  const idleSeconds = num('OPERATOR_BENCH_IDLE_SECONDS', 20);
  const cp = await startControlPlane({ withControllerManager: false });
  const kc = new KubeConfig();
  kc.loadFromFile(cp.kubeconfigPath);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const coreApi = kc.makeApiClient(CoreV1Api);
  const cleanups: Array<() => Promise<void>> = [];
  const tables: BenchReport['tables'] = [];
  const targets: TargetCheck[] = [];
  const notes: string[] = [];
  const createPool = (namespace: string, name: string, replicas: number) => custom.createNamespacedCustomObject({
    group: BROWSERPOOL_GROUP, version: BROWSERPOOL_VERSION, plural: BROWSERPOOL_PLURAL, namespace,
    body: { apiVersion: BROWSERPOOL_API_VERSION, kind: BROWSERPOOL_KIND, metadata: { name }, spec: { replicas, recycle: { maxAgeSeconds: 86_400, drainTimeoutSeconds: 1, unhealthyAfterSeconds: 600 } } },
  });

  try {
    await applyBrowserPoolCrd(kc);
    const runner = await startPodRunner({ kubeconfigPath: cp.kubeconfigPath, browserless: true, logger });
    cleanups.push(() => runner.stop());

    // 1 + 2: in-process operator on one namespace.
    await coreApi.createNamespace({ body: { metadata: { name: 'bench-one' } } });
    const reconcileMs: number[] = [];
    const { manager } = createBrowserPoolOperator({
      kubeConfig: kc, namespace: 'bench-one', logger, identity: 'bench', onReconcile: (_k, ms) => reconcileMs.push(ms),
    });
    manager.start();
    cleanups.push(() => manager.stop());
    const watcher = createInformer<BrowserPool>(kc, { group: BROWSERPOOL_GROUP, version: BROWSERPOOL_VERSION, plural: BROWSERPOOL_PLURAL, namespace: 'bench-one' }, { logger });
    watcher.start();
    cleanups.push(() => watcher.stop());
    await until(() => manager.readiness().ok, 30_000, 'the operator caches to sync');
    await watcher.waitForSync();
    const t0 = performance.now();
    await createPool('bench-one', 'ten', 10);
    const accepted = performance.now();
    const pool = () => watcher.get('bench-one/ten');
    await until(() => pool()?.status?.readyReplicas === 10, 120_000, '10 Ready browsers');
    const tenReadyMs = performance.now() - t0;
    const afterAcceptMs = performance.now() - accepted;
    const createReconciles = summarize(reconcileMs);

    const lagDown: number[] = [];
    const lagUp: number[] = [];
    const names = pool()?.status?.browsers?.map((b) => b.name) ?? [];
    for (let i = 0; i < flips; i++) {
      const name = names[i % names.length] ?? '';
      const state = () => pool()?.status?.browsers?.find((b) => b.name === name)?.state;
      let s = performance.now();
      runner.setReady('bench-one', name, false);
      await until(() => state() !== 'Ready', 10_000, `${name} not Ready in status`);
      lagDown.push(performance.now() - s);
      s = performance.now();
      runner.setReady('bench-one', name, true);
      await until(() => state() === 'Ready', 10_000, `${name} Ready in status`);
      lagUp.push(performance.now() - s);
    }
    // A pod deleted outright (evicted, node lost): time until the status stops listing it.
    const lagGone: number[] = [];
    for (let i = 0; i < Math.min(10, flips); i++) {
      await until(() => pool()?.status?.readyReplicas === 10, 30_000, '10 Ready browsers again');
      const name = pool()?.status?.browsers?.find((b) => b.state === 'Ready')?.name ?? '';
      const s = performance.now();
      await coreApi.deleteNamespacedPod({ namespace: 'bench-one', name, gracePeriodSeconds: 0 });
      await until(() => !pool()?.status?.browsers?.some((b) => b.name === name), 10_000, `${name} gone from status`);
      lagGone.push(performance.now() - s);
    }
    const gone = summarize(lagGone);
    const down = summarize(lagDown);
    const up = summarize(lagUp);
    const allReconciles = summarize(reconcileMs);
    tables.push({
      title: 'BrowserPool of 10 (in-process operator, browserless pods)',
      columns: ['measure', 'n', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms'],
      rows: [
        ['create call → 10 Ready in status', 1, tenReadyMs, tenReadyMs, tenReadyMs, tenReadyMs],
        ['create accepted → 10 Ready in status', 1, afterAcceptMs, afterAcceptMs, afterAcceptMs, afterAcceptMs],
        ['reconcile during creation', createReconciles.n, createReconciles.p50, createReconciles.p95, createReconciles.p99, createReconciles.max],
        ['reconcile (all)', allReconciles.n, allReconciles.p50, allReconciles.p95, allReconciles.p99, allReconciles.max],
        ['status lag: pod stops being ready', down.n, down.p50, down.p95, down.p99, down.max],
        ['status lag: pod becomes ready', up.n, up.p50, up.p95, up.p99, up.max],
        ['status lag: pod deleted', gone.n, gone.p50, gone.p95, gone.p99, gone.max],
      ],
    });
    const worstLag = Math.max(down.p99, up.p99, gone.p99);
    targets.push({ name: 'status reflects a pod change (p99)', measured: `${fmt(worstLag)} ms`, target: '≤ 1000 ms', met: worstLag <= 1000 });
    await manager.stop();

    // 3: the operator as its own process, many pools.
    const ns = 'bench-many';
    await coreApi.createNamespace({ body: { metadata: { name: ns } } });
    const memReporter = 'data:text/javascript,setInterval(()=>{process.stderr.write("MEM "+JSON.stringify(process.memoryUsage())+"\\n")},1000).unref()';
    const child = spawn(process.execPath, [
      ...operatorNodeFlags, '--import', memReporter, path.join(REPO, 'operator/src/main.ts'), `--kubeconfig=${cp.kubeconfigPath}`, `--namespaces=${ns}`,
      '--leader-election.enabled=false', '--metrics-port=0', '--health-port=0', '--listen-host=127.0.0.1',
    ], {
      cwd: REPO, stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, LOG_LEVEL: 'error', LOG_FORMAT: 'json', ...(operatorMallocArenaMax ? { MALLOC_ARENA_MAX: operatorMallocArenaMax } : {}) },
    });
    let lastMem: NodeJS.MemoryUsage | undefined;
    let buffered = '';
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        if (line.startsWith('MEM ')) lastMem = JSON.parse(line.slice(4)) as NodeJS.MemoryUsage;
        else if (line.trim()) process.stderr.write(`${line}\n`);
      }
    });
    cleanups.push(async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await Promise.race([new Promise((r) => child.once('exit', r)), sleep(10_000)]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
    });
    const manyWatcher = createInformer<BrowserPool>(kc, { group: BROWSERPOOL_GROUP, version: BROWSERPOOL_VERSION, plural: BROWSERPOOL_PLURAL, namespace: ns }, { logger });
    manyWatcher.start();
    cleanups.push(() => manyWatcher.stop());
    await manyWatcher.waitForSync();
    await sleep(1000);
    const pid = child.pid ?? 0;
    const baseline = procStat(pid);
    const m0 = performance.now();
    for (let start = 0; start < pools; start += 20) {
      await Promise.all(Array.from({ length: Math.min(20, pools - start) }, (_, i) => createPool(ns, `pool-${start + i}`, podsPerPool)));
    }
    const total = pools * podsPerPool;
    await until(() => {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the operator process exited (${child.exitCode ?? child.signalCode}); its stderr is above`);
      const ready = manyWatcher.list().reduce((sum, p) => sum + (p.status?.readyReplicas ?? 0), 0);
      return ready >= total;
    }, 600_000, `${total} Ready browsers`);
    const allReadyMs = performance.now() - m0;
    const loaded = procStat(pid);
    let peakRss = loaded.rssMb;
    const idleStart = procStat(pid);
    const i0 = performance.now();
    while (performance.now() - i0 < idleSeconds * 1000) {
      await sleep(1000);
      peakRss = Math.max(peakRss, procStat(pid).rssMb);
    }
    const idleEnd = procStat(pid);
    const idleCpu = (idleEnd.cpuSeconds - idleStart.cpuSeconds) / ((performance.now() - i0) / 1000);
    tables.push({
      title: `Operator process with ${pools} pools × ${podsPerPool} browserless pods`,
      columns: ['measure', 'value'],
      rows: [
        ['time to all Ready in status (s)', allReadyMs / 1000],
        ['RSS before pools (MB)', baseline.rssMb],
        ['RSS with all pods Ready (MB)', loaded.rssMb],
        [`peak RSS over ${idleSeconds} s idle (MB)`, peakRss],
        ['CPU seconds while creating', loaded.cpuSeconds - baseline.cpuSeconds],
        ['CPU while idle (cores)', idleCpu],
        ['V8 heap used at the end (MB)', (lastMem?.heapUsed ?? Number.NaN) / 1048576],
        ['V8 heap total at the end (MB)', (lastMem?.heapTotal ?? Number.NaN) / 1048576],
        ['external + array buffers (MB)', ((lastMem?.external ?? Number.NaN) + (lastMem?.arrayBuffers ?? 0)) / 1048576],
      ],
    });
    targets.push({ name: `operator RSS at ${total} pods`, measured: `${fmt(peakRss)} MB`, target: '≤ 200 MB', met: peakRss <= 200 });
    notes.push('The first BrowserPool create call itself takes ~2 s on a fresh API server (CRD validation warm-up); "create accepted" starts the clock when the API server answered.');
    notes.push(`Operator Node flags: ${operatorNodeFlags.join(' ') || '(none)'} (OPERATOR_BENCH_NODE_FLAGS); MALLOC_ARENA_MAX=${operatorMallocArenaMax || '(glibc default)'} (OPERATOR_BENCH_MALLOC_ARENA_MAX).`);
    notes.push('Browserless pods have loopback stand-in IPs with nothing listening, so session reads fail fast (connection refused); with real gateways each poll is one small HTTP request per browser every 10 s.');
    return { tables, targets, notes };
  } finally {
    for (const c of cleanups.toReversed()) await c().catch(() => undefined);
    await cp.stop();
  }
}
