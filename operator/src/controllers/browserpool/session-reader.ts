import { parseGatewayLoad, type GatewayLoad } from '#common/gateway-status.ts';
import { concurrencyLimit, httpGet } from './http-get.ts';

/** Reads a browser's load from its gateway's `/status` (leased sessions, leases served, memory). */
export interface SessionReader {
  /**
   * The load of the gateway at `endpoint` (`http://ip:port`), or undefined when it cannot be read in time or
   * `signal` aborts first. An older gateway that reports only `pages` gives `leased = pages`.
   */
  read(endpoint: string, token: string, signal?: AbortSignal): Promise<GatewayLoad | undefined>;
}

/** Options of {@link httpSessionReader}. */
export interface HttpSessionReaderOptions {
  /** Per-request timeout (default 1000 ms). */
  timeoutMs?: number;
  /** Requests in flight at once across all pools (default 16). */
  concurrency?: number;
}

/** Largest /status body accepted (the gateway's is a few hundred bytes). */
const MAX_BODY_BYTES = 1 << 20;

/** A {@link SessionReader} over HTTP with the pool token, a short timeout and a global concurrency limit. */
export function httpSessionReader(options: HttpSessionReaderOptions = {}): SessionReader {
  const timeoutMs = options.timeoutMs ?? 1000;
  const limited = concurrencyLimit(options.concurrency ?? 16);
  return {
    async read(endpoint, token, signal) {
      if (!endpoint || signal?.aborted) return undefined;
      const text = await limited(() => httpGet(`${endpoint}/status`, {
        headers: { authorization: `Bearer ${token}`, accept: 'application/json' }, timeoutMs, maxBytes: MAX_BODY_BYTES,
        ...(signal ? { signal } : {}),
      }));
      if (text === undefined) return undefined;
      try {
        return parseGatewayLoad(JSON.parse(text));
      } catch {
        return undefined;
      }
    },
  };
}
