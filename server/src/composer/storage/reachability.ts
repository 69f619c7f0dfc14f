/**
 * How a base URL answered one probe: `ok` (an HTTP answer below 500 within `slowAfterMs`), `slow` (such an answer,
 * later), `failing` (a 5xx answer: up, but in trouble), `timeout` (no answer within the probe's timeout: much slower
 * than that, or down) or `unreachable` (no connection: refused, unknown host, TLS failure — down or a wrong URL).
 */
export type ReachabilityState = 'ok' | 'slow' | 'failing' | 'timeout' | 'unreachable';

/** Whether a base URL answered, how, and how fast. */
export interface Reachability {
  url: string;
  state: ReachabilityState;
  /** True when any HTTP answer came (the host is up), whatever its status and latency. */
  reachable: boolean;
  /** HTTP status of the answer. */
  status?: number;
  latencyMs: number;
  /** Why there was no answer. */
  error?: string;
}

/** Probe tuning: the probe's own timeout and the latency above which an answer counts as slow. */
export interface ProbeLimits {
  timeoutMs: number;
  slowAfterMs: number;
}

/** The default limits: a 5 s probe, slow above 1 s. */
export const DEFAULT_PROBE_LIMITS: Readonly<ProbeLimits> = Object.freeze({ timeoutMs: 5_000, slowAfterMs: 1_000 });

/** The state of a probe that got an answer (pure). */
export function answeredState(status: number, latencyMs: number, slowAfterMs: number): ReachabilityState {
  if (status >= 500) return 'failing';
  return latencyMs > slowAfterMs ? 'slow' : 'ok';
}

/** One phrase for a status line: what the probe saw and what it means. */
export function describeReachability(r: Reachability, limits: ProbeLimits = DEFAULT_PROBE_LIMITS): string {
  switch (r.state) {
    case 'ok':
      return `answering (HTTP ${r.status}, ${r.latencyMs} ms)`;
    case 'slow':
      return `up but slow (HTTP ${r.status} after ${r.latencyMs} ms; calls to it will take long)`;
    case 'failing':
      return `up but failing (HTTP ${r.status} after ${r.latencyMs} ms)`;
    case 'timeout':
      return `not answering within ${limits.timeoutMs} ms (much slower than that, or down)`;
    case 'unreachable':
      return `unreachable (${r.error ?? 'no connection'}: down, or a wrong URL)`;
  }
}

/**
 * Sends one HEAD request to `url`, never following a redirect, and says how it went (see ReachabilityState). Any
 * HTTP answer means the host is up (this checks the path to it, not credentials). Never throws.
 */
export async function checkReachability(url: string, limits: ProbeLimits = DEFAULT_PROBE_LIMITS, fetchImpl: typeof fetch = globalThis.fetch): Promise<Reachability> {
  const started = performance.now();
  try {
    const response = await fetchImpl(url, { method: 'HEAD', redirect: 'manual', signal: AbortSignal.timeout(limits.timeoutMs) });
    await response.body?.cancel().catch(() => undefined);
    const latencyMs = Math.round(performance.now() - started);
    return { url, state: answeredState(response.status, latencyMs, limits.slowAfterMs), reachable: true, status: response.status, latencyMs };
  } catch (error) {
    const latencyMs = Math.round(performance.now() - started);
    const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
    if (timedOut) return { url, state: 'timeout', reachable: false, latencyMs, error: `no answer within ${limits.timeoutMs} ms` };
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : error instanceof Error ? error.message : String(error);
    return { url, state: 'unreachable', reachable: false, latencyMs, error: cause };
  }
}
