/**
 * Router benchmarks, in one run on real chromium-headless-shell behind gateways:
 * lease latency (request → ready page in hand) for pre-warmed leases, on-demand context+page creation and a cold
 * browser launch per call; then throughput of concurrent leases (each a small page goto) on 1 and 2 browsers,
 * with the utilisation of each core during each run, once CPU-bound (local page) and once I/O-bound (the page answers after
 * ROUTER_BENCH_IO_DELAY_MS, default 1000). Sizes: ROUTER_BENCH_WARM (200), ROUTER_BENCH_ONDEMAND (100),
 * ROUTER_BENCH_COLD (15), ROUTER_BENCH_SECONDS (8), ROUTER_BENCH_CONCURRENCY (8).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg } from 'node:os';
import { chromium } from 'playwright-core';
import { createLogger } from '#common/logger.ts';
import { LocalEndpointSource } from '#server/browsers/local-source.ts';
import { BrowserRouter } from '#server/browsers/router.ts';
import { StaticEndpointSource } from '#server/browsers/static-source.ts';
import { coreUtilisation, formatUtilisation, processGroupCpuSeconds, readCpuTimes } from './support/cpu.ts';
import { fmt, ratio, summarize, type BenchReport } from './support/stats.ts';

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/lib/chromium/chromium-headless-shell';
const COLD_ARGS = ['--no-sandbox', '--headless', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic'];
const num = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(predicate: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error('timed out waiting for the pool');
    await sleep(1);
  }
}

/** Runs the router benchmarks and returns their tables and target checks. */
export async function run(): Promise<BenchReport> {
  const logger = createLogger({ component: 'router-bench', level: 'error', format: 'json' });
  const ioDelayMs = num('ROUTER_BENCH_IO_DELAY_MS', 1000);
  const server = createServer((req, res) => {
    const answer = () => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<!doctype html><title>bench</title><h1>Lesson</h1><p>small page</p>');
    };
    if (req.url === '/slow') setTimeout(answer, ioDelayMs);
    else answer();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const local = new LocalEndpointSource({ browsers: 2, allowedOrigins: [origin], logger });
  await local.start();
  const endpoints = local.current();
  const routerOver = async (count: number, options: { prewarm: number; cap: number }) => {
    const source = new StaticEndpointSource({ endpoints: endpoints.slice(0, count).map((e) => ({ id: e.id, url: e.url })), tokenFile: local.tokenPath, tokenPollMs: 0 });
    const router = new BrowserRouter({ source, logger, maxSessionsPerBrowser: options.cap, prewarmPerBrowser: options.prewarm, queueTimeoutMs: 60_000, allowedOrigins: [origin] });
    await router.start();
    return { router, stop: async () => { await router.stop(); await source.stop(); } };
  };

  try {
    // 1. Pre-warmed hand-over on a warm pool: wait until the pool is full before each lease.
    const warm: number[] = [];
    {
      const { router, stop } = await routerOver(1, { prewarm: 2, cap: 4 });
      try {
        for (let i = 0; i < num('ROUTER_BENCH_WARM', 200) + 10; i++) {
          await until(() => router.stats().prewarmed === 2, 10_000);
          const t0 = performance.now();
          await router.withLease(async (lease) => {
            if (i >= 10) warm.push(performance.now() - t0);
            void lease;
          });
        }
      } finally {
        await stop();
      }
    }
    // 2. On-demand context + page for each lease.
    const onDemand: number[] = [];
    {
      const { router, stop } = await routerOver(1, { prewarm: 0, cap: 4 });
      try {
        for (let i = 0; i < num('ROUTER_BENCH_ONDEMAND', 100) + 5; i++) {
          const t0 = performance.now();
          await router.withLease(async () => {
            if (i >= 5) onDemand.push(performance.now() - t0);
          });
        }
      } finally {
        await stop();
      }
    }
    // 3. A cold browser launch per call (launch + connect + page), as the earlier automation did.
    const cold: number[] = [];
    for (let i = 0; i < num('ROUTER_BENCH_COLD', 15); i++) {
      const t0 = performance.now();
      const browser = await chromium.launch({ executablePath: CHROMIUM, args: COLD_ARGS, headless: true });
      const page = await browser.newPage();
      cold.push(performance.now() - t0);
      void page;
      await browser.close();
    }

    // 4. Throughput: the same offered load (N concurrent callers, each lease one goto) on 1 and 2 browsers,
    //    in ABBA order (1, 2, 2, 1) so drift in the machine's other load cancels out. First a local page answered
    //    at once (CPU-bound: context, renderer, page), then one answered after ROUTER_BENCH_IO_DELAY_MS (I/O-bound,
    //    like a remote Composer), where the per-browser session cap is what limits one browser.
    const seconds = num('ROUTER_BENCH_SECONDS', 8);
    const concurrency = num('ROUTER_BENCH_CONCURRENCY', 8);
    const browserGroups = new Set(local.browsers().map((b) => b.chromiumPid));
    const measureThroughput = async (path: string) => {
      const totals = new Map<number, { leases: number; elapsed: number; latencies: number[]; cpuBusy: number[][]; chromiumCpu: number; nodeCpu: number }>();
      for (const count of [1, 2, 2, 1]) {
        const { router, stop } = await routerOver(count, { prewarm: 1, cap: 4 });
        try {
          await until(() => router.stats().prewarmed === count, 10_000);
          const latencies: number[] = [];
          const endAt = performance.now() + (seconds / 2) * 1000;
          const cpuBefore = readCpuTimes();
          const chromiumBefore = processGroupCpuSeconds(browserGroups);
          const nodeBefore = process.cpuUsage();
          const started = performance.now();
          await Promise.all(Array.from({ length: concurrency }, async () => {
            while (performance.now() < endAt) {
              const t0 = performance.now();
              await router.withLease(async (lease) => {
                await lease.page.goto(`${origin}${path}`);
              });
              latencies.push(performance.now() - t0);
            }
          }));
          const elapsed = (performance.now() - started) / 1000;
          const node = process.cpuUsage(nodeBefore);
          const t = totals.get(count) ?? { leases: 0, elapsed: 0, latencies: [], cpuBusy: [], chromiumCpu: 0, nodeCpu: 0 };
          t.leases += latencies.length;
          t.elapsed += elapsed;
          t.latencies.push(...latencies);
          t.cpuBusy.push(coreUtilisation(cpuBefore, readCpuTimes()));
          t.chromiumCpu += processGroupCpuSeconds(browserGroups) - chromiumBefore;
          t.nodeCpu += (node.user + node.system) / 1e6;
          totals.set(count, t);
        } finally {
          await stop();
        }
      }
      return [1, 2].map((count) => {
        const t = totals.get(count)!;
        const cores = t.cpuBusy[0]!.map((_, i) => t.cpuBusy.reduce((a, r) => a + r[i]!, 0) / t.cpuBusy.length);
        return {
          browsers: count,
          leases: t.leases,
          perSecond: t.leases / t.elapsed,
          latency: summarize(t.latencies),
          cpu: cores,
          chromiumCores: t.chromiumCpu / t.elapsed,
          nodeCores: t.nodeCpu / t.elapsed,
          cpuMsPerLease: ((t.chromiumCpu + t.nodeCpu) * 1000) / t.leases,
          load: loadavg()[0]!,
        };
      });
    };
    const throughput = await measureThroughput('/');
    const ioThroughput = await measureThroughput('/slow');

    const w = summarize(warm);
    const d = summarize(onDemand);
    const c = summarize(cold);
    const one = throughput[0]!;
    const two = throughput[1]!;
    const speedup = ratio(two.perSecond, one.perSecond);
    const ioSpeedup = ratio(ioThroughput[1]!.perSecond, ioThroughput[0]!.perSecond);
    const throughputColumns = ['browsers', 'leases', 'leases/s', 'lease p50 ms', 'lease p95 ms', 'lease p99 ms', 'cores busy (machine)', 'chromium cores', 'bench node cores', 'CPU ms/lease'];
    const throughputRows = (rows: typeof throughput) =>
      rows.map((t) => [t.browsers, t.leases, t.perSecond, t.latency.p50, t.latency.p95, t.latency.p99, formatUtilisation(t.cpu), t.chromiumCores, t.nodeCores, t.cpuMsPerLease]);
    return {
      tables: [
        {
          title: 'Lease latency: request → ready page in hand (ms)',
          columns: ['path', 'n', 'p50', 'p95', 'p99', 'max', 'p50 vs pre-warmed'],
          rows: [
            ['pre-warmed hand-over', w.n, w.p50, w.p95, w.p99, w.max, '1x'],
            ['on-demand context+page', d.n, d.p50, d.p95, d.p99, d.max, `${fmt(ratio(d.p50, w.p50))}x`],
            ['cold launch + connect + page', c.n, c.p50, c.p95, c.p99, c.max, `${fmt(ratio(c.p50, w.p50))}x`],
          ],
        },
        {
          title: `Throughput: ${concurrency} concurrent callers, ${seconds} s per browser count (ABBA rounds), each lease one goto of a local page (cap 4/browser)`,
          columns: throughputColumns,
          rows: throughputRows(throughput),
        },
        {
          title: `Throughput, I/O-bound: as above, but the page answers after ${ioDelayMs} ms (like a remote Composer); 2 vs 1 browser: ${fmt(ioSpeedup)}x`,
          columns: throughputColumns,
          rows: throughputRows(ioThroughput),
        },
      ],
      targets: [
        { name: 'pre-warmed lease p50', measured: `${fmt(w.p50)} ms`, target: '≤ 5 ms', met: w.p50 <= 5 },
        { name: 'pre-warmed lease p99', measured: `${fmt(w.p99)} ms`, target: '≤ 25 ms', met: w.p99 <= 25 },
        { name: 'cold launch / pre-warmed at p50', measured: `${fmt(ratio(c.p50, w.p50))}x`, target: '≥ 50x', met: ratio(c.p50, w.p50) >= 50 },
        { name: '2 browsers / 1 browser throughput', measured: `${fmt(speedup)}x`, target: '≥ 1.5x', met: speedup >= 1.5 },
      ],
      notes: [
        `Cores during throughput: 1 browser ${formatUtilisation(one.cpu)}; 2 browsers ${formatUtilisation(two.cpu)} (machine-wide, other engineers' work included; load average ${fmt(two.load)}). Of that, the browsers (all their processes) used ${fmt(one.chromiumCores)} / ${fmt(two.chromiumCores)} cores and this Node process (router, Playwright client, both gateways, the page server) ${fmt(one.nodeCores)} / ${fmt(two.nodeCores)} cores.`,
        `Each lease costs about ${fmt(one.cpuMsPerLease)} ms of CPU (mostly Chromium starting a renderer for the new context, loading and closing it), spread over several processes: one browser alone already used ${fmt(one.chromiumCores)} cores, so on 2 shared cores the CPU-bound case cannot gain much from a second browser; the I/O-bound case shows the gain when browsers are limited by their session cap rather than by CPU.`,
        'Pre-warmed leases are measured on a warm pool (the router refilled its 2 warm contexts before each lease); every lease runs behind its gateway\'s egress proxy, and its context is marked leased at the gateway (not awaited).',
      ],
    };
  } finally {
    await local.stop();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
