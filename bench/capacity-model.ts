/**
 * The capacity model of composer-mcp: pure functions from what `bench/capacity.bench.ts` measured
 * (`bench/results/capacity.json`) and a deployment's inputs (active users, call rates, pod sizes) to the number of
 * browsers, nodes and server replicas, with the formula spelled out. `make capacity` prints it for given inputs;
 * docs/capacity.md embeds the reference table rendered here (a unit test fails when it is stale).
 */
import { resolve } from 'node:path';

/** Where `bench/capacity.bench.ts` writes its measurements (committed: the docs and `make capacity` read them). */
export const CAPACITY_RESULTS_PATH = resolve(import.meta.dirname, 'results', 'capacity.json');

/** What the capacity benchmark measured on one machine, saved as bench/results/capacity.json. */
export interface CapacityMeasurements {
  /** ISO date of the run. */
  measuredAt: string;
  machine: { cores: number; memoryGiB: number; loadAverage: number; node: string; chromium: string };
  /** What each session opened (the every-widget composition, editor route). */
  workload: string;
  browser: {
    /** PSS of one browser with no context open, just started (MiB). */
    idleMiB: number;
    /** PSS of one browser with the pool's pre-warmed context, between calls (MiB). */
    warmIdleMiB: number;
    /** Extra PSS per concurrent open session: slope of the peak PSS over the concurrency levels (MiB). */
    perSessionMiB: number;
    /** Peak PSS of the browser at each concurrency level. */
    peakMiB: Array<{ sessions: number; mib: number }>;
    /** Growth of the warm idle PSS after `leasesServed` leases, per 100 leases (MiB). */
    creepMiBPer100Leases: number;
    leasesServed: number;
  };
  /** One browser call at a time (concurrency 1). */
  calls: {
    open: CallCost;
    previewPdf: CallCost;
    /** A call that needs no browser (composer_validate_composition of the same document). */
    noBrowser: { callMsP50: number; serverCpuMs: number };
  };
  /** One browser, N concurrent callers of composer_open_composition, each calling again as soon as it has an answer. */
  throughput: Array<{ sessions: number; callsPerSecond: number; callMsP50: number; callMsP95: number; chromiumCores: number; serverCores: number }>;
  /** A new browser (Chromium + gateway) from launch to its first page, vs a warm hand-over (ms). */
  coldStart: { launchToPageMsP50: number; launchToPageMsP95: number; warmHandOverMsMean: number };
  server: { idleRssMiB: number; loadedRssMiB: number };
}

/** What one browser call costs, measured at concurrency 1. */
export interface CallCost {
  /** Client-observed call latency (ms). */
  callMsP50: number;
  callMsP95: number;
  /** Mean lease hold: the browser context is open this long per call (ms, the server's composer_mcp_router_lease_hold). */
  holdMs: number;
  /** CPU of all Chromium processes per call (ms). */
  chromiumCpuMs: number;
  /** CPU of the server process per call (MCP, router, Playwright client, local gateway) (ms). */
  serverCpuMs: number;
}

/** A deployment's load and sizes: the inputs of `planCapacity`. */
export interface CapacityInputs {
  /** Teachers working with an assistant at the same time, at peak. */
  activeUsers: number;
  /** composer_open_composition + composer_preview_composition calls per active user per hour. */
  browserCallsPerUserHour: number;
  /** Share of those browser calls that are PDF previews (the rest counted as opens), 0..1. */
  pdfShare: number;
  /** Every other tool call per active user per hour (guidance, build, validate, save, get, status). */
  otherCallsPerUserHour: number;
  /** BrowserPool spec.maxSessionsPerBrowser. */
  maxSessionsPerBrowser: number;
  /** Memory limit of the browser container, the gateway and Chromium together (MiB; chart browserPool.browser.resources.limits.memory). */
  browserMemoryLimitMib: number;
  /** Share of that limit a browser may fill at its session cap; the rest absorbs creep between recycles and spikes. */
  memoryHeadroom: number;
  /** CPU one browser may use (cores); the CPU budget of its sessions. */
  browserCpuCores: number;
  /** Allocatable cores and memory (GiB) of one browser node. */
  nodeCores: number;
  nodeMemoryGib: number;
  /** Server container CPU request (cores) and the HPA's target utilisation of it (0..1). */
  serverCpuRequestCores: number;
  serverTargetUtilisation: number;
  /** Peak sessions planned for: mean + z·√mean (z = 3 covers 99.9 % of Poisson bursts). */
  burstZ: number;
}

