import http from 'node:http';

/** Reads how many pages a browser's gateway has open (its `/status`), for draining and autoscaling. */
export interface SessionReader {
  /**
   * Open pages on the gateway at `endpoint` (`http://ip:port`), or undefined when it cannot be read in time or
   * `signal` aborts first.
   */
  read(endpoint: string, token: string, signal?: AbortSignal): Promise<number | undefined>;
}

/** Options of {@link httpSessionReader}. */
export interface HttpSessionReaderOptions {
  /** Per-request timeout (default 1000 ms). */
  timeoutMs?: number;
  /** Requests in flight at once across all pools (default 16). */
  concurrency?: number;
}

/** Largest /status body accepted (the gateway's is a few KB). */
const MAX_BODY_BYTES = 1 << 20;

function getJson(url: string, token: string, timeoutMs: number, signal?: AbortSignal): Promise<unknown> {
  return new Promise((resolve) => {
    if (signal?.aborted) {
      resolve(undefined);
      return;
    }
    const req = http.get(url, { agent: false, ...(signal ? { signal } : {}), headers: { authorization: `Bearer ${token}`, accept: 'application/json' } }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        resolve(undefined);
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BODY_BYTES) req.destroy();
        else chunks.push(chunk);
      });
      res.on('end', () => {
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        } catch {
          resolve(undefined);
        }
      });
      res.on('error', () => resolve(undefined));
    });
    req.setTimeout(timeoutMs, () => req.destroy());
    req.on('error', () => resolve(undefined));
  });
}

/**
 * A {@link SessionReader} over HTTP with the pool token, a short timeout and a global concurrency limit. Uses
 * one-shot connections (no keep-alive pool per browser), so polling a thousand browsers keeps no per-browser state.
 */
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
    async read(endpoint, token, signal) {
      if (!endpoint || signal?.aborted) return undefined;
      await acquire();
      try {
        const body = (await getJson(`${endpoint}/status`, token, timeoutMs, signal)) as { pages?: unknown } | undefined;
        const pages = body?.pages;
        return typeof pages === 'number' && Number.isFinite(pages) && pages >= 0 ? pages : undefined;
      } finally {
        release();
      }
    },
  };
}
