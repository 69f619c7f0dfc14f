/**
 * `composer_open_composition` end to end versus the same page work done by a direct Playwright script, in one run.
 *
 * A (the product): the real server process (`node server/src/main.ts`, HTTP on 127.0.0.1, a local browser pool of
 * BENCH_OPEN_BROWSERS (default 1) chromium-headless-shell behind its gateway) driven by the MCP SDK's real Client
 * over Streamable HTTP; the time is what the client sees for one `composer_open_composition` call.
 * B (the baseline): playwright-core connected over CDP to an already running browser (same binary, same gateway
 * path, `startLocalBrowser`); per iteration a new context, the server's own sign-in init script, editor URL and
 * readiness waits (`visitComposition`), the same viewport PNG screenshot (`capturePng`), context closed.
 * Both open the same composition (one widget of every type) stored in the Composer stand-in of this process.
 * Diagnostics (BENCH_OPEN_DIAGNOSTICS=0 leaves them out): C is B plus the router's refused-request watch on its
 * context; D is C plus a second context and page created during the page load, as the router's pre-warm refill does.
 * Iterations alternate A, B, C, D, A, B, C, D… after BENCH_WARMUP (3) of each; BENCH_ITERATIONS (30) timed of each. Before each
 * timed call the server's pool is idle with its warm context refilled, so neither path pays for the other's
 * clean-up. Everything started here is stopped at the end; only loopback addresses are used.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { SignJWT } from 'jose';
import { chromium, type Browser } from 'playwright-core';
import { startLocalBrowser, type LocalBrowser } from '#browser/local-browser.ts';
import { createLogger } from '#common/logger.ts';
import { HttpStorageClient } from '#server/composer/storage-client.ts';
import { composerOrigins } from '#server/composer/session/browser-work.ts';
import { DEFAULT_PAGE_SETTINGS, resolvePageSettings } from '#server/composer/session/page-settings.ts';
import type { ComposerSettings } from '#server/composer/ports/composer-settings.ts';
import { startComposerStandin, type ComposerStandin } from '#support/composer-standin/standin.ts';
import { coreUtilisation, formatUtilisation, processGroupCpuSeconds, readCpuTimes } from './support/cpu.ts';
import { openDirectly, type DirectOpen } from './support/direct-open.ts';
import { everyWidgetComposition, WIDGET_TYPE_COUNT } from '#support/fixtures/every-widget-composition.ts';
import { histogramTotals, meanBetween, type HistogramTotals } from './support/prometheus-text.ts';
import { startServerProcess, type ServerProcess } from './support/server-process.ts';
import { fmt, ratio, summarize, type BenchReport, type Summary } from './support/stats.ts';

const TOOL = 'composer_open_composition';
const PROJECT_KEY = 'bench-project-key';
const CONNECTOR_UID = 'bench-connector';
const TARGET_P50_RATIO = 1.1;

const num = (name: string, fallback: number, min: number): number => {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer ≥ ${min}, got ${JSON.stringify(raw)}`);
  return n;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const row = (name: string, s: Summary) => [name, s.n, s.min, s.p50, s.p95, s.p99, s.max, s.mean];
const mean = (values: readonly number[]) => (values.length === 0 ? Number.NaN : values.reduce((a, b) => a + b, 0) / values.length);

/** Samples of a direct (Playwright script) path. */
interface DirectSamples {
  total: number[];
  visit: number[];
  context: number[];
  screenshot: number[];
  close: number[];
  notReady: number;
  widgets: Set<number>;
  shots: Set<string>;
}

const directSamples = (): DirectSamples => ({ total: [], visit: [], context: [], screenshot: [], close: [], notReady: 0, widgets: new Set(), shots: new Set() });

function addDirect(samples: DirectSamples, result: DirectOpen): void {
  samples.total.push(result.totalMs);
  samples.visit.push(result.visit.timings.readyMs);
  samples.context.push(result.phases.contextMs);
  samples.screenshot.push(result.phases.screenshotMs);
  samples.close.push(result.phases.closeMs);
  if (!result.visit.ready) samples.notReady++;
  samples.widgets.add(result.visit.renderedWidgets.length);
  samples.shots.add(`${result.screenshot.width}x${result.screenshot.height}`);
}

/** The tool's structured result fields this benchmark reads. */
interface OpenReport {
  ready: boolean;
  browserId: string;
  renderedWidgets: unknown[];
  timings: { readMs: number; readyMs: number };
  screenshot: { width: number; height: number; bytes: number };
}

