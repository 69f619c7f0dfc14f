/**
 * What a browser gateway's `GET /status` reports about its load (the contract between the gateway, the operator
 * and the router). A gateway from before leased and warm contexts were told apart reports only `pages`; then
 * `leased` falls back to `pages`.
 */
export interface GatewayLoad {
  /** Sessions leased to callers now (browser contexts handed out). */
  leased: number;
  /** Pre-warmed contexts waiting for a lease. */
  warm?: number;
  /** Open pages, leased or warm. */
  pages?: number;
  /** Browser contexts open, leased or warm. */
  contexts?: number;
  /** Leases this browser has served since it started (recycling by `maxLeases`). */
  leasesServed?: number;
  /** Resident memory of the browser's processes in bytes (recycling by `maxMemory`). */
  rssBytes?: number;
}

function count(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}

/** Reads a `/status` body (hostile: any JSON); undefined when it names no load at all. Pure. */
export function parseGatewayLoad(body: unknown): GatewayLoad | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const b = body as Record<string, unknown>;
  const pages = count(b['pages']);
  const leased = count(b['leased']) ?? pages;
  if (leased === undefined) return undefined;
  const load: GatewayLoad = { leased };
  for (const key of ['warm', 'pages', 'contexts', 'leasesServed', 'rssBytes'] as const) {
    const value = count(b[key]);
    if (value !== undefined) load[key] = value;
  }
  return load;
}
