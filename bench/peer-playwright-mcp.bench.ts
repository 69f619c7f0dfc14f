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
 * ours (BENCH_PEER_DUMP=<dir> writes the first pair of each scenario there, and every pair that differs).
 * BENCH_PEER_BEFORE_REF=<git ref> (e.g. `main`, `HEAD~1`) also runs the server of that commit (a detached worktree of
 * it, this checkout's node_modules) in the same run, alternating with ours and the peer call by call (the order of
 * the three rotating each round; every call waits until both our servers are idle with a warm page), and reports
 * ours / before too: an A/B comparison that the machine's load, shared by both, moves less than two separate runs.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
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
import { fmt, pairedRatio, ratio, summarize, type BenchReport, type Summary } from './support/stats.ts';

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

    // Ours: the real server with a local pool of one browser (logging where each call's time went with BENCH_PHASES=1),
    // and with BENCH_PEER_BEFORE_REF the server of that commit beside it, configured alike.
    const withPhases = process.env['BENCH_PHASES'] === '1';
    const serverEnv = {
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
    };
    const beforeRef = process.env['BENCH_PEER_BEFORE_REF'] || undefined;
    const servers: OurServer[] = [];
    servers.push(await startOurs('ours', 'ours', REPO_ROOT, serverEnv, withPhases, cleanups));
    if (beforeRef !== undefined) {
      const commit = execFileSync('git', ['rev-parse', '--short', beforeRef], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
      const root = join(dir, 'before');
      execFileSync('git', ['worktree', 'add', '--detach', root, beforeRef], { cwd: REPO_ROOT, stdio: 'ignore' });
      cleanups.push(async () => execFileSync('git', ['worktree', 'remove', '--force', root], { cwd: REPO_ROOT, stdio: 'ignore' }));
      symlinkSync(join(REPO_ROOT, 'node_modules'), join(root, 'node_modules'));
      symlinkSync(join(REPO_ROOT, '.tools'), join(root, '.tools'));
      servers.push(await startOurs('before', `before (${beforeRef} = ${commit})`, root, serverEnv, withPhases, cleanups));
    }
    const settled = (timeoutMs = 30_000) => Promise.all(servers.map((server) => settledPool(server.client, timeoutMs)));
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
    const callOurs = async (server: OurServer, kind: Kind) => {
      await settled();
      const t0 = performance.now();
      const result = (await server.client.callTool({ name: kind.tool, arguments: kind.args }, undefined, { timeout: 60_000 })) as CallToolResult;
      const t1 = performance.now();
      if (result.isError) throw new Error(`${server.label}: ${kind.tool} failed: ${JSON.stringify(result.content).slice(0, 500)}`);
      return { ms: t1 - t0, window: { start: epoch(t0), end: epoch(t1) }, ready: (result.structuredContent as { ready: boolean }).ready, png: imageOf(result) };
    };
    const callPeer = async (kind: Kind) => {
      // Our pools' background work after our calls (closing their contexts, making and priming the next warm page) is
      // over before the peer is timed: neither side is measured while the other's leftovers use the shared cores.
      await settled();
      await peerCall('browser_navigate', { url: 'about:blank' });
      const t0 = performance.now();
      await peerCall('browser_navigate', { url: kind.url });
      const shot = await peerCall('browser_take_screenshot', { type: 'png', ...(kind.fullPage ? { fullPage: true } : {}) });
      const t1 = performance.now();
      return { ms: t1 - t0, window: { start: epoch(t0), end: epoch(t1) }, png: imageOf(shot) };
    };

    /** Samples of one kind in one scenario: ours (and before) and the peer's. */
    const emptySamples = () => ({ peer: [] as number[], windows: [] as CallWindow[], identical: 0, compared: 0, peerBytes: new Set<number>(), of: Object.fromEntries(servers.map((server) => [server.key, { ms: [] as number[], notReady: 0, bytes: new Set<number>(), phases: [] as LoggedPhases[] }])) });

    /**
     * One scenario: the stand-in switched to `faults`, every kind measured in interleaved rounds (ours, before when
     * given, and the peer, in an order that rotates each round).
     */
    const measure = async (scenario: Scenario) => {
      standin.resetFaults();
      standin.setFaults(scenario.faults);
      const samples = Object.fromEntries(kinds.map((k) => [k.name, emptySamples()]));
      for (let i = 0; i < warmup; i++) {
        for (const kind of kinds) {
          for (const server of servers) await callOurs(server, kind);
          await callPeer(kind);
        }
      }
      for (const server of servers) server.phaseLog.take(); // the warm-up calls' lines
      const assetsBefore = standin.appRequests().assets;
      const players = [...servers.map((server) => ({ server })), { server: undefined }];
      for (let i = 0; i < scenario.iterations; i++) {
        for (const kind of kinds) {
          const s = samples[kind.name]!;
          const order = players.map((_p, j) => players[(i + j) % players.length]!);
          let oursPng: Buffer | undefined;
          let peerPng: Buffer | undefined;
          const view = kind.name === 'preview' ? 'embed' : 'editor';
          for (const { server } of order) {
            if (server === undefined) {
              const b = await callPeer(kind);
              s.peer.push(b.ms);
              s.windows.push({ side: 'peer', view, uid, ...b.window });
              peerPng = b.png;
              continue;
            }
            const a = await callOurs(server, kind);
            if (server.key === 'ours') s.windows.push({ side: 'ours', view, uid, ...a.window });
            const mine = s.of[server.key]!;
            mine.ms.push(a.ms);
            if (!a.ready) mine.notReady++;
            if (a.png) mine.bytes.add(a.png.length);
            if (server.key === 'ours') oursPng = a.png;
          }
          if (oursPng && peerPng) {
            const same = samePixels(oursPng, peerPng);
            const dump = process.env['BENCH_PEER_DUMP'];
            if (dump && (i === 0 || !same)) {
              const name = `${scenario.key}-${kind.name}${i === 0 ? '' : `-${i}-differs`}`;
              writeFileSync(join(dump, `${name}-ours.png`), oursPng);
              writeFileSync(join(dump, `${name}-peer.png`), peerPng);
            }
            s.compared++;
            if (same) s.identical++;
            s.peerBytes.add(peerPng.length);
          }
        }
      }
      let records: { apiRequests: ReturnType<typeof standin.apiRequests>; renders: ReturnType<typeof standin.renders> } | undefined;
      if (withPhases) {
        await settled(); // the last call's lease has ended and logged
        await sleep(100);
        for (const server of servers) for (const logged of server.phaseLog.take()) samples[logged.view === 'embed' ? 'preview' : 'open']!.of[server.key]!.phases.push(logged);
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
          rows: [...servers.map((server) => row(`${server.label}: ${kind.tool} (MCP over HTTP → server → pooled browser)`, summarize(s.of[server.key]!.ms))), row('peer: @playwright/mcp over stdio (warm browser, warm context)', summarize(s.peer))],
        };
      }),
    );
    const phaseTables = withPhases
      ? results.flatMap(({ scenario, samples, records }) =>
          kinds.flatMap((kind) => [
            ...servers.map((server) => phaseTable(`${scenario.key}, ${server.label}: where ${kind.tool}'s time went (server-side moments since the browser work began, and summed durations; client-observed total last)`, samples[kind.name]!.of[server.key]!.phases, { 'client-observed call': samples[kind.name]!.of[server.key]!.ms })),
            ...(records ? [timelineTable(`${scenario.key}: ${kind.name}, ours and the peer as the stand-in saw them (ms since the client began the call)`, samples[kind.name]!.windows, records)] : []),
          ]),
        )
      : [];
    const ratioRows = results.flatMap(({ scenario, samples }) =>
      kinds.flatMap((kind) =>
        servers.map((server) => {
          const s = samples[kind.name]!;
          const mine = s.of[server.key]!;
          const a = summarize(mine.ms);
          const b = summarize(s.peer);
          const name = `${scenario.key}: ${kind.tool}${servers.length > 1 ? ` (${server.key})` : ''}`;
          return [name, a.p50, b.p50, `${fmt(ratio(a.p50, b.p50))}x`, pairedRatio(mine.ms, s.peer), a.p95, b.p95, `${fmt(ratio(a.p95, b.p95))}x`, `${mine.ms.length - mine.notReady}/${mine.ms.length}`, server.key === 'ours' ? `${s.identical}/${s.compared}` : '-', largestKb(mine.bytes), largestKb(s.peerBytes)];
        }),
      ),
    );
    const abRows =
      servers.length > 1
        ? results.flatMap(({ scenario, samples }) =>
            kinds.map((kind) => {
              const [a, b] = [samples[kind.name]!.of['ours']!.ms, samples[kind.name]!.of['before']!.ms];
              const [ours, before] = [summarize(a), summarize(b)];
              return [`${scenario.key}: ${kind.tool}`, ours.p50, before.p50, `${fmt(ratio(ours.p50, before.p50))}x`, pairedRatio(a, b), ours.p95, before.p95, `${fmt(ratio(ours.p95, before.p95))}x`];
            }),
          )
        : [];
    const main = results.find((r) => r.scenario.key === 'main');
    const targets = main === undefined ? [] : kinds.map((kind) => {
      const r = ratio(summarize(main.samples[kind.name]!.of['ours']!.ms).p50, summarize(main.samples[kind.name]!.peer).p50);
      return { name: `${kind.tool} / peer at p50 (the lesson page)`, measured: `${fmt(r)}x`, target: `≤ ${fmt(TARGET_P50_RATIO)}x`, met: r <= TARGET_P50_RATIO };
    });
    return {
      tables: [
        ...tables,
        ...phaseTables,
        {
          title: 'Ours against the peer, per scenario (ratio = ours / peer; paired = the median of each round\'s ours / peer, with its interquartile range; ready = ours said ready; identical = same pixels as ours; PNG KB = largest PNG, ours encoded for speed)',
          columns: ['scenario: tool', 'ours p50', 'peer p50', 'p50 ratio', 'paired ratio p50 (p25-p75)', 'ours p95', 'peer p95', 'p95 ratio', 'ready', 'identical', 'ours PNG KB', 'peer PNG KB'],
          rows: ratioRows,
        },
        ...(abRows.length > 0 ? [{ title: `Ours against ${servers[1]!.label}, same run, calls alternating (ratio = ours / before)`, columns: ['scenario: tool', 'ours p50', 'before p50', 'p50 ratio', 'paired ratio p50 (p25-p75)', 'ours p95', 'before p95', 'p95 ratio'], rows: abRows }] : []),
      ],
      targets,
      notes: [
        'Ours opens a fresh isolated context per call (the pool\'s warm context), signed in with look-alike credentials, and says ready only when the lesson is seen rendered; the peer reuses one context (warm HTTP cache, localStorage, CORS preflight cache) and captures whatever is on screen once its navigation has loaded.',
        '"identical" compares the peer\'s PNG with ours pixel by pixel (ours is encoded for speed, so its bytes differ): where the peer captured before the lesson was there (the late render) its picture differs from ours, which waited for it.',
        `The app's script as the stand-in served it during the timed rounds (every side; ours from its shared cache, the peer from its warm HTTP cache): ${results.map((r) => `${r.scenario.key} ${r.assetsServed}`).join(', ')} times.`,
        `Machine during the timed rounds: ${formatUtilisation(cores)}; 1-minute load average ${load.map((l) => fmt(l)).join(' → ')} on ${cores.length} cores shared with other work.`,
      ],
    };
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await cleanUp();
  }
}

