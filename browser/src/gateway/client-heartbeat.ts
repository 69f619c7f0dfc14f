import { livenessSettingsProblem, livenessVerdict, tickWasLate, type LivenessSettings, type LivenessState } from './client-liveness.ts';

/** One client as the heartbeat drives it (the gateway's WebSocket). */
export interface HeartbeatPeer {
  /** Sends a WebSocket ping. */
  ping(): void;
  /** The client was silent for `silentForMs` while read: disconnect it. Called once; the peer is no longer tracked. */
  hung(silentForMs: number): void;
}

/** What the gateway tells the heartbeat about one client. */
export interface TrackedClient {
  /** A pong or a message arrived. */
  heard(): void;
  /** The gateway stopped reading the client (backpressure). */
  paused(): void;
  /** The gateway reads the client again. */
  resumed(): void;
  /** The client is gone; stop tracking it. */
  untrack(): void;
}

/**
 * Pings every tracked client each `pingIntervalMs` and hands over those judged hung (client-liveness.ts). One timer
 * for all clients, unref'd; nothing runs when the interval is 0.
 */
export class ClientHeartbeat {
  private readonly settings: LivenessSettings;
  private readonly now: () => number;
  private readonly peers = new Map<HeartbeatPeer, LivenessState>();
  private timer: NodeJS.Timeout | undefined;
  private lastTickAt = 0;

  constructor(settings: LivenessSettings, now: () => number = () => performance.now()) {
    const problem = livenessSettingsProblem(settings);
    if (problem !== undefined) throw new RangeError(problem);
    this.settings = settings;
    this.now = now;
  }

  /** Starts tracking a client that just connected. */
  track(peer: HeartbeatPeer): TrackedClient {
    const state: LivenessState = { lastHeardAt: this.now(), readingPaused: false };
    this.peers.set(peer, state);
    if (this.timer === undefined && this.settings.pingIntervalMs > 0) {
      this.lastTickAt = this.now();
      this.timer = setInterval(() => this.tick(), this.settings.pingIntervalMs);
      this.timer.unref();
    }
    return {
      heard: () => {
        state.lastHeardAt = this.now();
      },
      paused: () => {
        state.readingPaused = true;
      },
      resumed: () => {
        // What the client sent while unread is read now: its silence so far says nothing.
        state.readingPaused = false;
        state.lastHeardAt = this.now();
      },
      untrack: () => this.untrack(peer),
    };
  }

  /** Clients tracked now. */
  get size(): number {
    return this.peers.size;
  }

  /** Judges every client once: pings the live, hands over the hung (none after a tick the gateway itself was late for). */
  tick(): void {
    const now = this.now();
    const late = tickWasLate(this.lastTickAt, now, this.settings);
    this.lastTickAt = now;
    for (const [peer, state] of this.peers) {
      if (late) state.lastHeardAt = now;
      const verdict = livenessVerdict(state, now, this.settings);
      if (verdict.kind === 'ping') peer.ping();
      else if (verdict.kind === 'hung') {
        this.untrack(peer);
        peer.hung(verdict.silentForMs);
      }
    }
  }

  /** Stops the timer and forgets every client. */
  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.peers.clear();
  }

  private untrack(peer: HeartbeatPeer): void {
    this.peers.delete(peer);
    if (this.peers.size === 0) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}
