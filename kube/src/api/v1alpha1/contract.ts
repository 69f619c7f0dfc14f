// The names the operator, the server and the chart agree on: labels and annotations on a pool's objects, the
// token Secret and how its token is read. One place, imported by both processes, so they cannot drift apart.
import type { V1Secret } from '@kubernetes/client-node';

/** Who manages a pool's objects: the `app.kubernetes.io/managed-by` value (and the operator's field manager). */
export const MANAGED_BY = 'browserpool-operator';

/** `app.kubernetes.io/name` of every browser pod and of the objects the operator creates for a pool. */
export const APP_NAME = 'composer-mcp-browser';
/** `app.kubernetes.io/name` of the composer-mcp server pods (the chart sets it; a pool admits them by default). */
export const SERVER_APP_NAME = 'composer-mcp-server';
/** Label key: the application name (`composer-mcp-browser`). */
export const LABEL_NAME = 'app.kubernetes.io/name';
/** Label key: the pool a browser belongs to (as the recommended `instance` label). */
export const LABEL_INSTANCE = 'app.kubernetes.io/instance';
/** Label key: who manages the object (`browserpool-operator`). */
export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
/** Label key: the pool a browser belongs to (the key selectors and the NetworkPolicy use). */
export const LABEL_POOL = 'browser.composer-mcp.io/pool';

/** Annotation: hash of the pod template, so a spec change (and only that) replaces the browsers. */
export const ANNOTATION_SPEC_HASH = 'browser.composer-mcp.io/spec-hash';
/** Annotation: RFC 3339 time a browser was marked Draining; servers stop placing leases there. */
export const ANNOTATION_DRAINING_SINCE = 'browser.composer-mcp.io/draining-since';
/** Annotation: why a browser is draining (MaxAge, Unhealthy, SpecChanged, ScaleDown). */
export const ANNOTATION_DRAIN_REASON = 'browser.composer-mcp.io/drain-reason';
/** Annotation: the slot number the pod name was derived from (for deterministic names). */
export const ANNOTATION_SERIAL = 'browser.composer-mcp.io/serial';

/** Key of the token inside the pool's token Secret. */
export const TOKEN_KEY = 'token';

/** Name of the pool's token Secret: `<pool>-cdp-token`. */
export function tokenSecretName(pool: string): string {
  return `${pool}-cdp-token`;
}

/** The token stored in a Secret under `key` (from `data` or `stringData`), or undefined when it has none. */
export function tokenOf(secret: V1Secret | undefined, key: string = TOKEN_KEY): string | undefined {
  const b64 = secret?.data?.[key];
  if (b64) {
    const token = Buffer.from(b64, 'base64').toString('utf8').trim();
    if (token) return token;
  }
  const plain = secret?.stringData?.[key]?.trim();
  return plain || undefined;
}

/** Labels every object of a pool carries; the first three also select its browser pods. */
export function poolLabels(pool: string): Record<string, string> {
  return { [LABEL_NAME]: APP_NAME, [LABEL_INSTANCE]: pool, [LABEL_POOL]: pool, [LABEL_MANAGED_BY]: MANAGED_BY };
}

/** Labels that select exactly the browser pods of a pool. */
export function podSelectorLabels(pool: string): Record<string, string> {
  return { [LABEL_NAME]: APP_NAME, [LABEL_POOL]: pool };
}

/** The pool's pod selector in label-selector string form (`status.selector`, for the scale subresource). */
export function selectorString(pool: string): string {
  return Object.entries(podSelectorLabels(pool)).map(([k, v]) => `${k}=${v}`).join(',');
}

/** Name of the server pods' HTTP container port (MCP, /healthz, /readyz and /metrics). */
export const SERVER_PORT_NAME = 'http';
/** Path of the servers' Prometheus metrics. */
export const SERVER_METRICS_PATH = '/metrics';
/** The servers' gauge of callers waiting for a browser: the demand not yet served (autoscaling reads it). */
export const SERVER_QUEUE_METRIC = 'composer_mcp_router_queue_depth';
