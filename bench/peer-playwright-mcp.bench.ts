/**
 * Our browser tools against the peer an assistant would use instead: Microsoft's `@playwright/mcp` doing what an
 * assistant does to get the same picture of the same lesson page — `browser_navigate` + `browser_take_screenshot`.
 *
 * Ours: the real server process (local pool of one chromium-headless-shell behind its gateway) driven by the MCP
 * SDK's Client over Streamable HTTP: `composer_preview_composition` (learner view, full-page PNG) and
 * `composer_open_composition` (editor, viewport PNG), each a fresh isolated context, signed in, ready only when the
 * lesson is seen rendered.
 * Peer: `@playwright/mcp` (stdio, its own process, MCP SDK Client) connected with `--cdp-endpoint` to a warm local
 * chromium-headless-shell behind the same kind of gateway, signed in once through the app's auth-with-token route
 * (its context, HTTP cache and localStorage persist between calls). Per call: an untimed `browser_navigate` to
 * about:blank (so the timed navigation loads the app, not a same-document hash change), then, timed,
 * `browser_navigate` to the lesson URL and `browser_take_screenshot` (full page for the learner view, viewport for the
 * editor), same 1280x800 viewport.
 * Both open the same composition in the same Composer stand-in (BENCH_PEER_RENDER picks a stand-in render variant as
 * JSON, default: ours, rendering at once; the ≤ 1.0x target applies to it). Two more scenarios follow in the same run
 * with half the rounds (BENCH_PEER_EXTRA=0 leaves them out; BENCH_PEER_SCENARIOS=far,far-api picks by key): a far-away
 * Composer (a 1.5 MB immutable bundle that takes 150 ms to arrive: what the shared asset cache and the priming of warm
 * pages are for), the same with its page and API 40 ms late (the round trips to the far origins: what the broker's
 * prefetch is for) and one that renders 300 ms after its read behind a placeholder (what truthful readiness is for). Calls alternate ours/peer after BENCH_WARMUP (3) rounds;
 * BENCH_ITERATIONS (30) timed rounds. Each capture is checked: ours must say ready; the peer's PNG is compared with
 * ours (BENCH_PEER_DUMP=<dir> writes the first pair of each scenario there).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { SignJWT } from 'jose';
import { startLocalBrowser, type LocalBrowser } from '#browser/local-browser.ts';
import { createLogger } from '#common/logger.ts';
import { HttpStorageClient } from '#server/composer/storage-client.ts';
import { editorUrl, embedUrl } from '#server/composer/storage/composer-urls.ts';
import { startComposerStandin, type StandinFaultsPatch } from '#support/composer-standin/standin.ts';
import { everyWidgetComposition } from '#support/fixtures/every-widget-composition.ts';
import { coreUtilisation, formatUtilisation, readCpuTimes } from './support/cpu.ts';
import { PhaseLog, phaseTable, type LoggedPhases } from './support/phase-log.ts';
import { timelineTable, type CallWindow } from './support/standin-timeline.ts';
import { samePixels } from '#support/png/png-pixels.ts';
import { startServerProcess } from './support/server-process.ts';
import { fmt, ratio, summarize, type BenchReport, type Summary } from './support/stats.ts';

const PROJECT_KEY = 'bench-project-key';
const CONNECTOR_UID = 'bench-connector';
const TARGET_P50_RATIO = 1.0;
const REPO_ROOT = resolve(import.meta.dirname, '..');

const num = (name: string, fallback: number, min: number): number => {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer ≥ ${min}, got ${JSON.stringify(raw)}`);
  return n;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const row = (name: string, s: Summary) => [name, s.n, s.min, s.p50, s.p95, s.p99, s.max, s.mean];

/** The largest of a set of byte counts, in KB (one decimal), or '-'. */
const largestKb = (sizes: Set<number>) => (sizes.size === 0 ? '-' : fmt(Math.max(...sizes) / 1024));

function imageOf(result: CallToolResult): Buffer | undefined {
  const image = result.content.find((c) => c.type === 'image') as { data: string } | undefined;
  return image ? Buffer.from(image.data, 'base64') : undefined;
}