/** One of our servers in the run: this checkout's, or the commit compared with. */
interface OurServer {
  key: 'ours' | 'before';
  label: string;
  client: Client;
  phaseLog: PhaseLog;
}

/** Starts the server in `root` with a local pool of one browser, and an MCP client of it (both stopped by `cleanups`). */
async function startOurs(key: OurServer['key'], label: string, root: string, env: Record<string, string>, withPhases: boolean, cleanups: Array<() => Promise<unknown>>): Promise<OurServer> {
  const phaseLog = new PhaseLog();
  const server = await startServerProcess(env, 60_000, withPhases ? phaseLog.onLine : undefined, root);
  cleanups.push(() => server.stop());
  const client = new Client({ name: `peer-bench-${key}`, version: '0.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(server.mcpUrl)));
  cleanups.push(() => client.close());
  return { key, label, client, phaseLog };
}

/** Waits until a server's pool is idle with its warm page back (so no call pays for the previous one's clean-up). */
async function settledPool(client: Client, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const status = (await client.callTool({ name: 'composer_status', arguments: {} })) as CallToolResult;
    const b = (status.structuredContent as { browsers: { healthy: number; sessionsInUse: number; prewarmed: number } }).browsers;
    if (b.healthy > 0 && b.sessionsInUse === 0 && b.prewarmed >= 1) return;
    if (performance.now() > deadline) throw new Error(`our pool did not settle: ${JSON.stringify(b)}`);
    await sleep(20);
  }
}
