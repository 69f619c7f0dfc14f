import type { V1LabelSelector, V1Pod } from '@kubernetes/client-node';
import { SERVER_METRICS_PATH, SERVER_PORT_NAME, SERVER_QUEUE_METRIC } from '#kube/api/v1alpha1/contract.ts';
import { matchesSelector } from './label-selector.ts';
import { concurrencyLimit, httpGet } from './http-get.ts';

/** The servers whose demand counts for a pool: those its NetworkPolicy admits, in its namespace. */
export interface PoolClients {
  namespace: string;
  selector: V1LabelSelector;
}

/** Reads how many callers wait for a browser of a pool (the servers' lease queues), for demand-driven autoscaling. */
export interface DemandReader {
  /** Callers queued on the pool's servers now (0 when there are none), or undefined when none could be read. */
  queued(clients: PoolClients, signal?: AbortSignal): Promise<number | undefined>;
}

/** Largest metrics page accepted. */
const MAX_BODY_BYTES = 4 << 20;

/**
 * The sum of the samples of `metric` in a Prometheus text exposition (any labels), or undefined when it has none.
 * Hostile input: malformed lines and non-finite or negative values are skipped. Pure.
 */
export function sumOfMetric(text: string, metric: string): number | undefined {
  let sum: number | undefined;
  for (const line of text.split('\n')) {
    if (!line.startsWith(metric)) continue;
    const rest = line.slice(metric.length);
    if (!(rest.startsWith('{') || rest.startsWith(' '))) continue;
    const value = Number(rest.slice(rest.startsWith('{') ? rest.lastIndexOf('}') + 1 : 0).trim().split(/\s+/)[0]);
    if (!Number.isFinite(value) || value < 0) continue;
    sum = (sum ?? 0) + value;
  }
  return sum;
}

/** Options of {@link httpDemandReader}. */
export interface HttpDemandReaderOptions {
  /** The composer-mcp server pods of a namespace (from the operator's cache). */
  serverPods(namespace: string): V1Pod[];
  /** Per-request timeout (default 1000 ms). */
  timeoutMs?: number;
  /** Requests in flight at once (default 8). */
  concurrency?: number;
  /** How long one server's reading is reused (default 1000 ms). */
  ttlMs?: number;
}

/** The metrics URL of a Ready server pod (`http://<podIP>:<http port>/metrics`), or undefined. */
export function metricsUrlOf(pod: V1Pod): string | undefined {
  const ip = pod.status?.podIP;
  const ready = pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
  if (!ip || !ready || pod.metadata?.deletionTimestamp) return undefined;
  const port = pod.spec?.containers?.flatMap((c) => c.ports ?? []).find((p) => p.name === SERVER_PORT_NAME)?.containerPort;
  if (!port) return undefined;
  return `http://${ip.includes(':') ? `[${ip}]` : ip}:${port}${SERVER_METRICS_PATH}`;
}

/**
 * A {@link DemandReader} over HTTP: the `/metrics` of every Ready server pod the pool admits, summed; a short
 * timeout, a global concurrency limit, readings reused for `ttlMs`. Unreadable servers count as 0 when others
 * answered, and make the result undefined when none did.
 */
export function httpDemandReader(options: HttpDemandReaderOptions): DemandReader {
  const limited = concurrencyLimit(options.concurrency ?? 8);
  const cache = new Map<string, { value: number | undefined; at: number }>();
  const read = async (url: string, signal?: AbortSignal): Promise<number | undefined> => {
    const cached = cache.get(url);
    if (cached && Date.now() - cached.at < (options.ttlMs ?? 1000)) return cached.value;
    const text = await limited(() => httpGet(url, {
      headers: { accept: 'text/plain' }, timeoutMs: options.timeoutMs ?? 1000, maxBytes: MAX_BODY_BYTES, ...(signal ? { signal } : {}),
    }));
    const value = text === undefined ? undefined : sumOfMetric(text, SERVER_QUEUE_METRIC) ?? 0;
    cache.set(url, { value, at: Date.now() });
    if (cache.size > 1000) for (const [k, v] of cache) if (Date.now() - v.at > 60_000) cache.delete(k);
    return value;
  };
  return {
    async queued(clients, signal) {
      const urls = options.serverPods(clients.namespace)
        .filter((p) => matchesSelector(clients.selector, p.metadata?.labels))
        .map(metricsUrlOf)
        .filter((u): u is string => u !== undefined);
      if (urls.length === 0) return 0;
      const values = await Promise.all(urls.map((u) => read(u, signal)));
      const known = values.filter((v): v is number => v !== undefined);
      return known.length === 0 ? undefined : known.reduce((a, b) => a + b, 0);
    },
  };
}
