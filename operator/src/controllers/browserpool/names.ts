import { createHash } from 'node:crypto';

/** Field manager of every write the BrowserPool operator makes (server-side apply and patches). */
export const FIELD_MANAGER = 'browserpool-operator';

/** `app.kubernetes.io/name` of every browser pod and of the objects the operator creates for a pool. */
export const APP_NAME = 'composer-mcp-browser';
/** Label key: the application name (`composer-mcp-browser`). */
export const LABEL_NAME = 'app.kubernetes.io/name';
/** Label key: the pool a browser belongs to (as the recommended `instance` label). */
export const LABEL_INSTANCE = 'app.kubernetes.io/instance';
/** Label key: who manages the object (`browserpool-operator`). */
export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
/** Label key: the pool a browser belongs to (the key selectors and the NetworkPolicy use). */
export const LABEL_POOL = 'browser.composer-mcp.io/pool';
/** Annotation: hash of the pod template, so a spec change replaces (rolls) the browsers. */
export const ANNOTATION_SPEC_HASH = 'browser.composer-mcp.io/spec-hash';
/** Annotation: RFC 3339 time a browser was marked Draining; servers stop placing leases there. */
export const ANNOTATION_DRAINING_SINCE = 'browser.composer-mcp.io/draining-since';
/** Annotation: why a browser is draining (MaxAge, Unhealthy, SpecChanged, ScaleDown). */
export const ANNOTATION_DRAIN_REASON = 'browser.composer-mcp.io/drain-reason';
/** Annotation: the slot number the pod name was derived from (for deterministic names). */
export const ANNOTATION_SERIAL = 'browser.composer-mcp.io/serial';

/** Key of the token inside the pool's token Secret. */
export const TOKEN_KEY = 'token';
/** Directory the token Secret is mounted at inside the gateway container. */
export const TOKEN_MOUNT_DIR = '/var/run/composer-mcp/cdp-token';
/** Port chromium's DevTools listens on inside the pod (loopback only). */
export const CHROMIUM_PORT = 9223;
/** Name of the chromium container. */
export const CHROMIUM_CONTAINER = 'chromium';
/** Name of the gateway container. */
export const GATEWAY_CONTAINER = 'gateway';
/** Name of the gateway's container port (the readiness probe refers to it). */
export const GATEWAY_PORT_NAME = 'cdp';

/** Name of the pool's token Secret: `<pool>-cdp-token`. */
export function tokenSecretName(pool: string): string {
  return `${pool}-cdp-token`;
}

/** Name of the pool's NetworkPolicy: `<pool>-cdp`. */
export function networkPolicyName(pool: string): string {
  return `${pool}-cdp`;
}

/** Labels every object of a pool carries; the first three also select its browser pods. */
export function poolLabels(pool: string): Record<string, string> {
  return { [LABEL_NAME]: APP_NAME, [LABEL_INSTANCE]: pool, [LABEL_POOL]: pool, [LABEL_MANAGED_BY]: FIELD_MANAGER };
}

/** Labels that select exactly the browser pods of a pool. */
export function podSelectorLabels(pool: string): Record<string, string> {
  return { [LABEL_NAME]: APP_NAME, [LABEL_POOL]: pool };
}

/** The pool's pod selector in label-selector string form (`status.selector`, for the scale subresource). */
export function selectorString(pool: string): string {
  return Object.entries(podSelectorLabels(pool)).map(([k, v]) => `${k}=${v}`).join(',');
}

/** Lower-case hex SHA-256 of `input`, cut to `length` characters. Stable across processes and versions. */
export function shortHash(input: string, length = 10): string {
  return createHash('sha256').update(input).digest('hex').slice(0, length);
}

/** Deterministic name of the browser pod in slot `serial` of the pool with `poolUid`: `<pool>-<6 hex>`. */
export function podName(pool: string, poolUid: string, serial: number): string {
  return `${pool}-${shortHash(`${poolUid}/${serial}`, 6)}`;
}

/** Canonical JSON (object keys sorted) so hashes do not depend on key order. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .toSorted(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}
