import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';

/** A browser call a user made: an open, or a preview. */
export type BrowserCall = { tool: 'composer_open_composition'; args: { uid: string } } | { tool: 'composer_preview_composition'; args: { uid: string; format: 'png' } };

/** The open or preview of `uid`, alternating with `n`. */
export function browserCall(uid: string, n: number): BrowserCall {
  return n % 2 === 0
    ? { tool: 'composer_open_composition', args: { uid } }
    : { tool: 'composer_preview_composition', args: { uid, format: 'png' } };
}

/** A failed call: which tool, and what it answered. */
export interface FailedCall {
  tool: string;
  message: string;
}

/**
 * Counts the browser calls the clients make: started (just before the request is sent) and finished (once the answer
 * is in). A server answers once the capture is done and closes the lease's browser context right after (ADR 29), so
 * the leases held at any moment are at most `started` read after that moment minus the calls that had finished
 * `LEASE_TAIL_MS` before it: the bound a phantom session would break.
 */
export class CallLedger {
  started = 0;
  finished = 0;
  ok = 0;
  readonly failed: FailedCall[] = [];
  readonly #inFlight: Array<{ at: number; inFlight: number }> = [];
  /** When each call finished (epoch ms, in order), and how many older ones were dropped to bound memory. */
  readonly #finishedAt: number[] = [];
  #finishedDropped = 0;
  /** When each call started (epoch ms, in order), and how many older ones were dropped. */
  readonly #startedAt: number[] = [];
  #startedDropped = 0;

  /** Calls in flight now. */
  get inFlight(): number {
    return this.started - this.finished;
  }

  /** How many calls had finished at `at` (epoch ms) or before. */
  finishedBy(at: number): number {
    return this.#finishedDropped + countUpTo(this.#finishedAt, at);
  }

  /** How many calls had started at `at` (epoch ms) or before. */
  startedBy(at: number): number {
    return this.#startedDropped + countUpTo(this.#startedAt, at);
  }

  /** The most calls in flight at once since `since` (epoch ms), including the count at `since`. */
  maxInFlightSince(since: number): number {
    let max = 0;
    let before = 0;
    for (const s of this.#inFlight) {
      if (s.at < since) before = s.inFlight;
      else max = Math.max(max, s.inFlight);
    }
    return Math.max(max, before);
  }

  /** Makes `call` with `client`, counting it; a tool error or a thrown error counts as failed. */
  async call(client: Client, call: BrowserCall): Promise<CallToolResult | undefined> {
    this.started++;
    this.#startedAt.push(Date.now());
    if (this.#startedAt.length > 100_000) this.#startedDropped += this.#startedAt.splice(0, 50_000).length;
    this.#mark();
    try {
      const result = (await client.callTool({ name: call.tool, arguments: call.args }, undefined, { timeout: 300_000 })) as CallToolResult;
      if (result.isError) {
        this.failed.push({ tool: call.tool, message: result.content.map((c) => (c.type === 'text' ? c.text : c.type)).join(' ').slice(0, 500) });
      } else {
        this.ok++;
      }
      return result;
    } catch (error) {
      this.failed.push({ tool: call.tool, message: (error as Error).message.slice(0, 500) });
      return undefined;
    } finally {
      this.finished++;
      this.#finishedAt.push(Date.now());
      if (this.#finishedAt.length > 100_000) this.#finishedDropped += this.#finishedAt.splice(0, 50_000).length;
      this.#mark();
    }
  }

  #mark(): void {
    this.#inFlight.push({ at: Date.now(), inFlight: this.inFlight });
    if (this.#inFlight.length > 100_000) this.#inFlight.splice(0, 50_000);
  }
}

/** How many of the ascending `times` are at or before `at`. */
function countUpTo(times: readonly number[], at: number): number {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (times[mid]! <= at) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A user who opens and previews one composition after another while active, each call as soon as the last answered. */
export class LoopingUser {
  readonly #client: Client;
  readonly #uid: string;
  readonly #ledger: CallLedger;
  #active = false;
  #calls = 0;
  #loop: Promise<void> = Promise.resolve();
  #wake: (() => void) | undefined;
  #stopped = false;

  constructor(client: Client, uid: string, ledger: CallLedger) {
    this.#client = client;
    this.#uid = uid;
    this.#ledger = ledger;
    this.#loop = this.#run();
  }

  /** Starts (true) or pauses (false, after the call in flight) the user's calls. */
  setActive(active: boolean): void {
    this.#active = active;
    if (active) this.#wake?.();
  }

  /** Ends the loop once the call in flight has answered. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#active = false;
    this.#wake?.();
    await this.#loop;
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      if (!this.#active) {
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
        });
        this.#wake = undefined;
        continue;
      }
      await this.#ledger.call(this.#client, browserCall(this.#uid, this.#calls++));
    }
  }
}

/**
 * Drives `users` in a square wave: `low` of them active for `halfPeriodMs`, then `high`, for `cycles` cycles. Demand
 * then oscillates around the autoscaler's boundary between the two counts. Resolves when the last half ends (the
 * users stay as the last half left them).
 */
export async function oscillate(users: readonly LoopingUser[], low: number, high: number, halfPeriodMs: number, cycles: number): Promise<void> {
  const activate = (n: number): void => users.forEach((u, i) => u.setActive(i < n));
  for (let c = 0; c < cycles; c++) {
    activate(low);
    await new Promise((r) => setTimeout(r, halfPeriodMs));
    activate(high);
    await new Promise((r) => setTimeout(r, halfPeriodMs));
  }
}
