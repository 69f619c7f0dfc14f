/**
 * Whether a CDP client still answers. A client that is connected but hung (its process stopped, its event loop
 * blocked) keeps its browser-level sessions, and with them any `Fetch` interception it enabled: Chromium chains
 * interception across sessions, so a request paused at that client waits for ever, whichever client's page made it
 * (ADR 31). The gateway pings every client; a client from which nothing was heard for `pingTimeoutMs` while the
 * gateway was reading it is hung, and the gateway disconnects it (its sessions detached, so Chromium lets go of the
 * requests it held).
 */

/** How often the gateway pings and how long a client may stay silent. */
export interface LivenessSettings {
  /** Period of the WebSocket pings, in ms; 0 turns the check off. */
  pingIntervalMs: number;
  /** A client silent (no pong, no message) this long while the gateway reads it is hung, in ms. */
  pingTimeoutMs: number;
}

/** The defaults: a ping every 5 s, hung after 15 s of silence (three unanswered pings). */
export const DEFAULT_LIVENESS: LivenessSettings = { pingIntervalMs: 5_000, pingTimeoutMs: 15_000 };

/** What the gateway knows of one client. Times are of one monotonic clock, in ms. */
export interface LivenessState {
  /** When a pong or a message last arrived from the client (or reading it last resumed, or it connected). */
  lastHeardAt: number;
  /**
   * True while the gateway does not read the client (the DevTools pipe is congested and every client is paused):
   * a pong it sent cannot be heard then, so its silence says nothing.
   */
  readingPaused: boolean;
}

/** What to do with one client at a tick. */
export type LivenessVerdict =
  | { kind: 'off' }
  | { kind: 'wait' }
  | { kind: 'ping' }
  | { kind: 'hung'; silentForMs: number };

/**
 * The verdict on one client at `now`: `hung` once it has been silent for `pingTimeoutMs` while read, `wait` while
 * it is not read, else `ping` (the gateway pings every client it still judges alive, every interval).
 */
export function livenessVerdict(state: LivenessState, now: number, settings: LivenessSettings): LivenessVerdict {
  if (settings.pingIntervalMs === 0) return { kind: 'off' };
  if (state.readingPaused) return { kind: 'wait' };
  const silentForMs = now - state.lastHeardAt;
  if (silentForMs >= settings.pingTimeoutMs) return { kind: 'hung', silentForMs };
  return { kind: 'ping' };
}

/**
 * True when the gateway's own tick came far later than its interval (its event loop was blocked, as in local mode
 * where the gateway shares a process with its clients): nothing could be heard meanwhile, so no client's silence
 * over that gap counts. After a block, timers run before the socket reads that hold the pongs.
 */
export function tickWasLate(previousTickAt: number, now: number, settings: LivenessSettings): boolean {
  return now - previousTickAt > 2 * settings.pingIntervalMs;
}

/**
 * Why these settings cannot work, or undefined when they can: the timeout must span at least two intervals, or a
 * live client whose pong answers the previous ping could be judged hung just before the next one.
 */
export function livenessSettingsProblem(settings: LivenessSettings): string | undefined {
  const { pingIntervalMs, pingTimeoutMs } = settings;
  if (!Number.isInteger(pingIntervalMs) || pingIntervalMs < 0) return `pingIntervalMs must be a whole number of ms ≥ 0 (0 = off), got ${pingIntervalMs}`;
  if (!Number.isInteger(pingTimeoutMs) || pingTimeoutMs < 1) return `pingTimeoutMs must be a whole number of ms ≥ 1, got ${pingTimeoutMs}`;
  if (pingIntervalMs > 0 && pingTimeoutMs < 2 * pingIntervalMs) {
    return `pingTimeoutMs (${pingTimeoutMs}) must be at least twice pingIntervalMs (${pingIntervalMs}), so a live client always has two pings to answer; raise the timeout or shorten the interval`;
  }
  return undefined;
}
