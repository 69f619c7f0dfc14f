import http from 'node:http';

/** Options of {@link httpGet}. */
export interface HttpGetOptions {
  headers?: Record<string, string>;
  /** Per-request timeout (the request is destroyed after it). */
  timeoutMs: number;
  signal?: AbortSignal;
  /** Largest body accepted; a longer one fails the read. */
  maxBytes: number;
}

/**
 * One GET over a one-shot connection (no keep-alive pool: polling a thousand pods keeps no per-pod state). The
 * body of a 200 answer, or undefined for any other status, a timeout, an abort, an oversized body or an error.
 */
export function httpGet(url: string, options: HttpGetOptions): Promise<string | undefined> {
  return new Promise((resolve) => {
    if (options.signal?.aborted) {
      resolve(undefined);
      return;
    }
    const req = http.get(url, { agent: false, headers: options.headers ?? {}, ...(options.signal ? { signal: options.signal } : {}) }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        resolve(undefined);
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > options.maxBytes) req.destroy();
        else chunks.push(chunk);
      });
      res.on('end', () => resolve(size > options.maxBytes ? undefined : Buffer.concat(chunks).toString('utf8')));
      res.on('error', () => resolve(undefined));
      res.on('close', () => resolve(undefined));
    });
    req.setTimeout(options.timeoutMs, () => req.destroy());
    req.on('error', () => resolve(undefined));
  });
}

/** Runs at most `limit` calls at once across everything that uses it; the rest wait their turn. */
export function concurrencyLimit(limit: number): <T>(call: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: Array<() => void> = [];
  return async (call) => {
    if (active < limit) active++;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await call();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else active--;
    }
  };
}