/** The chart's defaults and a typical load: what `make capacity` uses for every input not given. */
export const DEFAULT_INPUTS: Readonly<CapacityInputs> = Object.freeze({
  activeUsers: 200,
  browserCallsPerUserHour: 12,
  pdfShare: 0.25,
  otherCallsPerUserHour: 60,
  maxSessionsPerBrowser: 4,
  browserMemoryLimitMib: 1280,
  memoryHeadroom: 0.2,
  browserCpuCores: 1,
  nodeCores: 4,
  nodeMemoryGib: 16,
  serverCpuRequestCores: 0.1,
  serverTargetUtilisation: 0.7,
  burstZ: 3,
});

/** What `planCapacity` derives, every figure with the step that made it. */
export interface CapacityPlan {
  browserCallsPerSecond: number;
  otherCallsPerSecond: number;
  /** Mean lease hold of a browser call of this mix (s). */
  holdSeconds: number;
  /** Mean concurrent browser sessions (Little's law: λ × hold). */
  meanSessions: number;
  /** Sessions to plan for: mean + z·√mean, rounded up. */
  peakSessions: number;
  /** Sessions one browser carries: the least of the cap, the memory bound and the CPU bound. */
  sessionsPerBrowser: number;
  sessionsPerBrowserByMemory: number;
  sessionsPerBrowserByCpu: number;
  /** Chromium CPU one open session keeps busy (cores): CPU per call / hold time. */
  coresPerSession: number;
  /** Browsers of the pool (at least 2, so one can be recycled or fail). */
  browsers: number;
  /** Memory of one browser pod at its session count: Chromium base + sessions × per-session + gateway (MiB). */
  browserPodMemoryMiB: number;
  browsersPerNode: number;
  browserNodes: number;
  /** Server CPU the calls need (cores) and the replicas that gives at the HPA target (at least 2). */
  serverCores: number;
  serverReplicas: number;
  /** Resources per session slot (a browser's memory and CPU over its sessions). */
  memoryMiBPerSession: number;
  cpuMilliPerSession: number;
  /** Warm idle growth over one hour of leases at this load, against the headroom the limit keeps (MiB). */
  creepPerBrowserHourMiB: number;
  headroomMiB: number;
  /** Cold start per call instead of the warm pool: extra latency per call (ms). */
  coldStartPenaltyMs: number;
}

/** Memory of the gateway (MiB), the Node process that runs Chromium in the same container (ADR 18). */
export const GATEWAY_MEMORY_MIB = 48;

/**
 * Memory of one browser as a line over its concurrent sessions, fitted by least squares to the measured peaks:
 * `base + perSession × sessions` (MiB). The base is what a browser under load holds besides its sessions (the
 * browser process, the GPU and network services, the warm context being refilled). Pure.
 */
export function fitBrowserMemory(peaks: ReadonlyArray<{ sessions: number; mib: number }>): { baseMiB: number; perSessionMiB: number } {
  const n = peaks.length;
  const mx = peaks.reduce((a, p) => a + p.sessions, 0) / n;
  const my = peaks.reduce((a, p) => a + p.mib, 0) / n;
  const den = peaks.reduce((a, p) => a + (p.sessions - mx) ** 2, 0);
  const perSessionMiB = den === 0 ? Number.NaN : peaks.reduce((a, p) => a + (p.sessions - mx) * (p.mib - my), 0) / den;
  return { baseMiB: my - perSessionMiB * mx, perSessionMiB };
}