/** The pool figures of `composer_status`. */
interface PoolStatus {
  healthy: number;
  sessionsInUse: number;
  queueDepth: number;
  prewarmed: number;
}

async function poolStatus(client: Client): Promise<PoolStatus> {
  const result = (await client.callTool({ name: 'composer_status', arguments: {} }, undefined, { timeout: 15_000 })) as CallToolResult;
  if (result.isError) throw new Error(`composer_status failed: ${JSON.stringify(result.content)}`);
  return (result.structuredContent as { browsers: PoolStatus }).browsers;
}

/** Waits until the server's pool is idle with `warm` contexts ready (so a call starts on a settled pool). */
async function settledPool(client: Client, warm: number, timeoutMs = 30_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const s = await poolStatus(client);
    if (s.healthy > 0 && s.sessionsInUse === 0 && s.queueDepth === 0 && s.prewarmed >= warm) return;
    if (performance.now() > deadline) throw new Error(`The server's browser pool did not settle within ${timeoutMs} ms: ${JSON.stringify(s)}`);
    await sleep(20);
  }
}

/** Process groups of the Chromium browsers the server started (direct children that lead their own group). */
function childProcessGroups(parentPid: number): Set<number> {
  const groups = new Set<number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(f[1]) === parentPid && Number(f[2]) === Number(entry) && /chrom/i.test(stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')))) groups.add(Number(entry));
    } catch {
      // the process ended
    }
  }
  return groups;
}

/** CPU seconds (user + system) of one process so far. */
function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

