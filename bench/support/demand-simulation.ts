import type { GatewayLoad } from '#common/gateway-status.ts';
import type { DemandReader } from '#operator/controllers/browserpool/demand-reader.ts';
import type { SessionReader } from '#operator/controllers/browserpool/session-reader.ts';

/** One caller of the simulation: when it arrived, got its lease and let it go (ms, performance.now). */
export interface SimulatedCaller {
  arrivedAt: number;
  leasedAt?: number;
  endpoint?: string;
  releaseAt?: number;
}

/**
 * Servers and their callers, simulated for browserless benchmarks: callers queue, take a free slot (at most
 * `maxSessions` per Ready browser, filling the fullest first, as a packing router would) and hold it `holdMs`.
 * It answers the operator as the gateways' /status (leased per browser) and the servers' /metrics (queued) would.
 */
export class DemandSimulation {
  readonly callers: SimulatedCaller[] = [];
  readonly #maxSessions: number;
  readonly #holdMs: number;
  #endpoints: () => string[];
  #timer: NodeJS.Timeout | undefined;

  constructor(options: { maxSessions: number; holdMs: number; readyEndpoints: () => string[] }) {
    this.#maxSessions = options.maxSessions;
    this.#holdMs = options.holdMs;
    this.#endpoints = options.readyEndpoints;
  }

  /** `n` callers arrive now. */
  arrive(n: number): void {
    const now = performance.now();
    for (let i = 0; i < n; i++) this.callers.push({ arrivedAt: now });
    this.tick();
  }

  /** Starts placing callers every `intervalMs`. */
  start(intervalMs = 25): void {
    this.#timer = setInterval(() => this.tick(), intervalMs);
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** Leased sessions on `endpoint` now. */
  leasedOn(endpoint: string): number {
    const now = performance.now();
    return this.callers.filter((c) => c.endpoint === endpoint && c.releaseAt !== undefined && c.releaseAt > now).length;
  }

  /** Callers waiting now. */
  queued(): number {
    return this.callers.filter((c) => c.leasedAt === undefined).length;
  }

  /** Callers holding a lease now. */
  leased(): number {
    const now = performance.now();
    return this.callers.filter((c) => c.releaseAt !== undefined && c.releaseAt > now).length;
  }

  /** Places waiting callers on free slots. */
  tick(): void {
    const waiting = this.callers.filter((c) => c.leasedAt === undefined);
    if (waiting.length === 0) return;
    const now = performance.now();
    const free = this.#endpoints()
      .map((endpoint) => ({ endpoint, free: this.#maxSessions - this.leasedOn(endpoint) }))
      .filter((e) => e.free > 0)
      .toSorted((a, b) => a.free - b.free);
    for (const slot of free) {
      while (slot.free > 0 && waiting.length > 0) {
        const caller = waiting.shift()!;
        caller.leasedAt = now;
        caller.endpoint = slot.endpoint;
        caller.releaseAt = now + this.#holdMs;
        slot.free--;
      }
    }
  }

  /** What the gateways' /status would say. */
  sessions(): SessionReader {
    return { read: async (endpoint): Promise<GatewayLoad> => ({ leased: this.leasedOn(endpoint) }) };
  }

  /** What the servers' /metrics would say. */
  demand(): DemandReader {
    return { queued: async () => this.queued() };
  }
}