/** The plan for `inputs` from measurements `m`. Pure. */
export function planCapacity(m: CapacityMeasurements, inputs: CapacityInputs): CapacityPlan {
  const { open, previewPdf, noBrowser } = m.calls;
  const mix = (o: number, p: number) => (1 - inputs.pdfShare) * o + inputs.pdfShare * p;
  const browserCallsPerSecond = (inputs.activeUsers * inputs.browserCallsPerUserHour) / 3600;
  const otherCallsPerSecond = (inputs.activeUsers * inputs.otherCallsPerUserHour) / 3600;
  const holdSeconds = mix(open.holdMs, previewPdf.holdMs) / 1000;
  const meanSessions = browserCallsPerSecond * holdSeconds;
  const peakSessions = Math.max(1, Math.ceil(meanSessions + inputs.burstZ * Math.sqrt(meanSessions)));

  const memory = fitBrowserMemory(m.browser.peakMiB);
  const budgetMiB = inputs.browserMemoryLimitMib * (1 - inputs.memoryHeadroom) - GATEWAY_MEMORY_MIB;
  const sessionsPerBrowserByMemory = Math.max(0, Math.floor((budgetMiB - memory.baseMiB) / memory.perSessionMiB));
  // One session keeps Chromium busy for cpuMs of every holdMs it is open.
  const coresPerSession = mix(open.chromiumCpuMs, previewPdf.chromiumCpuMs) / (holdSeconds * 1000);
  const sessionsPerBrowserByCpu = Math.max(0, Math.floor(inputs.browserCpuCores / coresPerSession));
  const sessionsPerBrowser = Math.max(1, Math.min(inputs.maxSessionsPerBrowser, sessionsPerBrowserByMemory, sessionsPerBrowserByCpu));
  const browsers = Math.max(2, Math.ceil(peakSessions / sessionsPerBrowser));

  const browserPodMemoryMiB = Math.ceil(memory.baseMiB + sessionsPerBrowser * memory.perSessionMiB + GATEWAY_MEMORY_MIB);
  const podLimitMiB = Math.max(browserPodMemoryMiB, inputs.browserMemoryLimitMib);
  const browsersPerNode = Math.max(1, Math.min(Math.floor((inputs.nodeMemoryGib * 1024) / podLimitMiB), Math.floor(inputs.nodeCores / inputs.browserCpuCores)));
  const browserNodes = Math.ceil(browsers / browsersPerNode);

  const serverCores = (browserCallsPerSecond * mix(open.serverCpuMs, previewPdf.serverCpuMs) + otherCallsPerSecond * noBrowser.serverCpuMs) / 1000;
  const serverReplicas = Math.max(2, Math.ceil(serverCores / (inputs.serverCpuRequestCores * inputs.serverTargetUtilisation)));

  const leasesPerBrowserHour = (browserCallsPerSecond * 3600) / browsers;
  return {
    browserCallsPerSecond,
    otherCallsPerSecond,
    holdSeconds,
    meanSessions,
    peakSessions,
    sessionsPerBrowser,
    sessionsPerBrowserByMemory,
    sessionsPerBrowserByCpu,
    coresPerSession,
    browsers,
    browserPodMemoryMiB,
    browsersPerNode,
    browserNodes,
    serverCores,
    serverReplicas,
    memoryMiBPerSession: browserPodMemoryMiB / sessionsPerBrowser,
    cpuMilliPerSession: (inputs.browserCpuCores * 1000) / sessionsPerBrowser,
    creepPerBrowserHourMiB: (leasesPerBrowserHour / 100) * Math.max(0, m.browser.creepMiBPer100Leases),
    headroomMiB: inputs.browserMemoryLimitMib * inputs.memoryHeadroom,
    coldStartPenaltyMs: m.coldStart.launchToPageMsP50 - m.coldStart.warmHandOverMsMean,
  };
}

const f = (value: number, digits = 1): string => (Number.isInteger(value) ? String(value) : value.toFixed(digits));

