import { createHash } from 'node:crypto';
import { MANAGED_BY } from '#kube/api/v1alpha1/contract.ts';

/** Field manager of every write the BrowserPool operator makes (server-side apply and patches). */
export const FIELD_MANAGER = MANAGED_BY;

/** Directory the token Secret is mounted at inside the browser container. */
export const TOKEN_MOUNT_DIR = '/var/run/composer-mcp/cdp-token';
/** Name of a browser pod's one container (the gateway, with Chromium as its child). */
export const BROWSER_CONTAINER = 'browser';
/** Name of the gateway's container port (the readiness probe refers to it). */
export const GATEWAY_PORT_NAME = 'cdp';

/** Name of the pool's NetworkPolicy: `<pool>-cdp`. */
export function networkPolicyName(pool: string): string {
  return `${pool}-cdp`;
}

/** Name of the pool's egress NetworkPolicy: `<pool>-egress`. */
export function egressPolicyName(pool: string): string {
  return `${pool}-egress`;
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
