import { sumOfMetric } from '#operator/controllers/browserpool/demand-reader.ts';
import type { CallLedger } from './mcp-load.ts';

/**
 * How long after its call's answer a lease may still be held: the server answers once the capture is done and then
 * closes the lease's browser context (ADR 29), 10-20 ms on an idle machine, longer when the machine is loaded.
 */
export const LEASE_TAIL_MS = 2_000;

/** One gateway's `/status` and the browser contexts its `/json/list` shows pages in. */
export interface GatewaySample {
  browser: string;
  leased: number;
  warm: number;
  contexts: number;
  maxContexts: number;
  /** Distinct browser contexts of the page targets Chromium reported (the default context excluded). */
  pageContexts: number;
}

/** A broken invariant, with what was seen. */
export interface Violation {
  at: number;
  what: string;
}

/** What the sampler saw over its whole run. */
export interface SamplerSummary {
  samples: number;
  /** Gateway reads that failed (a browser starting or going away). */
  unreadable: number;
  /** Most contexts one browser held at once, by browser, and its cap. */
  maxContextsPerBrowser: Record<string, { contexts: number; pageContexts: number; cap: number }>;
  /** Most leased contexts over all browsers at once, and the in-flight calls bound at that sample. */
  maxLeased: number;
  /** Most leases the server replicas held at once (the sum of their composer_mcp_router_pool_busy). */
  maxRouterBusy: number;
  /** Most callers the server replicas queued at once (the sum of their composer_mcp_router_queue_depth). */
  maxQueued: number;
  /**
   * Samples where the gateways reported more leased contexts than the routers held leases (read at about the same
   * time, so not an invariant: a diagnosis of contexts counted as leased that no lease holds).
   */
  leasedAboveRouterBusy: number;
  /**
   * Samples where the gateways reported more leased contexts than calls were in flight during the sample (within the
   * bound: leases of calls answered less than LEASE_TAIL_MS before, their contexts not closed yet).
   */
  leasedAboveInFlight: number;
  /** Samples taken while no call was in flight, and how many of them showed warm contexts (pre-warm is on). */
  quietSamples: number;
  quietSamplesWithWarm: number;
}

/** Where the sampler reads: the pool's browsers (endpoint by name), its token, and the server replicas' metrics URLs. */
export interface SamplerTargets {
  browsers: () => Array<{ name: string; endpoint: string }>;
  token: string;
  serverMetricsUrls: string[];
}

async function getText(url: string, headers: Record<string, string> = {}): Promise<string | undefined> {
  try {
    const res = await fetch(url, { headers, signal: AbortSignal.timeout(3000) });
    if (!res.ok) {
      await res.body?.cancel();
      return undefined;
    }
    return await res.text();
  } catch {
    return undefined;
  }
}

/**
 * Samples, every `intervalMs`, each browser's gateway (`/status`: contexts, cap, leased, warm; `/json/list`: the
 * contexts Chromium has pages in) and each server replica's router metrics (leases held, callers queued), and checks
 * at every sample: no browser above its cap (by the gateway's count and by Chromium's targets), and no phantom
 * session — the leased contexts of all gateways, and the leases all routers hold, never exceed the calls in flight
 * (`started` read after the sample minus the calls finished `LEASE_TAIL_MS` before it). Broken invariants are collected, not thrown, so
 * the test reports all of them.
 */