/** The formula, the measured constants it uses, and the plan for `inputs`, as Markdown. Pure. */
export function renderPlan(m: CapacityMeasurements, inputs: CapacityInputs): string {
  const p = planCapacity(m, inputs);
  const { open, previewPdf } = m.calls;
  const memory = fitBrowserMemory(m.browser.peakMiB);
  return [
    `Measured ${m.measuredAt.slice(0, 10)} on ${m.machine.cores} cores (load ${f(m.machine.loadAverage)}), ${m.machine.chromium}, ${m.workload}.`,
    '',
    '| step | formula | value |',
    '|---|---|---|',
    `| browser calls λ | users × browser calls per user-hour / 3600 = ${inputs.activeUsers} × ${inputs.browserCallsPerUserHour} / 3600 | ${f(p.browserCallsPerSecond, 2)} /s |`,
    `| hold time T | (1 − pdf share) × open hold + pdf share × PDF hold = ${f(1 - inputs.pdfShare, 2)} × ${f(open.holdMs, 0)} ms + ${f(inputs.pdfShare, 2)} × ${f(previewPdf.holdMs, 0)} ms | ${f(p.holdSeconds, 2)} s |`,
    `| mean sessions S | λ × T (Little's law) | ${f(p.meanSessions, 2)} |`,
    `| planned sessions | ⌈S + ${inputs.burstZ}·√S⌉ (Poisson bursts) | ${p.peakSessions} |`,
    `| sessions per browser k | min(cap ${inputs.maxSessionsPerBrowser}, memory ⌊(${inputs.browserMemoryLimitMib} MiB × ${f(1 - inputs.memoryHeadroom, 2)} − gateway ${GATEWAY_MEMORY_MIB} − ${f(memory.baseMiB, 0)} MiB base) / ${f(memory.perSessionMiB, 0)} MiB⌋ = ${p.sessionsPerBrowserByMemory}, CPU ⌊${inputs.browserCpuCores} core / ${f(p.coresPerSession, 2)} core per session⌋ = ${p.sessionsPerBrowserByCpu}) | ${p.sessionsPerBrowser} |`,
    `| browsers B | max(2, ⌈planned sessions / k⌉) | ${p.browsers} |`,
    `| browser container memory | base ${f(memory.baseMiB, 0)} + k × ${f(memory.perSessionMiB, 0)} + gateway ${GATEWAY_MEMORY_MIB} MiB | ${p.browserPodMemoryMiB} MiB |`,
    `| browsers per node | min(⌊${inputs.nodeMemoryGib} GiB / limit ${inputs.browserMemoryLimitMib} MiB⌋, ⌊${inputs.nodeCores} cores / ${inputs.browserCpuCores}⌋) | ${p.browsersPerNode} |`,
    `| browser nodes | ⌈B / browsers per node⌉ | ${p.browserNodes} |`,
    `| server CPU | λ × ${f((1 - inputs.pdfShare) * open.serverCpuMs + inputs.pdfShare * previewPdf.serverCpuMs, 0)} ms + other calls ${f(p.otherCallsPerSecond, 2)}/s × ${f(m.calls.noBrowser.serverCpuMs, 1)} ms | ${f(p.serverCores, 3)} cores |`,
    `| server replicas | max(2, ⌈server CPU / (${inputs.serverCpuRequestCores} core request × ${inputs.serverTargetUtilisation} target)⌉) | ${p.serverReplicas} |`,
    `| per session slot | pod memory / k; browser CPU / k | ${f(p.memoryMiBPerSession, 0)} MiB, ${f(p.cpuMilliPerSession, 0)} mCPU |`,
    `| memory creep | leases per browser-hour / 100 × ${f(m.browser.creepMiBPer100Leases, 1)} MiB (headroom ${f(p.headroomMiB, 0)} MiB) | ${f(p.creepPerBrowserHourMiB, 0)} MiB/h |`,
    `| cold start instead of the warm pool | launch → first page p50 − warm hand-over | +${f(p.coldStartPenaltyMs, 0)} ms per call |`,
    '',
  ].join('\n');
}