async function scrape(server: ServerProcess): Promise<{ wait: HistogramTotals; hold: HistogramTotals; tool: HistogramTotals }> {
  const text = await (await fetch(`${server.origin}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
  return {
    wait: histogramTotals(text, 'composer_mcp_router_lease_wait'),
    hold: histogramTotals(text, 'composer_mcp_router_lease_hold'),
    tool: histogramTotals(text, 'composer_mcp_tool_duration_seconds', { tool: TOOL, outcome: 'ok' }),
  };
}

/** Runs the benchmark and returns its tables, the ≤ 1.10x target check and notes. */
export async function run(): Promise<BenchReport> {
  const iterations = num('BENCH_ITERATIONS', 30, 1);
  const warmup = num('BENCH_WARMUP', 3, 0);
  const browserCount = num('BENCH_OPEN_BROWSERS', 1, 1);
  const probeAllowlist = process.env['BENCH_OPEN_DIAGNOSTICS'] !== '0';
  const logger = createLogger({ component: 'open-composition-bench', level: 'error', format: 'json' });
  const dir = mkdtempSync(join(tmpdir(), 'composer-mcp-bench-open-'));
  const cleanups: Array<() => Promise<unknown>> = [];
  const load: number[] = [loadavg()[0]!];
  const cleanUp = async () => {
    for (const cleanup of cleanups.splice(0).toReversed()) {
      await cleanup().catch((error: unknown) => logger.error('Failed to clean up', { error: (error as Error).message }));
    }
    rmSync(dir, { recursive: true, force: true });
  };
  // Interrupted (Ctrl-C, a CI timeout): stop the server, its browsers and ours before exiting, as `finally` would.
  const onSignal = (signal: NodeJS.Signals) => {
    void cleanUp().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    // The Composer stand-in, with a JWT of about the real token's size, and the composition both paths open.
    const jwtSecret = `bench-secret-${process.pid}-${Date.now()}`;
    const token = await new SignJWT({ name: 'Bench', pad: 'x'.repeat(2400) }).setProtectedHeader({ alg: 'HS256' }).setSubject('bench').setIssuedAt().setExpirationTime('2h').sign(new TextEncoder().encode(jwtSecret));
    const standin: ComposerStandin = await startComposerStandin({ jwtSecret, projectKey: PROJECT_KEY, connectorUids: [CONNECTOR_UID] });
    cleanups.push(() => standin.stop());
    const settings: ComposerSettings = { composerUrl: standin.appUrl, apiUrl: standin.apiUrl, accessToken: token, projectKey: PROJECT_KEY, connectorUid: CONNECTOR_UID, apiEnv: 'prd' };
    const { uid } = await new HttpStorageClient(settings, { logger }).upload(everyWidgetComposition('Benchmark: every widget', 'One widget of every type, for the open-composition benchmark'));
    const pageSettings = resolvePageSettings(undefined);

    // B's browser: already running, same binary and gateway path as the server's local pool.
    const tokenFile = join(dir, 'cdp-token');
    const cdpToken = `bench-cdp-${crypto.randomUUID()}`;
    writeFileSync(tokenFile, `${cdpToken}\n`, { mode: 0o600 });
    const local: LocalBrowser = await startLocalBrowser({ tokenFile, rootDir: dir, allowedOrigins: [standin.appUrl, standin.apiUrl], logger });
    cleanups.push(() => local.stop());
    const browser: Browser = await chromium.connectOverCDP(local.endpoint, { headers: { Authorization: `Bearer ${cdpToken}` }, timeout: 15_000 });
    cleanups.push(() => browser.close());

    // A: the real server process with a local pool, and the real MCP client over Streamable HTTP.
    const server = await startServerProcess({
      COMPOSER_MCP_COMPOSER__COMPOSER_URL: standin.appUrl,
      COMPOSER_MCP_COMPOSER__API_URL: standin.apiUrl,
      COMPOSER_MCP_COMPOSER__ACCESS_TOKEN: token,
      COMPOSER_MCP_COMPOSER__PROJECT_KEY: PROJECT_KEY,
      COMPOSER_MCP_COMPOSER__CONNECTOR_UID: CONNECTOR_UID,
      COMPOSER_MCP_BROWSERS__SOURCE: 'local',
      COMPOSER_MCP_BROWSERS__LOCAL__COUNT: String(browserCount),
      // Status polls between calls would trip the default 120 requests/minute per client.
      COMPOSER_MCP_RATE_LIMIT__MAX_REQUESTS: '1000000',
      COMPOSER_MCP_SHUTDOWN_GRACE_SECONDS: '5',
    });
    cleanups.push(() => server.stop());
    const client = new Client({ name: 'open-composition-bench', version: '0.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(server.mcpUrl)));
    cleanups.push(() => client.close());
    const warmPerBrowser = 1; // browsers.prewarmPerBrowser default
    await settledPool(client, warmPerBrowser * browserCount, 60_000);

    const openA = async () => {
      await settledPool(client, warmPerBrowser * browserCount);
      const t0 = performance.now();
      const result = (await client.callTool({ name: TOOL, arguments: { uid } }, undefined, { timeout: 60_000 })) as CallToolResult;
      const totalMs = performance.now() - t0;
      if (result.isError) throw new Error(`${TOOL} failed: ${JSON.stringify(result.structuredContent ?? result.content).slice(0, 2000)}`);
      const image = result.content.find((c) => c.type === 'image');
      if (!image) throw new Error(`${TOOL} returned no image content`);
      return { totalMs, report: result.structuredContent as unknown as OpenReport };
    };
    const openDirect = async (allowlist: boolean, refillAlongside = false) => {
      await settledPool(client, warmPerBrowser * browserCount);
      return openDirectly(browser, { settings, page: pageSettings, uid, refillAlongside, ...(allowlist ? { allowedOrigins: composerOrigins(settings) } : {}) });
    };

    for (let i = 0; i < warmup; i++) {
      await openA();
      await openDirect(false);
      if (probeAllowlist) await openDirect(true);
      if (probeAllowlist) await openDirect(true, true);
    }

    const a = { total: [] as number[], visit: [] as number[], notReady: 0, widgets: new Set<number>(), shots: new Set<string>() };
    const b = directSamples();
    const c = directSamples();
    const d = directSamples();
    const chromiumGroupsA = childProcessGroups(server.pid);
    const chromiumGroupB = new Set([local.chromiumPid]);
    const cpu = { a: 0, server: 0, b: 0, c: 0, d: 0 };
    const metricsBefore = await scrape(server);
    const cpuBefore = readCpuTimes();
    load.push(loadavg()[0]!);
    for (let i = 0; i < iterations; i++) {
      // A
      let chromiumBefore = processGroupCpuSeconds(chromiumGroupsA);
      const serverBefore = processCpuSeconds(server.pid);
      const resultA = await openA();
      cpu.a += processGroupCpuSeconds(chromiumGroupsA) - chromiumBefore;
      cpu.server += processCpuSeconds(server.pid) - serverBefore;
      a.total.push(resultA.totalMs);
      a.visit.push(resultA.report.timings.readyMs);
      if (!resultA.report.ready) a.notReady++;
      a.widgets.add(resultA.report.renderedWidgets.length);
      a.shots.add(`${resultA.report.screenshot.width}x${resultA.report.screenshot.height}`);
      // B
      chromiumBefore = processGroupCpuSeconds(chromiumGroupB);
      addDirect(b, await openDirect(false));
      cpu.b += processGroupCpuSeconds(chromiumGroupB) - chromiumBefore;
      // C (diagnostic): B plus the router's refused-request watch
      if (probeAllowlist) {
        chromiumBefore = processGroupCpuSeconds(chromiumGroupB);
        addDirect(c, await openDirect(true));
        cpu.c += processGroupCpuSeconds(chromiumGroupB) - chromiumBefore;
        // D (diagnostic): C plus a warm context created alongside, as the pool's refill does during A
        chromiumBefore = processGroupCpuSeconds(chromiumGroupB);
        addDirect(d, await openDirect(true, true));
        cpu.d += processGroupCpuSeconds(chromiumGroupB) - chromiumBefore;
      }
    }
    const cores = coreUtilisation(cpuBefore, readCpuTimes());
    load.push(loadavg()[0]!);
    const metricsAfter = await scrape(server);

    const sa: Summary = summarize(a.total);
    const sb: Summary = summarize(b.total);
    const sc: Summary = summarize(c.total);
    const sd: Summary = summarize(d.total);
    const r50 = ratio(sa.p50, sb.p50);
    const waitMs = meanBetween(metricsBefore.wait, metricsAfter.wait);
    const holdMs = meanBetween(metricsBefore.hold, metricsAfter.hold);
    const toolMs = meanBetween(metricsBefore.tool, metricsAfter.tool) * 1000;
    const restA = a.total.map((t, i) => t - a.visit[i]!);
    const warmB = summarize(b.total.map((t, i) => t - b.context[i]!));
    const warmC = summarize(c.total.map((t, i) => t - c.context[i]!));
    const warmD = summarize(d.total.map((t, i) => t - d.context[i]!));
    const vs = (name: string, s: Summary) => [name, s.p50, s.p95, `${fmt(ratio(sa.p50, s.p50))}x`, `${fmt(ratio(sa.p95, s.p95))}x`, sa.p50 - s.p50];
    const phaseRows = (name: string, d: DirectSamples) => [
      [`${name}: new context + page`, summarize(d.context).p50, summarize(d.context).p95, mean(d.context)],
      [`${name}: visit, sign-in → ready`, summarize(d.visit).p50, summarize(d.visit).p95, mean(d.visit)],
      [`${name}: screenshot`, summarize(d.screenshot).p50, summarize(d.screenshot).p95, mean(d.screenshot)],
      [`${name}: context close`, summarize(d.close).p50, summarize(d.close).p95, mean(d.close)],
    ];
    return {
      tables: [
        {
          title: `Open one composition (${WIDGET_TYPE_COUNT} widgets, editor route, viewport PNG) — end-to-end latency (ms), ${iterations} interleaved iterations of each (${probeAllowlist ? 'A B C D' : 'A B'} …) after ${warmup} warm-up`,
          columns: ['path', 'n', 'min', 'p50', 'p95', 'p99', 'max', 'mean'],
          rows: [
            row(`A: ${TOOL} via MCP Client → server → router (${browserCount} local browser${browserCount === 1 ? '' : 's'})`, sa),
            row('B: direct Playwright script (same page work) — the baseline', sb),
            ...(probeAllowlist
              ? [row("C: B + the router's refused-request watch (diagnostic)", sc), row("D: C + a warm context created alongside, as the pool's refill (diagnostic)", sd)]
              : []),
          ],
        },
        {
          title: 'A against each baseline (ratio = A / baseline)',
          columns: ['baseline', 'p50 ms', 'p95 ms', 'A/· p50', 'A/· p95', 'A − · at p50 ms'],
          rows: [
            vs('B (the target compares with this)', sb),
            vs('B − its new context + page (as if warm, like the pool)', warmB),
            ...(probeAllowlist ? [vs('C (B + refused-request watch)', sc), vs('C − its new context + page', warmC), vs('D (C + refill alongside)', sd), vs('D − its new context + page', warmD)] : []),
          ],
        },
        {
          title: 'Phases of the direct paths (ms)',
          columns: ['phase', 'p50', 'p95', 'mean'],
          rows: [...phaseRows('B', b), ...(probeAllowlist ? [...phaseRows('C', c), ...phaseRows('D', d)] : [])],
        },
        {
          title: 'Page work — sign-in → composition ready, the same visitComposition in every path (ms)',
          columns: ['path', 'p50', 'p95', 'mean', 'rest of the call p50 (total − page work)'],
          rows: [
            ['A', summarize(a.visit).p50, summarize(a.visit).p95, mean(a.visit), summarize(restA).p50],
            ['B', summarize(b.visit).p50, summarize(b.visit).p95, mean(b.visit), summarize(b.total.map((t, i) => t - b.visit[i]!)).p50],
            ...(probeAllowlist
              ? [
                  ['C', summarize(c.visit).p50, summarize(c.visit).p95, mean(c.visit), summarize(c.total.map((t, i) => t - c.visit[i]!)).p50],
                  ['D', summarize(d.visit).p50, summarize(d.visit).p95, mean(d.visit), summarize(d.total.map((t, i) => t - d.visit[i]!)).p50],
                ]
              : []),
          ],
        },
        {
          title: "A's server-side spans from its /metrics over the timed calls (means, ms)",
          columns: ['span', 'mean ms'],
          rows: [
            ['client-observed call', sa.mean],
            [`tool handler (composer_mcp_tool_duration_seconds, ${TOOL})`, toolMs],
            ['  lease wait: request → warm page in hand (composer_mcp_router_lease_wait)', waitMs],
            ['lease hold: hand-over → context closed (composer_mcp_router_lease_hold; the call is answered before the close, ADR 29)', holdMs],
            ['outside the handler (MCP client, HTTP, auth, rate limit, JSON-RPC, audit log)', sa.mean - toolMs],
          ],
        },
        {
          title: 'CPU per call over the timed iterations (ms of CPU)',
          columns: ['path', 'Chromium (all its processes)', 'server process (MCP, router, Playwright client, gateway)'],
          rows: [
            ['A', (cpu.a * 1000) / iterations, (cpu.server * 1000) / iterations],
            ['B', (cpu.b * 1000) / iterations, 'n/a (bench process)'],
            ...(probeAllowlist ? [['C', (cpu.c * 1000) / iterations, 'n/a (bench process)'], ['D (incl. the extra context)', (cpu.d * 1000) / iterations, 'n/a (bench process)']] : []),
          ],
        },
      ],
      targets: [{ name: 'A / B at p50', measured: `${fmt(r50)}x`, target: `≤ ${fmt(TARGET_P50_RATIO)}x`, met: r50 <= TARGET_P50_RATIO }],
      notes: [
        `${a.notReady + b.notReady + c.notReady + d.notReady === 0 ? 'Every path loaded the page fully every time' : 'NOT every load was ready'}: not ready A ${a.notReady}, B ${b.notReady}, C ${c.notReady}, D ${d.notReady} of ${iterations}; widgets rendered (of ${WIDGET_TYPE_COUNT}) A ${[...a.widgets].join('/')}, B ${[...b.widgets].join('/')}, C ${[...c.widgets].join('/') || '-'}, D ${[...d.widgets].join('/') || '-'}; screenshots A ${[...a.shots].join('/')}, B ${[...b.shots].join('/')}, C ${[...c.shots].join('/') || '-'}, D ${[...d.shots].join('/') || '-'} (viewport ${DEFAULT_PAGE_SETTINGS.viewport.width}x${DEFAULT_PAGE_SETTINGS.viewport.height}).`,
        `A used browsers.source=local with ${browserCount} browser${browserCount === 1 ? '' : 's'} (browsers.prewarmPerBrowser=1, maxSessionsPerBrowser=4, defaults); each timed call (every path) began on a settled pool: no lease held, the warm context refilled (polled with composer_status, untimed). A's pooled contexts carry the router's refused-request watch (response and requestfailed listeners; egress itself is enforced by the gateway's proxy for A and B alike), which B does not. When a lease takes the warm page the router at once creates the next one (context + page) on the same browser, during the call's page load. ${probeAllowlist ? 'C is B with the watch and D is C with such a context created alongside, to show the share of each' : 'The diagnostic paths C and D, which show the share of each, were left out (BENCH_OPEN_DIAGNOSTICS=0)'}.`,
        `The stand-in, the MCP client and B's Playwright client and gateway share this Node process; A's gateway, router and Playwright client run in the server process.`,
        `Machine during the timed iterations: ${formatUtilisation(cores)}; 1-minute load average ${load.map((l) => fmt(l)).join(' → ')} (start, timed phase start, end) on ${cores.length} cores shared with other work.`,
      ],
    };
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await cleanUp();
  }
}