export class LoadSampler {
  readonly violations: Violation[] = [];
  readonly #targets: SamplerTargets;
  readonly #ledger: CallLedger;
  readonly #intervalMs: number;
  readonly #summary: SamplerSummary = {
    samples: 0, unreadable: 0, maxContextsPerBrowser: {}, maxLeased: 0, maxRouterBusy: 0, maxQueued: 0, leasedAboveRouterBusy: 0, leasedAboveInFlight: 0, quietSamples: 0, quietSamplesWithWarm: 0,
  };
  #running = false;
  #loop: Promise<void> = Promise.resolve();

  constructor(targets: SamplerTargets, ledger: CallLedger, intervalMs = 250) {
    this.#targets = targets;
    this.#ledger = ledger;
    this.#intervalMs = intervalMs;
  }

  start(): void {
    this.#running = true;
    this.#loop = this.#run();
  }

  async stop(): Promise<SamplerSummary> {
    this.#running = false;
    await this.#loop;
    return this.summary();
  }

  summary(): SamplerSummary {
    return structuredClone(this.#summary);
  }

  /** Takes one sample now and checks it (also what the loop does). */
  async sample(): Promise<GatewaySample[]> {
    // A lease outlives its call's answer by its context's close (ADR 29): calls that answered within the last
    // LEASE_TAIL_MS may still hold theirs. One held longer after its answer is a phantom.
    const sampledAt = Date.now();
    const finishedBefore = this.#ledger.finishedBy(sampledAt - LEASE_TAIL_MS);
    const browsers = this.#targets.browsers().filter((b) => b.endpoint);
    const auth = { authorization: `Bearer ${this.#targets.token}` };
    const [gateways, routers] = await Promise.all([
      Promise.all(browsers.map(async (b) => {
        const [status, list] = await Promise.all([getText(`${b.endpoint}/status`, auth), getText(`${b.endpoint}/json/list`, auth)]);
        if (status === undefined || list === undefined) return undefined;
        const s = JSON.parse(status) as { leased: number; warm: number; contexts: number; maxContexts: number };
        const targets = JSON.parse(list) as Array<{ type: string; browserContextId?: string }>;
        const pageContexts = new Set(targets.filter((t) => t.type === 'page' && t.browserContextId).map((t) => t.browserContextId)).size;
        return { browser: b.name, leased: s.leased, warm: s.warm, contexts: s.contexts, maxContexts: s.maxContexts, pageContexts } satisfies GatewaySample;
      })),
      Promise.all(this.#targets.serverMetricsUrls.map((u) => getText(u))),
    ]);
    const startedAfter = this.#ledger.started;
    const bound = startedAfter - finishedBefore;
    const at = Date.now();
    const sum = this.#summary;
    sum.samples++;
    const read = gateways.filter((g): g is GatewaySample => g !== undefined);
    sum.unreadable += gateways.length - read.length;
    for (const g of read) {
      const seen = sum.maxContextsPerBrowser[g.browser] ?? { contexts: 0, pageContexts: 0, cap: g.maxContexts };
      sum.maxContextsPerBrowser[g.browser] = { contexts: Math.max(seen.contexts, g.contexts), pageContexts: Math.max(seen.pageContexts, g.pageContexts), cap: g.maxContexts };
      if (g.contexts > g.maxContexts) this.violations.push({ at, what: `browser ${g.browser} holds ${g.contexts} contexts, above its cap of ${g.maxContexts}` });
      // Chromium's own count: the contexts its page targets are in (a page of the default context would count too).
      if (g.pageContexts > g.maxContexts) this.violations.push({ at, what: `browser ${g.browser} has pages in ${g.pageContexts} contexts, above its cap of ${g.maxContexts}` });
    }
    const leased = read.reduce((n, g) => n + g.leased, 0);
    sum.maxLeased = Math.max(sum.maxLeased, leased);
    if (leased > startedAfter - this.#ledger.finishedBy(sampledAt)) sum.leasedAboveInFlight++;
    if (leased > bound) {
      this.violations.push({ at, what: `phantom sessions at the gateways: ${leased} leased (${JSON.stringify(read.map((g) => [g.browser, g.leased, g.warm]))}) while at most ${bound} calls were in flight` });
    }
    const texts = routers.filter((t): t is string => t !== undefined);
    const busy = texts.reduce((n, t) => n + (sumOfMetric(t, 'composer_mcp_router_pool_busy') ?? 0), 0);
    const queued = texts.reduce((n, t) => n + (sumOfMetric(t, 'composer_mcp_router_queue_depth') ?? 0), 0);
    sum.maxRouterBusy = Math.max(sum.maxRouterBusy, busy);
    sum.maxQueued = Math.max(sum.maxQueued, queued);
    if (texts.length === this.#targets.serverMetricsUrls.length && leased > busy) sum.leasedAboveRouterBusy++;
    if (busy > bound) this.violations.push({ at, what: `phantom leases in the routers: ${busy} held while at most ${bound} calls were in flight` });
    if (bound === 0 && read.length > 0) {
      sum.quietSamples++;
      if (read.some((g) => g.warm > 0)) sum.quietSamplesWithWarm++;
    }
    return read;
  }

  async #run(): Promise<void> {
    while (this.#running) {
      const started = Date.now();
      await this.sample();
      await new Promise((r) => setTimeout(r, Math.max(0, this.#intervalMs - (Date.now() - started))));
    }
  }
}