/** The reference table of docs/capacity.md: the plan at several numbers of active users, other inputs as given. Pure. */
export function renderReferenceTable(m: CapacityMeasurements, inputs: CapacityInputs = DEFAULT_INPUTS, users: readonly number[] = [50, 200, 1000, 5000]): string {
  const rows = users.map((u) => {
    const p = planCapacity(m, { ...inputs, activeUsers: u });
    return `| ${u} | ${f(p.browserCallsPerSecond, 2)} | ${f(p.meanSessions, 1)} | ${p.peakSessions} | ${p.sessionsPerBrowser} | ${p.browsers} | ${p.browserNodes} | ${p.serverReplicas} |`;
  });
  return [
    `| active users | browser calls/s | mean sessions | planned sessions | sessions/browser | browsers | browser nodes (${inputs.nodeCores} cores, ${inputs.nodeMemoryGib} GiB) | server replicas |`,
    '|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}

/** The measured constants the model uses, as a Markdown table. Pure. */
export function renderMeasurements(m: CapacityMeasurements): string {
  const memory = fitBrowserMemory(m.browser.peakMiB);
  const { open, previewPdf, noBrowser } = m.calls;
  const top = m.throughput.at(-1);
  return [
    `Measured ${m.measuredAt.slice(0, 10)} by \`BENCH=capacity make bench\` on ${m.machine.cores} shared cores (1-minute load up to ${f(m.machine.loadAverage)}), Node ${m.machine.node}, ${m.machine.chromium}; workload: ${m.workload}.`,
    '',
    '| quantity | measured |',
    '|---|---|',
    `| one browser, just started (PSS of all its processes) | ${f(m.browser.idleMiB, 0)} MiB |`,
    `| one browser, warm idle (one pre-warmed context) | ${f(m.browser.warmIdleMiB, 0)} MiB |`,
    `| one browser under load: base + per concurrent session (least squares over ${m.browser.peakMiB.map((p) => p.sessions).join(', ')} sessions) | ${f(memory.baseMiB, 0)} MiB + ${f(memory.perSessionMiB, 1)} MiB per session |`,
    `| peak of one browser at ${m.browser.peakMiB.map((p) => `${p.sessions}`).join(' / ')} sessions | ${m.browser.peakMiB.map((p) => f(p.mib, 0)).join(' / ')} MiB |`,
    `| warm idle growth (creep) | ${f(m.browser.creepMiBPer100Leases, 2)} MiB per 100 leases (over ${m.browser.leasesServed}) |`,
    `| composer_open_composition, one at a time: p50 / p95, lease hold | ${f(open.callMsP50, 0)} / ${f(open.callMsP95, 0)} ms, ${f(open.holdMs, 0)} ms |`,
    `| its CPU: Chromium + server | ${f(open.chromiumCpuMs, 0)} + ${f(open.serverCpuMs, 0)} ms per call |`,
    `| composer_preview_composition (PDF): p50 / p95, lease hold | ${f(previewPdf.callMsP50, 0)} / ${f(previewPdf.callMsP95, 0)} ms, ${f(previewPdf.holdMs, 0)} ms |`,
    `| its CPU: Chromium + server | ${f(previewPdf.chromiumCpuMs, 0)} + ${f(previewPdf.serverCpuMs, 0)} ms per call |`,
    `| a call with no browser (composer_validate_composition): p50, server CPU | ${f(noBrowser.callMsP50, 1)} ms, ${f(noBrowser.serverCpuMs, 1)} ms |`,
    ...(top ? [`| one browser, ${top.sessions} concurrent callers: calls/s, p50 / p95 | ${f(top.callsPerSecond, 1)}/s, ${f(top.callMsP50, 0)} / ${f(top.callMsP95, 0)} ms (Chromium ${f(top.chromiumCores, 2)} cores) |`] : []),
    `| cold browser: launch Chromium + gateway, connect, first page (p50 / p95) | ${f(m.coldStart.launchToPageMsP50, 0)} / ${f(m.coldStart.launchToPageMsP95, 0)} ms |`,
    `| warm hand-over: mean lease wait on a settled pool | ${m.coldStart.warmHandOverMsMean < 1 ? m.coldStart.warmHandOverMsMean.toFixed(2) : f(m.coldStart.warmHandOverMsMean, 1)} ms |`,
    `| server process RSS: idle / under load | ${f(m.server.idleRssMiB, 0)} / ${f(m.server.loadedRssMiB, 0)} MiB |`,
    '',
  ].join('\n');
}

/** The measured figures of the component specifications in docs/architecture.md, as one table. Pure. */
export function renderComponentFigures(m: CapacityMeasurements): string {
  const memory = fitBrowserMemory(m.browser.peakMiB);
  const { open, noBrowser } = m.calls;
  return [
    `| measured (${m.measuredAt.slice(0, 10)}, \`BENCH=capacity make bench\`, [capacity.md](capacity.md)) | MCP server | browser pod |`,
    '|---|---|---|',
    `| memory | RSS ${f(m.server.idleRssMiB, 0)} MiB idle, ${f(m.server.loadedRssMiB, 0)} MiB under load (local mode, which also runs the gateways in process) | PSS ${f(m.browser.idleMiB, 0)} MiB started, ${f(m.browser.warmIdleMiB, 0)} MiB warm, ${f(memory.baseMiB, 0)} MiB + ${f(memory.perSessionMiB, 0)} MiB per concurrent session under load |`,
    `| CPU | ${f(noBrowser.serverCpuMs, 1)} ms per call without a browser, ${f(open.serverCpuMs, 0)} ms per open | ${f(open.chromiumCpuMs, 0)} ms of Chromium CPU per open, whose lease is held ${f(open.holdMs, 0)} ms |`,
    '',
  ].join('\n');
}

/** The generated blocks of docs/capacity.md and docs/architecture.md, by marker name. Pure. */
export function capacityDocBlocks(m: CapacityMeasurements): Record<string, string> {
  return {
    'component-figures': renderComponentFigures(m),
    measurements: renderMeasurements(m),
    'default-plan': renderPlan(m, DEFAULT_INPUTS),
    'reference-table': renderReferenceTable(m),
  };
}

/** `doc` with every `<!-- capacity:NAME -->` … `<!-- /capacity:NAME -->` block replaced by its rendering (blocks it does not contain are left out). Pure. */
export function fillCapacityDoc(doc: string, blocks: Record<string, string>): string {
  return doc.replaceAll(/(<!-- capacity:([a-z-]+) -->\n)[\s\S]*?(<!-- \/capacity:\2 -->)/g, (whole, open: string, name: string, close: string) => {
    const body = blocks[name];
    if (body === undefined) throw new Error(`docs/capacity.md has a block "${name}" that the capacity model does not render`);
    return `${open}${body}${close}`;
  });
}
