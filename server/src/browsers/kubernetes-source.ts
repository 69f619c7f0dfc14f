import { createHash } from 'node:crypto';
import type { KubeConfig, V1Secret } from '@kubernetes/client-node';
import { createLogger, type Logger } from '#common/logger.ts';
import { secretRedactor } from '#common/redaction.ts';
import type { BrowserPool } from '#kube/api/v1alpha1/browserpool.ts';
import { BROWSERPOOL_GROUP, BROWSERPOOL_PLURAL, BROWSERPOOL_VERSION } from '#kube/api/v1alpha1/browserpool.ts';
import { TOKEN_KEY, tokenOf, tokenSecretName } from '#kube/api/v1alpha1/contract.ts';
import { createInformer, type Informer } from '#kube/runtime/informer.ts';
import { EndpointListeners, type BrowserEndpoint, type EndpointSource } from './endpoint-source.ts';

/** Options of {@link KubernetesEndpointSource}. */
export interface KubernetesSourceOptions {
  kubeConfig: KubeConfig;
  /** Namespace of the BrowserPool. */
  namespace: string;
  /** Name of the BrowserPool. */
  pool: string;
  /** Secret holding the CDP token (default `<pool>-cdp-token`) and its key (default `token`). */
  tokenSecret?: string;
  tokenKey?: string;
  /** How long `start()` waits for the first list (default 30 s); it resolves either way. */
  startTimeoutMs?: number;
  logger?: Logger;
}

/** The router's view of one pool status: Ready and Draining browsers with an endpoint, with the pool token. */
export function endpointsFromPool(pool: BrowserPool | undefined, token: string | undefined): BrowserEndpoint[] {
  if (!pool || !token) return [];
  const maxSessions = pool.spec?.maxSessionsPerBrowser;
  const out: BrowserEndpoint[] = [];
  for (const b of pool.status?.browsers ?? []) {
    if ((b.state !== 'Ready' && b.state !== 'Draining') || !b.endpoint) continue;
    const e: BrowserEndpoint = { id: b.name, url: b.endpoint.replace(/\/+$/, ''), token, state: b.state };
    if (typeof maxSessions === 'number') e.maxSessions = maxSessions;
    out.push(e);
  }
  return out.toSorted((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

function fingerprint(endpoints: BrowserEndpoint[]): string {
  return JSON.stringify(endpoints.map((e) => [e.id, e.url, e.state, e.maxSessions, createHash('sha256').update(e.token).digest('hex')]));
}

/**
 * Endpoints from one BrowserPool's status (written by the operator) and its token Secret: browsers in state
 * Ready are offered as Ready, Draining ones as Draining (running leases finish, no new ones), everything else is
 * left out. Watches both objects with informers that relist after watch errors, 410 Gone and apiserver restarts.
 */
export class KubernetesEndpointSource implements EndpointSource {
  readonly #options: KubernetesSourceOptions;
  readonly #log: Logger;
  readonly #listeners = new EndpointListeners();
  readonly #pools: Informer<BrowserPool>;
  readonly #secrets: Informer<V1Secret>;
  readonly #secretName: string;
  #endpoints: BrowserEndpoint[] = [];
  #fingerprint = '[]';
  #warnedNoToken = false;

  constructor(options: KubernetesSourceOptions) {
    this.#options = options;
    this.#log = options.logger ?? createLogger({ component: 'kubernetes-source' });
    this.#secretName = options.tokenSecret ?? tokenSecretName(options.pool);
    this.#pools = createInformer<BrowserPool>(options.kubeConfig, {
      group: BROWSERPOOL_GROUP, version: BROWSERPOOL_VERSION, plural: BROWSERPOOL_PLURAL, namespace: options.namespace,
    }, { name: `browserpool ${options.pool}`, fieldSelector: `metadata.name=${options.pool}`, logger: this.#log });
    this.#secrets = createInformer<V1Secret>(options.kubeConfig, { version: 'v1', plural: 'secrets', namespace: options.namespace }, {
      name: `secret ${this.#secretName}`, fieldSelector: `metadata.name=${this.#secretName}`, logger: this.#log,
    });
    this.#pools.onEvent(() => this.#refresh());
    this.#secrets.onEvent(() => this.#refresh());
  }

  async start(): Promise<void> {
    this.#pools.start();
    this.#secrets.start();
    const timeout = AbortSignal.timeout(this.#options.startTimeoutMs ?? 30_000);
    const synced = await Promise.all([this.#pools.waitForSync(timeout), this.#secrets.waitForSync(timeout)]);
    if (!synced.every(Boolean)) {
      this.#log.warn('Started without a first list of the BrowserPool; endpoints follow when the API answers', {
        namespace: this.#options.namespace, pool: this.#options.pool,
      });
    }
    this.#refresh();
  }

  current(): BrowserEndpoint[] {
    return this.#endpoints.map((e) => ({ ...e }));
  }

  onChange(listener: (endpoints: BrowserEndpoint[]) => void): () => void {
    return this.#listeners.add(listener);
  }

  async stop(): Promise<void> {
    await Promise.all([this.#pools.stop(), this.#secrets.stop()]);
  }

  #refresh(): void {
    const { namespace, pool } = this.#options;
    const poolObject = this.#pools.get(`${namespace}/${pool}`);
    const token = tokenOf(this.#secrets.get(`${namespace}/${this.#secretName}`), this.#options.tokenKey ?? TOKEN_KEY);
    if (token) {
      secretRedactor.add(token);
      this.#warnedNoToken = false;
    } else if (poolObject && !this.#warnedNoToken && this.#secrets.hasSynced()) {
      this.#warnedNoToken = true;
      this.#log.warn('BrowserPool token Secret not found; offering no browsers until it exists', { namespace, pool, object: this.#secretName });
    }
    const endpoints = endpointsFromPool(poolObject, token);
    const fp = fingerprint(endpoints);
    if (fp === this.#fingerprint) return;
    this.#fingerprint = fp;
    this.#endpoints = endpoints;
    this.#log.info('Updated browser endpoints from BrowserPool status', {
      namespace, pool, ready: endpoints.filter((e) => e.state === 'Ready').length, draining: endpoints.filter((e) => e.state === 'Draining').length,
    });
    this.#listeners.notify(endpoints, (error) => this.#log.warn('Endpoint listener failed', { error: (error as Error).message }));
  }
}
