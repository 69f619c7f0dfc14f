/**
 * The server's own call to the storage API on behalf of a page: the real credentials in the headers, the page's
 * harmless headers passed on, no redirect followed, a timeout and a cap on the answer's size. I/O only; what may be
 * called is decided before (read-only-policy.ts).
 */

/** The real credentials and the API settings a relay sends. */
export interface RelayCredentials {
  accessToken: string;
  projectKey: string | undefined;
  apiEnv: string;
}

/** Headers of the page's request that are passed on (everything else, cookies and credentials above all, is not). */
const PASSED_HEADERS = ['accept', 'accept-language', 'origin', 'if-none-match', 'if-modified-since', 'cache-control'];

/** How a relay ended. */
export type RelayOutcome =
  | { kind: 'answered'; status: number; statusText: string; headers: Array<[string, string]>; body: Buffer }
  | { kind: 'failed'; reason: 'timeout' | 'network' | 'too-large' | 'redirect' | 'cancelled'; detail: string };

/** Options of one relay. */
export interface RelayOptions {
  timeoutMs: number;
  maxBytes: number;
  /** Aborted when the lease ends. */
  signal: AbortSignal;
  fetch?: typeof fetch;
}

/** The page's headers that are passed on, names in lower case (pure). */
export function passedHeaders(pageHeaders: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(pageHeaders)) if (PASSED_HEADERS.includes(name.toLowerCase())) out[name.toLowerCase()] = value;
  return out;
}

/** The headers the server sends upstream: the page's harmless ones, then the real credentials. */
export function relayRequestHeaders(pageHeaders: Record<string, string>, credentials: RelayCredentials): Record<string, string> {
  const out = passedHeaders(pageHeaders);
  out['authorization'] = `Bearer ${credentials.accessToken}`;
  if (credentials.projectKey) out['project-key'] = credentials.projectKey;
  out['api-env'] = credentials.apiEnv;
  return out;
}

async function readCapped(response: Response, maxBytes: number): Promise<Buffer | undefined> {
  if (!response.body) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let size = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return Buffer.concat(chunks);
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      return undefined;
    }
    chunks.push(Buffer.from(value));
  }
}

/** Calls `method url` with the real credentials; never throws. */
export async function relayToApi(request: { method: string; url: string; headers: Record<string, string> }, credentials: RelayCredentials, options: RelayOptions): Promise<RelayOutcome> {
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = AbortSignal.any([options.signal, timeout]);
  const fetchImpl = options.fetch ?? globalThis.fetch;
  try {
    const response = await fetchImpl(request.url, { method: request.method, headers: relayRequestHeaders(request.headers, credentials), redirect: 'manual', signal });
    if (response.status >= 300 && response.status <= 399) {
      await response.body?.cancel().catch(() => undefined);
      return { kind: 'failed', reason: 'redirect', detail: `the API answered ${response.status} (a redirect, not followed)` };
    }
    const body = await readCapped(response, options.maxBytes);
    if (body === undefined) return { kind: 'failed', reason: 'too-large', detail: `the answer is larger than ${options.maxBytes} bytes` };
    return { kind: 'answered', status: response.status, statusText: response.statusText, headers: [...response.headers], body };
  } catch (error) {
    if (options.signal.aborted) return { kind: 'failed', reason: 'cancelled', detail: 'the lease ended' };
    if (timeout.aborted) return { kind: 'failed', reason: 'timeout', detail: `no answer within ${options.timeoutMs} ms` };
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : error instanceof Error ? error.message : String(error);
    return { kind: 'failed', reason: 'network', detail: cause };
  }
}
