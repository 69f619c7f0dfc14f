import type { GatewayLoad } from '#common/gateway-status.ts';
import type { SessionReader } from '#operator/controllers/browserpool/session-reader.ts';
import type { RecordedStatus } from './pool-recorder.ts';

/** One round of the operator's reads of a pool's gateways: asked together in one reconcile. */
export interface ReadRound {
  /** When the first read was asked and the last answer came (epoch ms). */
  askedAt: number;
  answeredAt: number;
  /** Each gateway read (by endpoint): leased and warm as it answered; undefined when it could not be read. */
  loads: Map<string, { leased: number; warm: number | undefined } | undefined>;
}

/**
 * Wraps the operator's session reader and records its reads in rounds. The reconciler asks every gateway of a round
 * in the same tick, before any answer can arrive, and reconciles of one pool never overlap: a read asked while none is
 * outstanding starts a new round. (Meant for one pool per operator, as in the e2e test.)
 */
export class ReadRoundRecorder implements SessionReader {
  readonly rounds: ReadRound[] = [];
  readonly #inner: SessionReader;
  #outstanding = 0;
  #current: ReadRound | undefined;

  constructor(inner: SessionReader) {
    this.#inner = inner;
  }

  async read(endpoint: string, token: string, signal?: AbortSignal): Promise<GatewayLoad | undefined> {
    const now = Date.now();
    if (this.#outstanding === 0 || this.#current === undefined) {
      this.#current = { askedAt: now, answeredAt: now, loads: new Map() };
      this.rounds.push(this.#current);
      if (this.rounds.length > 100_000) this.rounds.splice(0, 50_000);
    }
    const round = this.#current;
    this.#outstanding++;
    try {
      const load = await this.#inner.read(endpoint, token, signal);
      round.loads.set(endpoint, load ? { leased: load.leased, warm: load.warm } : undefined);
      return load;
    } finally {
      this.#outstanding--;
      round.answeredAt = Math.max(round.answeredAt, Date.now());
    }
  }

  /**
   * The latest round, answered before `status` was seen, whose reads give exactly the sessions `status` reports: each
   * browser with sessions read with that many leased, each other one not read or read with none. Undefined when no
   * round does (the status mixes reads of different rounds, or was not computed from reads at all).
   */
  roundOf(status: RecordedStatus): ReadRound | undefined {
    for (let i = this.rounds.length - 1; i >= 0; i--) {
      const round = this.rounds[i]!;
      if (round.answeredAt > status.at) continue;
      const matches = Object.entries(status.sessions).every(([name, sessions]) => {
        const read = round.loads.get(status.endpoints[name] ?? '');
        return sessions === (read?.leased ?? 0);
      });
      if (matches) return round;
    }
    return undefined;
  }
}
