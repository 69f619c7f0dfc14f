/** Reads how many pages a browser's gateway has open (its `/status`), for draining and autoscaling. */
export interface SessionReader {
  /** Open pages on the gateway at `endpoint` (`http://ip:port`), or undefined when it cannot be read in time. */
  read(endpoint: string, token: string): Promise<number | undefined>;
}

/** Options of {@link httpSessionReader}. */
export interface HttpSessionReaderOptions {
  /** Per-request timeout (default 1000 ms). */
  timeoutMs?: number;
  /** Requests in flight at once across all pools (default 16). */
  concurrency?: number;
}

/** A {@link SessionReader} over HTTP with the pool token, a short timeout and a global concurrency limit. */
export function httpSessionReader(options: HttpSessionReaderOptions = {}): SessionReader {
  const timeoutMs = options.timeoutMs ?? 1000;
  const limit = options.concurrency ?? 16;
  let active = 0;
  const waiting: Array<() => void> = [];
  const acquire = async (): Promise<void> => {
    if (active < limit) {
      active++;
      return;
    }
    await new Promise<void>((resolve) => waiting.push(resolve));
  };
  const release = (): void => {
    const next = waiting.shift();
    if (next) next();
    else active--;
  };
  return {
    async read(endpoint, token) {
      if (!endpoint) return undefined;
      await acquire();
      try {
        const res = await fetch(`${endpoint}/status`, {
          headers: { authorization: `Bearer ${token}` },
          signal: AbortSignal.timeout(timeoutMs),
        });
        if (!res.ok) {
          await res.body?.cancel();
          return undefined;
        }
        const body = (await res.json()) as { pages?: unknown };
        return typeof body.pages === 'number' && Number.isFinite(body.pages) && body.pages >= 0 ? body.pages : undefined;
      } catch {
        return undefined;
      } finally {
        release();
      }
    },
  };
}
