import { expect } from 'chai';
import { CoreV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { SERVER_APP_NAME, LABEL_NAME, SERVER_PORT_NAME, tokenOf, tokenSecretName } from '#kube/api/v1alpha1/contract.ts';
import { httpDemandReader } from '#operator/controllers/browserpool/demand-reader.ts';
import { startComposerStandin, type ComposerStandin } from '#support/composer-standin/standin.ts';
import { hostAddressForPods } from '#support/pod-runner/netns.ts';
import { startPodRunner, type PodRunner } from '#support/pod-runner/pod-runner.ts';
import { startRoundRobinProxy, type RoundRobinProxy } from '#support/round-robin-proxy.ts';
import { freshConnectionFetch } from '../integration/server/fresh-connection-fetch.ts';
import { SAMPLE_OUTLINE, connectHttp, startServerProcess, type ServerProcess } from '../integration/server/server-harness.ts';
import {
  Pools, createNamespace, ensureCrd, eventually, kubeConfig, startTestOperator, testLogger, type TestOperator,
} from '../integration/operator/helpers.ts';
import { CallLedger, LoopingUser, browserCall, oscillate } from './support/mcp-load.ts';
import { LEASE_TAIL_MS, LoadSampler, type SamplerSummary } from './support/load-sampler.ts';
import { PoolRecorder, countByKind, type RecordedStatus } from './support/pool-recorder.ts';
import { ReadRoundRecorder, type ReadRound } from './support/read-rounds.ts';
import { httpSessionReader } from '#operator/controllers/browserpool/session-reader.ts';

const TOKEN = 'replicas-e2e-standin-token-0001';
const POOL = 'shared';
/** The pool's scale-down stabilisation window while the test does not switch it off. */
const WINDOW_S = 20;
/** Steady load: users active in the low and high halves of the square wave, each half this long, this many cycles. */
const LOW = 2;
const HIGH = 3;
const HALF_PERIOD_MS = 8000;
const CYCLES = 4;
/** The first cycle of a steady phase settles the pool (its first step up); transitions are counted after it. */
const SETTLE_MS = 2 * HALF_PERIOD_MS;

/**
 * The server pods the operator reads demand from, standing in for the Deployment's pods: the two local server
 * processes, labelled and Ready, so the operator's real demand reader scrapes their real /metrics.
 */
function serverPods(namespace: string, replicas: ServerProcess[]): V1Pod[] {
  return replicas.map((r, i) => ({
    metadata: { name: `server-${i}`, namespace, labels: { [LABEL_NAME]: SERVER_APP_NAME } },
    spec: { containers: [{ name: 'server', ports: [{ name: SERVER_PORT_NAME, containerPort: r.port }] }] },
    status: { podIP: '127.0.0.1', conditions: [{ type: 'Ready', status: 'True' }] },
  }));
}

function text(result: CallToolResult | undefined): string {
  return (result?.content ?? []).map((c) => (c.type === 'text' ? c.text : `[${c.type}]`)).join('\n');
}

describe('two server replicas, one autoscaled BrowserPool with pre-warm, real browsers, real MCP clients', function () {
  this.timeout(900_000);
  let kc: KubeConfig;
  let ns: { name: string; remove: () => Promise<void> };
  let standin: ComposerStandin;
  let runner: PodRunner;
  let operator: TestOperator | undefined;
  let pools: Pools;
  let recorder: PoolRecorder;
  let replicas: ServerProcess[] = [];
  let proxy: RoundRobinProxy;
  const clients: Client[] = [];
  const users: LoopingUser[] = [];
  const ledger = new CallLedger();
  let sampler: LoadSampler;
  let uid = '';
  const counts: Record<string, unknown> = {};
  /** When each reconcile of the pool started (epoch ms), from the operator's hook. */
  const reconciles: number[] = [];
  /** The operator's reads of the gateways, in the rounds each status is computed from. */
  const reads = new ReadRoundRecorder(httpSessionReader());

  const describePool = (): string => JSON.stringify({
    status: recorder.pool()?.status, pods: recorder.livePods().map((p) => [p.metadata?.name, p.metadata?.annotations?.['browser.composer-mcp.io/draining-since'] ? 'Draining' : 'Serving']),
    inFlight: ledger.inFlight, failed: ledger.failed.slice(-5),
  });
  const serving = (): number => recorder.livePods().filter((p) => !p.metadata?.annotations?.['browser.composer-mcp.io/draining-since']).length;

  before(async function () {
    this.timeout(240_000);
    kc = kubeConfig();
    await ensureCrd(kc);
    ns = await createNamespace(kc, 'bp-replicas');
    pools = new Pools(kc, ns.name);
    // The browsers load the Composer from an address of this host that their network namespaces route to.
    standin = await startComposerStandin({ tokens: [TOKEN], host: hostAddressForPods(), faults: { render: { delayMs: 1500 } } });
    runner = await startPodRunner({ kubeconfigPath: process.env['KUBECONFIG'] ?? '', logger: testLogger('pod-runner') });
    await pools.create(POOL, {
      replicas: 1,
      maxSessionsPerBrowser: 3,
      autoscaling: { minReplicas: 1, maxReplicas: 4, minIdle: 1, targetSessionsPerBrowser: 2, scaleDownStabilizationWindowSeconds: WINDOW_S },
      egress: { allowedOrigins: [standin.appUrl, standin.apiUrl] },
    });
    recorder = new PoolRecorder(kc, ns.name, POOL, testLogger('e2e-recorder'));
    await recorder.start();
    const env = {
      KUBECONFIG: process.env['KUBECONFIG'] ?? '',
      COMPOSER_MCP_COMPOSER__COMPOSER_URL: standin.appUrl,
      COMPOSER_MCP_COMPOSER__API_URL: standin.apiUrl,
      COMPOSER_MCP_COMPOSER__ACCESS_TOKEN: TOKEN,
      COMPOSER_MCP_COMPOSER__PROJECT_KEY: 'project-key-1',
      COMPOSER_MCP_COMPOSER__CONNECTOR_UID: 'connector-1',
    };
    const args = ['--browsers.source=kubernetes', `--browsers.kubernetes.namespace=${ns.name}`, `--browsers.kubernetes.pool=${POOL}`, '--browsers.queue-timeout-ms=180000'];
    replicas = await Promise.all([0, 1].map(() => startServerProcess({ env, args, timeoutMs: 90_000 })));
    // The operator as deployed (production planner timings), reading the replicas' queue depth from their /metrics.
    const servers = serverPods(ns.name, replicas);
    operator = await startTestOperator(kc, {
      namespace: ns.name, planOptions: {}, demand: httpDemandReader({ serverPods: () => servers }), sessions: reads,
      onReconcile: (key, durationMs) => {
        if (key === `${ns.name}/${POOL}`) reconciles.push(Date.now() - durationMs);
      },
    });
    await eventually(() => recorder.pool()?.status?.readyReplicas === 1 || undefined, 120_000, describePool);
    proxy = await startRoundRobinProxy(replicas.map((r) => r.port));
    for (let i = 0; i < 6; i++) clients.push(await connectHttp(`${proxy.url}/mcp`, { fetch: freshConnectionFetch }));
    const built = (await clients[0]!.callTool({ name: 'composer_build_composition', arguments: SAMPLE_OUTLINE })) as CallToolResult;
    const saved = (await clients[0]!.callTool({
      name: 'composer_save_composition', arguments: { composition: (built.structuredContent as { composition: unknown }).composition },
    })) as CallToolResult;
    expect(saved.isError, text(saved)).to.not.equal(true);
    uid = (saved.structuredContent as { uid: string }).uid;
    const secret = await kc.makeApiClient(CoreV1Api).readNamespacedSecret({ namespace: ns.name, name: tokenSecretName(POOL) });
    sampler = new LoadSampler({
      token: tokenOf(secret) ?? '',
      browsers: () => (recorder.pool()?.status?.browsers ?? []).map((b) => ({ name: b.name, endpoint: b.endpoint })),
      serverMetricsUrls: replicas.map((r) => `http://127.0.0.1:${r.port}/metrics`),
    }, ledger);
    sampler.start();
    for (let i = 0; i < 4; i++) users.push(new LoopingUser(clients[i]!, uid, ledger));
  });

  after(async function () {
    this.timeout(120_000);
    await Promise.all(users.map((u) => u.stop()));
    const summary = await sampler?.stop();
    // What the replicas warned about, by message (a lease retried elsewhere, a context refused at the cap...).
    const warnings: Record<string, number> = {};
    for (const l of replicas.flatMap((r) => r.logs())) {
      if (l['level'] === 'warn' || l['level'] === 'error') warnings[String(l['message'])] = (warnings[String(l['message'])] ?? 0) + 1;
    }
    console.log(`      counts: ${JSON.stringify({ ...counts, sampler: summary, violations: sampler?.violations.slice(0, 5), calls: { ok: ledger.ok, failed: ledger.failed.length }, replicaWarnings: warnings })}`);
    for (const c of clients) await c.close().catch(() => undefined);
    await proxy?.close();
    await Promise.all(replicas.map((r) => r.stop()));
    await operator?.stop();
    await pools?.delete(POOL).catch(() => undefined);
    await eventually(async () => (await pools.pods(POOL)).length === 0 || undefined, 60_000).catch(() => undefined);
    await recorder?.stop();
    await runner?.stop();
    await standin?.stop();
    await ns?.remove();
  });

  /** Waits until the pool is back at its floor (1 browser) with nothing leased: no session reported, warm contexts kept. */
  async function expectQuietAtFloor(label: string): Promise<void> {
    await eventually(() => (ledger.inFlight === 0 && recorder.pool()?.status?.desiredReplicas === 1 && serving() === 1) || undefined, 180_000, describePool);
    const quietSince = Date.now();
    // A reconcile that read the gateways afresh (their loads are reused for 1 s) while they held only warm contexts.
    await eventually(() => reconciles.some((at) => at > quietSince + 1000) || undefined, 30_000, describePool);
    const status = recorder.pool()?.status;
    const since = recorder.statuses.filter((s) => s.at > quietSince).map((s) => s.sessions);
    expect(since.filter((s) => Object.values(s).some((n) => n > 0)), `${label}: statuses written while quiet`).to.deep.equal([]);
    expect(status?.browsers?.map((b) => b.sessions), `${label}: status sessions with nothing leased`).to.satisfy((s: number[]) => s.every((n) => n === 0));
    const gateways = await sampler.sample();
    expect(gateways.length, `${label}: gateways read`).to.be.greaterThan(0);
    for (const g of gateways) {
      expect(g.leased, `${label}: ${g.browser} leased`).to.equal(0);
      if (status?.browsers?.find((b) => b.name === g.browser)?.state === 'Ready') {
        expect(g.warm, `${label}: ${g.browser} keeps a warm context per server replica, none counted as a session`).to.equal(replicas.length);
      }
    }
  }

  it('serves a burst of opens and previews from both replicas, scaling up on the queued demand, every call answered', async () => {
    const start = Date.now();
    const calls = Array.from({ length: 12 }, (_, i) => ledger.call(clients[i % clients.length]!, browserCall(uid, i)));
    const results = await Promise.all(calls);
    for (const r of results) expect(r?.isError, text(r)).to.not.equal(true);
    const opened = results.filter((r) => r?.content.some((c) => c.type === 'image')).length;
    expect(opened, 'every open and preview returned its picture').to.equal(12);
    const peak = recorder.maxDesiredBetween(start, Date.now());
    const created = countByKind(recorder.transitionsBetween(start, Date.now())).created;
    counts['burst'] = { calls: 12, seconds: (Date.now() - start) / 1000, peakDesired: peak, created, maxQueued: sampler.summary().maxQueued };
    expect(peak, 'the queued callers made the pool grow').to.be.at.least(3);
    expect(created).to.be.at.least(2);
    const audits = replicas.map((r) => r.logs().filter((l) => l['message'] === 'Tool call completed' && l['compositionUid'] === uid).length);
    expect(audits.every((n) => n > 0), `calls served by each replica: ${audits.join(', ')}`).to.equal(true);
  });

  it('falls back to its floor after the burst (no ratchet): no session reported, warm contexts not counted', async () => {
    await expectQuietAtFloor('after the burst');
  });

  it('under demand oscillating around a boundary, the stabilisation window keeps the pool steady', async () => {
    const start = Date.now();
    await oscillate(users, LOW, HIGH, HALF_PERIOD_MS, CYCLES);
    const end = Date.now();
    const seen = countByKind(recorder.transitionsBetween(start + SETTLE_MS, end));
    const total = seen.created + seen.deleted + seen.drained + seen.returned;
    const perMinute = total / ((end - start - SETTLE_MS) / 60_000);
    counts['steadyWithWindow'] = { windowSeconds: WINDOW_S, ...seen, perMinute: Math.round(perMinute * 10) / 10, maxDesired: recorder.maxDesiredBetween(start, end) };
    expect(total, `transitions after the first cycle: ${JSON.stringify(seen)}; ${describePool()}`).to.be.at.most(1);
  });

  it('without the window the same load flips browsers between Draining and Ready, or creates and deletes them', async () => {
    await pools.patchSpec(POOL, { autoscaling: { scaleDownStabilizationWindowSeconds: 0 } });
    const start = Date.now();
    await oscillate(users, LOW, HIGH, HALF_PERIOD_MS, CYCLES);
    const end = Date.now();
    users.forEach((u) => u.setActive(false));
    const seen = countByKind(recorder.transitionsBetween(start + SETTLE_MS, end));
    const total = seen.created + seen.deleted + seen.drained + seen.returned;
    counts['steadyWithoutWindow'] = { windowSeconds: 0, ...seen, perMinute: Math.round((total / ((end - start - SETTLE_MS) / 60_000)) * 10) / 10, maxDesired: recorder.maxDesiredBetween(start, end) };
    // The load really crosses the boundary: this is what the window prevents.
    expect(seen.drained, `transitions after the first cycle: ${JSON.stringify(seen)}`).to.be.at.least(2);
    await pools.patchSpec(POOL, { autoscaling: { scaleDownStabilizationWindowSeconds: WINDOW_S } });
  });

  it('falls back to its floor once the load ends (no ratchet), and never had a browser above its cap nor a phantom session', async () => {
    await expectQuietAtFloor('after the steady load');
    const summary: SamplerSummary = sampler.summary();
    expect(sampler.violations, JSON.stringify(sampler.violations.slice(0, 10))).to.deep.equal([]);
    expect(summary.samples).to.be.greaterThan(100);
    for (const [browser, seen] of Object.entries(summary.maxContextsPerBrowser)) expect(seen.contexts, browser).to.be.at.most(seen.cap);
    expect(Math.max(...Object.values(summary.maxContextsPerBrowser).map((s) => s.contexts)), 'some browser was filled to its cap').to.equal(3);
    // Every status the operator wrote sums its browsers' sessions from one round of gateway reads (asked together),
    // and no more than the calls that could hold a lease while that round was read: those started by its last answer,
    // less those answered LEASE_TAIL_MS before its first ask (a lease outlives its call's answer by its context's
    // close, ADR 29; the gateway sampler's bound). No tolerance for a status corrected later: the autoscaler acts on
    // every status it computes. (Reads of different moments summed counted a lease that moved between browsers twice.)
    const audit = auditStatuses(recorder.statuses, reads, ledger);
    counts['statusAudit'] = audit.figures;
    expect(audit.unattributed.slice(0, 5), 'statuses whose sessions no single round of reads gave').to.deep.equal([]);
    expect(audit.overReports.slice(0, 5), 'statuses with more sessions than calls could hold while their reads were taken').to.deep.equal([]);
    expect(summary.quietSamplesWithWarm, 'warm contexts were there while nothing was leased').to.be.greaterThan(0);
    expect(ledger.failed, JSON.stringify(ledger.failed.slice(0, 5))).to.deep.equal([]);
    counts['statusSessionsMax'] = Math.max(...recorder.statuses.map((s) => Object.values(s.sessions).reduce((a, b) => a + b, 0)));
    counts['inFlightMax'] = ledger.maxInFlightSince(0);
  });
});

/** A status checked against the round of reads it was computed from. */
interface StatusAudit {
  unattributed: Array<{ at: number; sessions: Record<string, number>; recentRounds: unknown[] }>;
  overReports: Array<{ at: number; sessions: Record<string, number>; bound: number; inFlight: number; round: unknown }>;
  figures: {
    statuses: number; withSessions: number; rounds: number; maxRoundMs: number; aboveInFlightWithinLeaseTail: number; maxAboveInFlight: number;
    /** Statuses above the most calls in flight at once in the 10 s before them (the check this audit replaced). */
    aboveMaxInFlightOf10s: number;
  };
}

function describeRound(r: ReadRound): unknown {
  return { askedAt: r.askedAt, ms: r.answeredAt - r.askedAt, loads: Object.fromEntries(r.loads) };
}

/** Checks every recorded status that reports sessions against the round of gateway reads it came from. */
function auditStatuses(statuses: readonly RecordedStatus[], reads: ReadRoundRecorder, ledger: CallLedger): StatusAudit {
  const audit: StatusAudit = {
    unattributed: [], overReports: [],
    figures: {
      statuses: statuses.length, withSessions: 0, rounds: reads.rounds.length, maxRoundMs: 0, aboveInFlightWithinLeaseTail: 0, maxAboveInFlight: 0,
      aboveMaxInFlightOf10s: 0,
    },
  };
  for (const r of reads.rounds) audit.figures.maxRoundMs = Math.max(audit.figures.maxRoundMs, r.answeredAt - r.askedAt);
  for (const s of statuses) {
    const sum = Object.values(s.sessions).reduce((a, b) => a + b, 0);
    if (sum === 0) continue;
    audit.figures.withSessions++;
    if (sum > ledger.maxInFlightSince(s.at - 10_000)) audit.figures.aboveMaxInFlightOf10s++;
    const round = reads.roundOf(s);
    if (!round) {
      audit.unattributed.push({ at: s.at, sessions: s.sessions, recentRounds: reads.rounds.filter((r) => r.answeredAt <= s.at).slice(-4).map(describeRound) });
      continue;
    }
    const bound = ledger.startedBy(round.answeredAt) - ledger.finishedBy(round.askedAt - LEASE_TAIL_MS);
    const inFlight = ledger.startedBy(round.answeredAt) - ledger.finishedBy(round.askedAt);
    if (sum > bound) audit.overReports.push({ at: s.at, sessions: s.sessions, bound, inFlight, round: describeRound(round) });
    else if (sum > inFlight) {
      audit.figures.aboveInFlightWithinLeaseTail++;
      audit.figures.maxAboveInFlight = Math.max(audit.figures.maxAboveInFlight, sum - inFlight);
    }
  }
  return audit;
}
