/** Whether a base URL answered, how, and how fast. */
export interface Reachability {
  url: string;
  reachable: boolean;
  /** HTTP status of the answer (any status means the host is reachable). */
  status?: number;
  latencyMs: number;
  /** Why it was not reachable. */
  error?: string;
}

/**
 * Sends one HEAD request to `url` with a short timeout. Any HTTP answer counts as reachable (this checks the path
 * to the host, not credentials); a timeout or network error does not. Never throws.
 */
export async function checkReachability(url: string, timeoutMs = 2_000, fetchImpl: typeof fetch = globalThis.fetch): Promise<Reachability> {
  const started = performance.now();
  try {
    const response = await fetchImpl(url, { method: 'HEAD', redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
    await response.body?.cancel().catch(() => undefined);
    return { url, reachable: true, status: response.status, latencyMs: Math.round(performance.now() - started) };
  } catch (error) {
    const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : error instanceof Error ? error.message : String(error);
    return { url, reachable: false, latencyMs: Math.round(performance.now() - started), error: timedOut ? `no answer within ${timeoutMs} ms` : cause };
  }
}
