/**
 * Capacity measurements, in one run, of the product as a client sees it: the real server process
 * (`node server/src/main.ts`, a local pool of ONE chromium-headless-shell behind its gateway, cap
 * CAPACITY_BENCH_CAP = 8 sessions) driven by the MCP SDK's Client over Streamable HTTP, opening the every-widget
 * composition stored in the Composer stand-in of this process.
 *
 * 1. Memory of one browser (PSS of all its processes, shared pages counted once): just started, and warm (the pool's
 *    pre-warmed context) between calls.
 * 2. Concurrency 1, 2, 4, 8: N callers call composer_open_composition back to back for CAPACITY_BENCH_SECONDS (8) each;
 *    the browser's PSS is sampled every 100 ms; per level the peak PSS (95th percentile of the samples), calls/s,
 *    latency and CPU (Chromium, server). Memory per session = least-squares slope of peak PSS over N.
 * 3. Cost of one call at concurrency 1 (CAPACITY_BENCH_CALLS = 20 each): open (PNG), preview (PDF), and a call with no
 *    browser (validate): latency, lease hold (from the server's /metrics), CPU per call.
 * 4. Creep: warm idle PSS after all those leases against the first reading, per 100 leases.
 * 5. Cold start: CAPACITY_BENCH_COLD (5) new browsers (Chromium + gateway) launched, connected, first page, vs the
 *    warm hand-over (the server's mean lease wait at concurrency 1).
 *
 * Prints the plan for the default inputs and writes the measurements to $TMPDIR/composer-mcp-capacity.json, or with
 * CAPACITY_BENCH_SAVE=1 to bench/results/capacity.json (what `make capacity` and docs/capacity.md use: then run
 * `make capacity-docs` and commit both). Only loopback addresses; everything started is stopped.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { execFileSync } from 'node:child_process';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { SignJWT } from 'jose';
import { chromium } from 'playwright-core';
import { startLocalBrowser } from '#browser/local-browser.ts';
import { createLogger } from '#common/logger.ts';
import { startComposerStandin } from '#support/composer-standin/standin.ts';
import { everyWidgetComposition, WIDGET_TYPE_COUNT } from '#support/fixtures/every-widget-composition.ts';
import { CAPACITY_RESULTS_PATH, DEFAULT_INPUTS, fitBrowserMemory, renderPlan, type CallCost, type CapacityMeasurements } from './capacity-model.ts';
import { processGroupCpuSeconds } from './support/cpu.ts';
import { chromiumGroupsOf, pidsInGroups, processCpuSeconds, pssMiB, rssMiB, startSampler } from './support/process-memory.ts';
import { histogramTotals, meanBetween } from './support/prometheus-text.ts';
import { startServerProcess, type ServerProcess } from './support/server-process.ts';
import { fmt, summarize, type BenchReport } from './support/stats.ts';

const PROJECT_KEY = 'bench-project-key';
const CONNECTOR_UID = 'bench-connector';

const num = (name: string, fallback: number): number => {
  const raw = process.env[name];
  const n = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a whole number ≥ 1, got ${JSON.stringify(raw)}`);
  return n;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface PoolStatus { healthy: number; sessionsInUse: number; queueDepth: number; prewarmed: number }

async function call(client: Client, name: string, args: Record<string, unknown>): Promise<CallToolResult> {
  const result = (await client.callTool({ name, arguments: args }, undefined, { timeout: 120_000 })) as CallToolResult;
  if (result.isError) throw new Error(`${name} failed: ${JSON.stringify(result.structuredContent ?? result.content).slice(0, 1500)}`);
  return result;
}

async function settledPool(client: Client, timeoutMs = 30_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const s = (await call(client, 'composer_status', {})).structuredContent as { browsers: PoolStatus };
    if (s.browsers.healthy > 0 && s.browsers.sessionsInUse === 0 && s.browsers.queueDepth === 0 && s.browsers.prewarmed >= 1) return;
    if (performance.now() > deadline) throw new Error(`The pool did not settle within ${timeoutMs} ms: ${JSON.stringify(s.browsers)}`);
    await sleep(20);
  }
}

async function leaseTotals(server: ServerProcess) {
  const text = await (await fetch(`${server.origin}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
  return { wait: histogramTotals(text, 'composer_mcp_router_lease_wait'), hold: histogramTotals(text, 'composer_mcp_router_lease_hold') };
}

/** Runs the capacity measurements, writes bench/results/capacity.json and returns the report. */
export async function run(): Promise<BenchReport> {
  const seconds = num('CAPACITY_BENCH_SECONDS', 8);
  const perCall = num('CAPACITY_BENCH_CALLS', 20);
  const coldRuns = num('CAPACITY_BENCH_COLD', 5);
  const cap = num('CAPACITY_BENCH_CAP', 8);
  const levels = [1, 2, 4, 8].filter((n) => n <= cap);
  const logger = createLogger({ component: 'capacity-bench', level: 'error', format: 'json' });
  const dir = mkdtempSync(join(tmpdir(), 'composer-mcp-bench-capacity-'));
  const cleanups: Array<() => Promise<unknown>> = [];
  const cleanUp = async () => {
    for (const c of cleanups.splice(0).toReversed()) await c().catch((error: unknown) => logger.error('Failed to clean up', { error: (error as Error).message }));
    rmSync(dir, { recursive: true, force: true });
  };
  const onSignal = (signal: NodeJS.Signals) => void cleanUp().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const jwtSecret = `bench-secret-${process.pid}-${Date.now()}`;
    const token = await new SignJWT({ name: 'Bench', pad: 'x'.repeat(2400) }).setProtectedHeader({ alg: 'HS256' }).setSubject('bench').setIssuedAt().setExpirationTime('2h').sign(new TextEncoder().encode(jwtSecret));
    const standin = await startComposerStandin({ jwtSecret, projectKey: PROJECT_KEY, connectorUids: [CONNECTOR_UID] });
    cleanups.push(() => standin.stop());
    const server = await startServerProcess({
      COMPOSER_MCP_COMPOSER__COMPOSER_URL: standin.appUrl,
      COMPOSER_MCP_COMPOSER__API_URL: standin.apiUrl,
      COMPOSER_MCP_COMPOSER__ACCESS_TOKEN: token,
      COMPOSER_MCP_COMPOSER__PROJECT_KEY: PROJECT_KEY,
      COMPOSER_MCP_COMPOSER__CONNECTOR_UID: CONNECTOR_UID,
      COMPOSER_MCP_BROWSERS__SOURCE: 'local',
      COMPOSER_MCP_BROWSERS__LOCAL__COUNT: '1',
      COMPOSER_MCP_BROWSERS__MAX_SESSIONS_PER_BROWSER: String(cap),
      COMPOSER_MCP_BROWSERS__QUEUE_LIMIT: '64',
      COMPOSER_MCP_BROWSERS__QUEUE_TIMEOUT_MS: '120000',
      COMPOSER_MCP_RATE_LIMIT__MAX_REQUESTS: '1000000',
      COMPOSER_MCP_SHUTDOWN_GRACE_SECONDS: '5',
    });
    cleanups.push(() => server.stop());
    const client = new Client({ name: 'capacity-bench', version: '0.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(server.mcpUrl)));
    cleanups.push(() => client.close());
    const document = everyWidgetComposition('Benchmark: capacity', 'One widget of every type, for the capacity benchmark');
    const uid = String(((await call(client, 'composer_save_composition', { composition: document })).structuredContent as { uid: string }).uid);
    await settledPool(client, 60_000);
    const groups = chromiumGroupsOf(server.pid);
    if (groups.size !== 1) throw new Error(`expected one Chromium process group under the server, found ${groups.size}`);
    const browserPss = () => pssMiB(pidsInGroups(groups));
    const cpuNow = () => ({ chromium: processGroupCpuSeconds(groups), server: processCpuSeconds(server.pid) });
    const load: number[] = [loadavg()[0]!];

    // 1. Warm idle memory (median of 10 readings over a second).
    const idleReadings = async () => {
      await settledPool(client);
      await sleep(2000); // let the renderers of finished leases exit and the browser collect
      const r: number[] = [];
      for (let i = 0; i < 10; i++) { r.push(browserPss()); await sleep(100); }
      return summarize(r).p50;
    };
    // Warm-up: a few opens so the first-call costs (code caches, fonts) are not in the figures.
    for (let i = 0; i < 3; i++) await call(client, 'composer_open_composition', { uid });
    const warmIdleFirst = await idleReadings();
    const serverIdleRss = rssMiB(server.pid);
    let leases = 3;

    // 3. One call at a time: open (PNG), preview (PDF), and a call with no browser.
    // Background CPU (health probes, timers) while idle, subtracted from the per-call figures below.
    const idle0 = cpuNow();
    const idleStarted = performance.now();
    await sleep(3000);
    const idle1 = cpuNow();
    const idleSeconds = (performance.now() - idleStarted) / 1000;
    const idleRate = { chromium: (idle1.chromium - idle0.chromium) / idleSeconds, server: (idle1.server - idle0.server) / idleSeconds };
    const oneAtATime = async (name: string, args: Record<string, unknown>): Promise<CallCost> => {
      await settledPool(client);
      const latencies: number[] = [];
      const before = await leaseTotals(server);
      const cpu0 = cpuNow();
      const started = performance.now();
      for (let i = 0; i < perCall; i++) {
        const t0 = performance.now();
        await call(client, name, args);
        latencies.push(performance.now() - t0);
        // Let the pool refill its warm context (part of a call's cost) without polling the server.
        await sleep(300);
      }
      const cpu1 = cpuNow();
      const elapsed = (performance.now() - started) / 1000;
      const after = await leaseTotals(server);
      leases += perCall;
      const s = summarize(latencies);
      const perCallMs = (used: number, rate: number) => (Math.max(0, used - rate * elapsed) * 1000) / perCall;
      return {
        callMsP50: s.p50, callMsP95: s.p95, holdMs: meanBetween(before.hold, after.hold),
        chromiumCpuMs: perCallMs(cpu1.chromium - cpu0.chromium, idleRate.chromium), serverCpuMs: perCallMs(cpu1.server - cpu0.server, idleRate.server),
      };
    };
    const waitBefore = await leaseTotals(server);
    const open = await oneAtATime('composer_open_composition', { uid });
    const warmHandOverMsMean = meanBetween(waitBefore.wait, (await leaseTotals(server)).wait);
    const previewPdf = await oneAtATime('composer_preview_composition', { uid, format: 'pdf' });
    const noBrowserLatencies: number[] = [];
    const nb0 = processCpuSeconds(server.pid);
    const nbStarted = performance.now();
    for (let i = 0; i < perCall; i++) {
      const t0 = performance.now();
      await call(client, 'composer_validate_composition', { composition: document });
      noBrowserLatencies.push(performance.now() - t0);
    }
    const nbUsed = processCpuSeconds(server.pid) - nb0 - idleRate.server * ((performance.now() - nbStarted) / 1000);
    const noBrowser = { callMsP50: summarize(noBrowserLatencies).p50, serverCpuMs: (Math.max(0, nbUsed) * 1000) / perCall };

    // 2. Concurrency levels on one browser.
    load.push(loadavg()[0]!);
    const throughput: CapacityMeasurements['throughput'] = [];
    const peakMiB: Array<{ sessions: number; mib: number }> = [];
    let serverPeakRss = serverIdleRss;
    for (const sessions of levels) {
      await settledPool(client);
      const latencies: number[] = [];
      const sampler = startSampler(browserPss);
      const cpu0 = cpuNow();
      const started = performance.now();
      const endAt = started + seconds * 1000;
      await Promise.all(Array.from({ length: sessions }, async () => {
        while (performance.now() < endAt) {
          const t0 = performance.now();
          await call(client, 'composer_open_composition', { uid });
          latencies.push(performance.now() - t0);
        }
      }));
      const elapsed = (performance.now() - started) / 1000;
      const cpu1 = cpuNow();
      const samples = sampler.stop();
      serverPeakRss = Math.max(serverPeakRss, rssMiB(server.pid));
      leases += latencies.length;
      const s = summarize(latencies);
      // The 95th percentile of the samples: what the browser holds at this load, not one garbage-collection spike.
      peakMiB.push({ sessions, mib: summarize(samples).p95 });
      throughput.push({
        sessions, callsPerSecond: latencies.length / elapsed, callMsP50: s.p50, callMsP95: s.p95,
        chromiumCores: (cpu1.chromium - cpu0.chromium) / elapsed, serverCores: (cpu1.server - cpu0.server) / elapsed,
      });
    }
    load.push(loadavg()[0]!);

    // 4. Creep after every lease above.
    const warmIdleLast = await idleReadings();

    // 5. Cold start: a new Chromium + gateway, connected, first page.
    const tokenFile = join(dir, 'cdp-token');
    const cdpToken = `bench-cdp-${crypto.randomUUID()}`;
    writeFileSync(tokenFile, `${cdpToken}\n`, { mode: 0o600 });
    const cold: number[] = [];
    let idleMiB = Number.NaN;
    for (let i = 0; i < coldRuns; i++) {
      const t0 = performance.now();
      const local = await startLocalBrowser({ tokenFile, rootDir: dir, logger, allowedOrigins: [standin.appUrl, standin.apiUrl] });
      try {
        const browser = await chromium.connectOverCDP(local.endpoint, { headers: { Authorization: `Bearer ${cdpToken}` }, timeout: 15_000 });
        const context = await browser.newContext();
        await context.newPage();
        cold.push(performance.now() - t0);
        await context.close();
        if (i === 0) {
          await sleep(500);
          idleMiB = pssMiB(pidsInGroups(new Set([local.chromiumPid])));
        }
        await browser.close();
      } finally {
        await local.stop();
      }
    }
    const coldSummary = summarize(cold);

    const chromiumVersion = (() => {
      try {
        return execFileSync(process.env['CHROMIUM_PATH'] ?? '/usr/lib/chromium/chromium-headless-shell', ['--version'], { encoding: 'utf8', timeout: 10_000 }).trim();
      } catch {
        return 'chromium-headless-shell (version unknown)';
      }
    })();
    const measurements: CapacityMeasurements = {
      measuredAt: new Date().toISOString(),
      machine: { cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), loadAverage: Math.max(...load), node: process.version, chromium: chromiumVersion },
      workload: `composer_open_composition of a ${WIDGET_TYPE_COUNT}-widget composition (one of every type, editor route, viewport PNG) on the Composer stand-in`,
      browser: {
        idleMiB, warmIdleMiB: warmIdleFirst,
        perSessionMiB: fitBrowserMemory(peakMiB).perSessionMiB,
        peakMiB,
        creepMiBPer100Leases: ((warmIdleLast - warmIdleFirst) * 100) / leases,
        leasesServed: leases,
      },
      calls: { open, previewPdf, noBrowser },
      throughput,
      coldStart: { launchToPageMsP50: coldSummary.p50, launchToPageMsP95: coldSummary.p95, warmHandOverMsMean },
      server: { idleRssMiB: serverIdleRss, loadedRssMiB: serverPeakRss },
    };
    // The committed measurements move only on purpose (CAPACITY_BENCH_SAVE=1), since docs/capacity.md is generated
    // from them and a unit test holds the two together; otherwise the run is kept beside the temp files.
    const save = process.env['CAPACITY_BENCH_SAVE'] === '1';
    const written = save ? CAPACITY_RESULTS_PATH : join(tmpdir(), 'composer-mcp-capacity.json');
    mkdirSync(resolve(written, '..'), { recursive: true });
    writeFileSync(written, `${JSON.stringify(measurements, null, 2)}\n`);

    const m = measurements;
    return {
      tables: [
        {
          title: 'One browser: memory (PSS of all its processes, MiB)',
          columns: ['state', 'MiB'],
          rows: [
            ['just started, no context', m.browser.idleMiB],
            ['warm idle (1 pre-warmed context), before the load', m.browser.warmIdleMiB],
            ...m.browser.peakMiB.map((p) => [`peak with ${p.sessions} concurrent open session${p.sessions === 1 ? '' : 's'}`, p.mib]),
            ['per concurrent session (least-squares slope of the peaks)', m.browser.perSessionMiB],
            ['base under load (intercept of that line)', fitBrowserMemory(m.browser.peakMiB).baseMiB],
            [`warm idle after ${m.browser.leasesServed} leases (creep ${fmt(m.browser.creepMiBPer100Leases)} MiB / 100 leases)`, warmIdleLast],
          ],
        },
        {
          title: 'One call at a time: cost per call',
          columns: ['call', 'p50 ms', 'p95 ms', 'lease hold ms', 'Chromium CPU ms', 'server CPU ms'],
          rows: [
            ['composer_open_composition (PNG)', open.callMsP50, open.callMsP95, open.holdMs, open.chromiumCpuMs, open.serverCpuMs],
            ['composer_preview_composition (PDF)', previewPdf.callMsP50, previewPdf.callMsP95, previewPdf.holdMs, previewPdf.chromiumCpuMs, previewPdf.serverCpuMs],
            ['composer_validate_composition (no browser)', noBrowser.callMsP50, '', '', '', noBrowser.serverCpuMs],
          ],
        },
        {
          title: `One browser under N concurrent callers of composer_open_composition (${seconds} s each)`,
          columns: ['sessions', 'calls/s', 'p50 ms', 'p95 ms', 'Chromium cores', 'server cores', 'peak PSS MiB'],
          rows: m.throughput.map((t, i) => [t.sessions, t.callsPerSecond, t.callMsP50, t.callMsP95, t.chromiumCores, t.serverCores, m.browser.peakMiB[i]!.mib]),
        },
        {
          title: 'Cold browser vs warm hand-over (ms)',
          columns: ['path', 'p50', 'p95'],
          rows: [
            [`cold: launch Chromium + gateway, connect, first page (${coldRuns} runs)`, m.coldStart.launchToPageMsP50, m.coldStart.launchToPageMsP95],
            ['warm: the pool hands over a pre-warmed context (mean lease wait)', m.coldStart.warmHandOverMsMean, ''],
          ],
        },
      ],
      notes: [
        `Server RSS ${fmt(m.server.idleRssMiB)} MiB idle, ${fmt(m.server.loadedRssMiB)} MiB at most under load (one browser). Machine: ${m.machine.cores} cores shared with other work, 1-minute load average up to ${fmt(m.machine.loadAverage)}: CPU and latency figures are upper bounds.`,
        save
          ? `Wrote ${written}: run \`make capacity-docs\` to move docs/capacity.md to these figures. Plan for the default inputs:\n\n${renderPlan(m, DEFAULT_INPUTS)}`
          : `Wrote ${written} (CAPACITY_BENCH_SAVE=1 writes ${CAPACITY_RESULTS_PATH} instead; \`make capacity CAPACITY_ARGS=--measurements=${written}\` plans from this run). Plan for the default inputs:\n\n${renderPlan(m, DEFAULT_INPUTS)}`,
      ],
    };
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await cleanUp();
  }
}
