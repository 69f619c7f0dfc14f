import {
  ApiException,
  HttpMethod,
  IsomorphicFetchHttpLibrary,
  RequestContext,
  Watch,
  type KubeConfig,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { KubeStatusError, type KubeStatus } from './kube-errors.ts';

/** Options of one list call. */
export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  /** Page size. */
  limit?: number;
  /** Continue token from the previous page. */
  continueToken?: string;
  /** Aborts the request (the informer passes its stop signal plus a per-request timeout). */
  signal?: AbortSignal;
}

/** One page of a list. */
export interface ListPage<T> {
  items: T[];
  /** The collection's resourceVersion: watch from here to see every later change. */
  resourceVersion: string;
  /** Set when more pages follow. */
  continueToken?: string;
}

/** Options of one watch call. */
export interface WatchOptions {
  resourceVersion: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Ask the server for BOOKMARK events (resourceVersion progress without object changes). */
  allowWatchBookmarks?: boolean;
  /** Server-side watch timeout; the watch ends cleanly after it. */
  timeoutSeconds?: number;
}

/** The kinds of watch events. `ERROR` carries a `Status` (410 when the resourceVersion is too old). */
export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

/** A running watch. */
export interface WatchHandle {
  /** Ends the watch; `onDone` is then called (with no error). */
  stop(): void;
}

/**
 * The two calls an informer makes on a collection. {@link kubeListWatchClient} talks to an API server; tests may
 * pass their own.
 */
export interface ListWatchClient<T> {
  /** Lists one page. Rejects with the server's error (an `ApiException`, `body` the Status JSON string). */
  list(options: ListOptions): Promise<ListPage<T>>;
  /**
   * Starts a watch. `onEvent` gets each event; `onDone` is called exactly once when the watch ends: with no
   * argument for a clean close, else with the error (a watch `ERROR` event is delivered to `onEvent` first).
   */
  watch(
    options: WatchOptions,
    onEvent: (type: WatchEventType, object: unknown) => void,
    onDone: (err?: unknown) => void,
  ): Promise<WatchHandle>;
}

/** Where a collection lives: `/api/v1/namespaces/ns/configmaps`, `/apis/group/version/plural`, ... */
export interface ResourceLocation {
  /** API group; '' or undefined for the core group. */
  group?: string;
  version: string;
  /** Plural resource name, e.g. `pods`, `browserpools`. */
  plural: string;
  /** Namespace to restrict to; undefined for all namespaces (or a cluster-scoped resource). */
  namespace?: string;
}

/** The collection path of a resource, namespaced or cluster-wide. */
export function resourcePath(location: ResourceLocation): string {
  const base = location.group ? `/apis/${location.group}/${location.version}` : `/api/${location.version}`;
  const ns = location.namespace ? `/namespaces/${encodeURIComponent(location.namespace)}` : '';
  return `${base}${ns}/${location.plural}`;
}

interface RawList {
  apiVersion?: string;
  kind?: string;
  metadata?: { resourceVersion?: string; continue?: string };
  items?: KubernetesObject[];
}

/**
 * A {@link ListWatchClient} on a collection path of the API server in `kubeConfig`, using the client library's
 * own authentication, HTTP stack and `Watch`. Objects are the raw JSON the server sends (timestamps are strings);
 * list items get the `apiVersion` and `kind` the server leaves off list items.
 */
export function kubeListWatchClient<T extends KubernetesObject>(kubeConfig: KubeConfig, path: string): ListWatchClient<T> {
  const http = new IsomorphicFetchHttpLibrary();
  const watcher = new Watch(kubeConfig);
  return {
    async list(options) {
      const cluster = kubeConfig.getCurrentCluster();
      if (!cluster) throw new Error('No current cluster in the kubeconfig: set a current-context that names a cluster');
      const url = new URL(cluster.server + path);
      if (options.labelSelector) url.searchParams.set('labelSelector', options.labelSelector);
      if (options.fieldSelector) url.searchParams.set('fieldSelector', options.fieldSelector);
      if (options.limit) url.searchParams.set('limit', String(options.limit));
      if (options.continueToken) url.searchParams.set('continue', options.continueToken);
      const ctx = new RequestContext(url.toString(), HttpMethod.GET);
      ctx.setHeaderParam('Accept', 'application/json');
      if (options.signal) ctx.setSignal(options.signal);
      await kubeConfig.applySecurityAuthentication(ctx);
      const response = await http.send(ctx).toPromise();
      const text = await response.body.text();
      if (response.httpStatusCode < 200 || response.httpStatusCode > 299) {
        throw new ApiException(response.httpStatusCode, `List of ${path} failed`, text, response.headers);
      }
      const body = JSON.parse(text) as RawList;
      const kind = body.kind?.endsWith('List') ? body.kind.slice(0, -4) : undefined;
      const items = (body.items ?? []).map((item) => ({
        ...item,
        apiVersion: item.apiVersion ?? body.apiVersion,
        kind: item.kind ?? kind,
      })) as T[];
      const page: ListPage<T> = { items, resourceVersion: body.metadata?.resourceVersion ?? '' };
      if (body.metadata?.continue) page.continueToken = body.metadata.continue;
      return page;
    },
    async watch(options, onEvent, onDone) {
      const params: Record<string, string | number | boolean | undefined> = {
        resourceVersion: options.resourceVersion,
        allowWatchBookmarks: options.allowWatchBookmarks,
        labelSelector: options.labelSelector || undefined,
        fieldSelector: options.fieldSelector || undefined,
        timeoutSeconds: options.timeoutSeconds,
      };
      let stopped = false;
      const controller = await watcher.watch(
        path,
        params,
        (type, object) => onEvent(type as WatchEventType, object),
        (err) => onDone(stopped ? undefined : (err ?? undefined)),
      );
      return {
        stop() {
          stopped = true;
          controller.abort();
        },
      };
    },
  };
}

/** Turns a watch `ERROR` event's object into an Error carrying the Status code and reason. */
export function watchErrorFromEvent(object: unknown, path = 'watch'): KubeStatusError {
  const status = (typeof object === 'object' && object !== null ? object : { message: String(object) }) as KubeStatus;
  return new KubeStatusError(status, `Watch ${path}`);
}