/** Runs the comparison and returns its tables, the ≤ 1.0x targets and notes. */
export async function run(): Promise<BenchReport> {
  const iterations = num('BENCH_ITERATIONS', 30, 1);
  const warmup = num('BENCH_WARMUP', 3, 0);
  const render = JSON.parse(process.env['BENCH_PEER_RENDER'] ?? '{}') as StandinFaultsPatch['render'];
  const logger = createLogger({ component: 'peer-bench', level: 'error', format: 'json' });
  const dir = mkdtempSync(join(tmpdir(), 'composer-mcp-bench-peer-'));
  const cleanups: Array<() => Promise<unknown>> = [];
  const load: number[] = [loadavg()[0]!];
  const cleanUp = async () => {
    for (const cleanup of cleanups.splice(0).toReversed()) await cleanup().catch((error: unknown) => logger.error('Failed to clean up', { error: (error as Error).message }));
    rmSync(dir, { recursive: true, force: true });
  };
  const onSignal = (signal: NodeJS.Signals) => {
    void cleanUp().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const jwtSecret = `bench-secret-${process.pid}-${Date.now()}`;
    const token = await new SignJWT({ name: 'Bench', pad: 'x'.repeat(2400) }).setProtectedHeader({ alg: 'HS256' }).setSubject('bench').setIssuedAt().setExpirationTime('2h').sign(new TextEncoder().encode(jwtSecret));
    const standin = await startComposerStandin({ jwtSecret, projectKey: PROJECT_KEY, connectorUids: [CONNECTOR_UID], faults: { render: render ?? {} } });
    cleanups.push(() => standin.stop());
    const settings = { composerUrl: standin.appUrl, apiUrl: standin.apiUrl, accessToken: token, projectKey: PROJECT_KEY, connectorUid: CONNECTOR_UID, apiEnv: 'prd' };
    const { uid } = await new HttpStorageClient(settings, { logger }).upload(everyWidgetComposition('Benchmark: every widget', 'One widget of every type, for the peer benchmark'));

    // Ours: the real server with a local pool of one browser (logging where each call's time went with BENCH_PHASES=1).
    const withPhases = process.env['BENCH_PHASES'] === '1';
    const phaseLog = new PhaseLog();
    const server = await startServerProcess({
      ...(withPhases ? { LOG_LEVEL: 'debug' } : {}),
      COMPOSER_MCP_COMPOSER__COMPOSER_URL: standin.appUrl,
      COMPOSER_MCP_COMPOSER__API_URL: standin.apiUrl,
      COMPOSER_MCP_COMPOSER__ACCESS_TOKEN: token,
      COMPOSER_MCP_COMPOSER__PROJECT_KEY: PROJECT_KEY,
      COMPOSER_MCP_COMPOSER__CONNECTOR_UID: CONNECTOR_UID,
      COMPOSER_MCP_BROWSERS__SOURCE: 'local',
      COMPOSER_MCP_BROWSERS__LOCAL__COUNT: '1',
      COMPOSER_MCP_RATE_LIMIT__MAX_REQUESTS: '1000000',
      COMPOSER_MCP_SHUTDOWN_GRACE_SECONDS: '5',
    }, 30_000, withPhases ? phaseLog.onLine : undefined);
    cleanups.push(() => server.stop());
    const ours = new Client({ name: 'peer-bench-ours', version: '0.0.0' });
    await ours.connect(new StreamableHTTPClientTransport(new URL(server.mcpUrl)));
    cleanups.push(() => ours.close());
    const settled = async (timeoutMs = 30_000) => {
      const deadline = performance.now() + timeoutMs;
      for (;;) {
        const status = (await ours.callTool({ name: 'composer_status', arguments: {} })) as CallToolResult;
        const b = (status.structuredContent as { browsers: { healthy: number; sessionsInUse: number; prewarmed: number } }).browsers;
        if (b.healthy > 0 && b.sessionsInUse === 0 && b.prewarmed >= 1) return;
        if (performance.now() > deadline) throw new Error(`our pool did not settle: ${JSON.stringify(b)}`);
        await sleep(20);
      }
    };
    await settled(60_000);

    // Peer: @playwright/mcp over stdio, on a warm browser of its own behind the same kind of gateway.
    const tokenFile = join(dir, 'cdp-token');
    const cdpToken = `bench-cdp-${crypto.randomUUID()}`;
    writeFileSync(tokenFile, `${cdpToken}\n`, { mode: 0o600 });
    // With --cdp-endpoint the peer uses the browser's own context, whose viewport is the window's: size it as ours.
    const local: LocalBrowser = await startLocalBrowser({ tokenFile, rootDir: dir, allowedOrigins: [standin.appUrl, standin.apiUrl], logger, extraArgs: ['--window-size=1280,800'] });
    cleanups.push(() => local.stop());
    const peer = new Client({ name: 'peer-bench-peer', version: '0.0.0' });
    await peer.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: [resolve(REPO_ROOT, 'node_modules/@playwright/mcp/cli.js'), '--cdp-endpoint', local.endpoint, '--cdp-header', `Authorization: Bearer ${cdpToken}`, '--viewport-size', '1280x800', '--output-dir', join(dir, 'peer-output'), '--image-responses', 'allow'],
        env: { ...(process.env as Record<string, string>), PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: '1' },
        stderr: 'ignore',
      }),
    );
    cleanups.push(() => peer.close());
    const peerCall = async (name: string, args: Record<string, unknown>) => {
      const result = (await peer.callTool({ name, arguments: args }, undefined, { timeout: 60_000 })) as CallToolResult;
      if (result.isError) throw new Error(`${name} failed: ${JSON.stringify(result.content).slice(0, 500)}`);
      return result;
    };
    // Sign the peer's context in once, as a user would (the app's own auth-with-token route).
    await peerCall('browser_navigate', { url: `${standin.appUrl}/#/embed/auth-with-token/pt_br/home/${encodeURIComponent(token)}` });

    const kinds = [
      { name: 'preview', tool: 'composer_preview_composition', args: { uid }, url: embedUrl(standin.appUrl, uid), fullPage: true },
      { name: 'open', tool: 'composer_open_composition', args: { uid }, url: editorUrl(standin.appUrl, uid), fullPage: false },
    ] as const;
    type Kind = (typeof kinds)[number];

    const epoch = (at: number) => performance.timeOrigin + at;
    const callOurs = async (kind: Kind) => {
      await settled();
      const t0 = performance.now();
      const result = (await ours.callTool({ name: kind.tool, arguments: kind.args }, undefined, { timeout: 60_000 })) as CallToolResult;
      const t1 = performance.now();
      if (result.isError) throw new Error(`${kind.tool} failed: ${JSON.stringify(result.content).slice(0, 500)}`);
      return { ms: t1 - t0, window: { start: epoch(t0), end: epoch(t1) }, ready: (result.structuredContent as { ready: boolean }).ready, png: imageOf(result) };
    };
    const callPeer = async (kind: Kind) => {
      // Our pool's background work after our call (closing its context, making and priming the next warm page) is
      // over before the peer is timed: neither side is measured while the other's leftovers use the shared cores.
      await settled();
      await peerCall('browser_navigate', { url: 'about:blank' });
      const t0 = performance.now();
      await peerCall('browser_navigate', { url: kind.url });
      const shot = await peerCall('browser_take_screenshot', { type: 'png', ...(kind.fullPage ? { fullPage: true } : {}) });
      const t1 = performance.now();
      return { ms: t1 - t0, window: { start: epoch(t0), end: epoch(t1) }, png: imageOf(shot) };
    };

    /** One scenario: the stand-in switched to `faults`, every kind measured in interleaved rounds. */
    const measure = async (scenario: Scenario) => {
      standin.resetFaults();
      standin.setFaults(scenario.faults);
      const samples = Object.fromEntries(kinds.map((k) => [k.name, { ours: [] as number[], peer: [] as number[], notReady: 0, identical: 0, compared: 0, oursBytes: new Set<number>(), peerBytes: new Set<number>(), phases: [] as LoggedPhases[], windows: [] as CallWindow[] }]));
      for (let i = 0; i < warmup; i++) {
        for (const kind of kinds) {
          await callOurs(kind);
          await callPeer(kind);
        }
      }
      phaseLog.take(); // the warm-up calls' lines
      const assetsBefore = standin.appRequests().assets;
      for (let i = 0; i < scenario.iterations; i++) {
        for (const kind of kinds) {
          const s = samples[kind.name]!;
          const a = await callOurs(kind);
          const b = await callPeer(kind);
          s.ours.push(a.ms);
          s.peer.push(b.ms);
          const view = kind.name === 'preview' ? 'embed' : 'editor';
          s.windows.push({ side: 'ours', view, uid, ...a.window }, { side: 'peer', view, uid, ...b.window });
          if (!a.ready) s.notReady++;
          if (a.png && b.png) {
            if (process.env['BENCH_PEER_DUMP'] && i === 0) {
              writeFileSync(join(process.env['BENCH_PEER_DUMP'], `${scenario.key}-${kind.name}-ours.png`), a.png);
              writeFileSync(join(process.env['BENCH_PEER_DUMP'], `${scenario.key}-${kind.name}-peer.png`), b.png);
            }
            s.compared++;
            if (samePixels(a.png, b.png)) s.identical++;
            s.oursBytes.add(a.png.length);
            s.peerBytes.add(b.png.length);
          }
        }
      }
      let records: { apiRequests: ReturnType<typeof standin.apiRequests>; renders: ReturnType<typeof standin.renders> } | undefined;
      if (withPhases) {
        await settled(); // the last call's lease has ended and logged
        await sleep(100);
        for (const logged of phaseLog.take()) samples[logged.view === 'embed' ? 'preview' : 'open']!.phases.push(logged);
        records = { apiRequests: standin.apiRequests(), renders: standin.renders() };
      }
      return { samples, records, assetsServed: standin.appRequests().assets - assetsBefore };
    };

    interface Scenario {
      key: string;
      title: string;
      faults: StandinFaultsPatch;
      iterations: number;
      targeted: boolean;
    }
    const scenarios: Scenario[] = [
      { key: 'main', title: `the lesson page (stand-in render ${JSON.stringify(render ?? {})})`, faults: { render: render ?? {} }, iterations, targeted: true },
      ...(process.env['BENCH_PEER_EXTRA'] === '0'
        ? []
        : [
            { key: 'far', title: 'a far-away Composer: a 1.5 MB bundle that takes 150 ms to arrive (immutable)', faults: { render: { ...render, bundleBytes: 1_500_000 }, latencyMs: { asset: 150 } }, iterations: Math.max(1, Math.round(iterations / 2)), targeted: false },
            // The same, with its page and every API call answered 40 ms late too: the round trips each side makes to the far origins.
            { key: 'far-api', title: 'a far-away Composer and API: the bundle as above, the page and every API call 40 ms late', faults: { render: { ...render, bundleBytes: 1_500_000 }, latencyMs: { asset: 150, app: 40, api: 40 } }, iterations: Math.max(1, Math.round(iterations / 2)), targeted: false },
            { key: 'late', title: 'a Composer that renders 300 ms after its read, behind a placeholder (foreign app)', faults: { render: { app: 'foreign' as const, delayMs: 300, placeholder: true } }, iterations: Math.max(1, Math.round(iterations / 2)), targeted: false },
          ]),
    ];

    // BENCH_PEER_SCENARIOS=far[,late,main] runs only those scenarios (all by default).
    const only = process.env['BENCH_PEER_SCENARIOS']?.split(',').map((k) => k.trim()).filter(Boolean);
    if (only?.length) scenarios.splice(0, scenarios.length, ...scenarios.filter((s) => only.includes(s.key)));
    if (scenarios.length === 0) throw new Error(`BENCH_PEER_SCENARIOS names no scenario (main, far, far-api, late): ${JSON.stringify(process.env['BENCH_PEER_SCENARIOS'])}`);
    const cpuBefore = readCpuTimes();
    load.push(loadavg()[0]!);
    const results: Array<{ scenario: Scenario } & Awaited<ReturnType<typeof measure>>> = [];
    for (const scenario of scenarios) results.push({ scenario, ...(await measure(scenario)) });
    const cores = coreUtilisation(cpuBefore, readCpuTimes());
    load.push(loadavg()[0]!);

    const tables = results.flatMap(({ scenario, samples }) =>
      kinds.map((kind) => {
        const s = samples[kind.name]!;
        return {
          title: `${scenario.title} — ${kind.name}: ${kind.tool} vs @playwright/mcp browser_navigate + browser_take_screenshot${kind.fullPage ? ' (full page)' : ''}, end-to-end latency (ms), ${scenario.iterations} interleaved rounds after ${warmup} warm-up`,
          columns: ['path', 'n', 'min', 'p50', 'p95', 'p99', 'max', 'mean'],
          rows: [row(`ours: ${kind.tool} (MCP over HTTP → server → pooled browser)`, summarize(s.ours)), row('peer: @playwright/mcp over stdio (warm browser, warm context)', summarize(s.peer))],
        };
      }),
    );
    const phaseTables = withPhases
      ? results.flatMap(({ scenario, samples, records }) =>
          kinds.flatMap((kind) => [
            phaseTable(`${scenario.key}: where ${kind.tool}'s time went (server-side moments since the browser work began, and summed durations; client-observed total last)`, samples[kind.name]!.phases, { 'client-observed call': samples[kind.name]!.ours }),
            ...(records ? [timelineTable(`${scenario.key}: ${kind.name}, ours and the peer as the stand-in saw them (ms since the client began the call)`, samples[kind.name]!.windows, records)] : []),
          ]),
        )
      : [];
    const ratioRows = results.flatMap(({ scenario, samples }) =>
      kinds.map((kind) => {
        const a = summarize(samples[kind.name]!.ours);
        const b = summarize(samples[kind.name]!.peer);
        const s = samples[kind.name]!;
        return [`${scenario.key}: ${kind.tool}`, a.p50, b.p50, `${fmt(ratio(a.p50, b.p50))}x`, a.p95, b.p95, `${fmt(ratio(a.p95, b.p95))}x`, `${s.ours.length - s.notReady}/${s.ours.length}`, `${s.identical}/${s.compared}`, largestKb(s.oursBytes), largestKb(s.peerBytes)];
      }),
    );
    const main = results.find((r) => r.scenario.key === 'main');
    const targets = main === undefined ? [] : kinds.map((kind) => {
      const r = ratio(summarize(main.samples[kind.name]!.ours).p50, summarize(main.samples[kind.name]!.peer).p50);
      return { name: `${kind.tool} / peer at p50 (the lesson page)`, measured: `${fmt(r)}x`, target: `≤ ${fmt(TARGET_P50_RATIO)}x`, met: r <= TARGET_P50_RATIO };
    });
    return {
      tables: [
        ...tables,
        ...phaseTables,
        {
          title: 'Ours against the peer, per scenario (ratio = ours / peer; ready = ours said ready; identical = same pixels as ours; PNG KB = largest PNG, ours encoded for speed)',
          columns: ['scenario: tool', 'ours p50', 'peer p50', 'p50 ratio', 'ours p95', 'peer p95', 'p95 ratio', 'ready', 'identical', 'ours PNG KB', 'peer PNG KB'],
          rows: ratioRows,
        },
      ],
      targets,
      notes: [
        'Ours opens a fresh isolated context per call (the pool\'s warm context), signed in with look-alike credentials, and says ready only when the lesson is seen rendered; the peer reuses one context (warm HTTP cache, localStorage, CORS preflight cache) and captures whatever is on screen once its navigation has loaded.',
        '"identical" compares the peer\'s PNG with ours pixel by pixel (ours is encoded for speed, so its bytes differ): where the peer captured before the lesson was there (the late render) its picture differs from ours, which waited for it.',
        `The app's script as the stand-in served it during the timed rounds (both sides; ours from its shared cache, the peer from its warm HTTP cache): ${results.map((r) => `${r.scenario.key} ${r.assetsServed}`).join(', ')} times.`,
        `Machine during the timed rounds: ${formatUtilisation(cores)}; 1-minute load average ${load.map((l) => fmt(l)).join(' → ')} on ${cores.length} cores shared with other work.`,
      ],
    };
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await cleanUp();
  }
}
