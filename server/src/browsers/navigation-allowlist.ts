import type { BrowserContext, Route } from 'playwright-core';

/** One request the allowlist aborted. */
export interface BlockedNavigation {
  /** Origin and path (see {@link recordedUrl}). */
  url: string;
  method: string;
  resourceType: string;
}

/** Schemes that never leave the browser and are always allowed. */
const LOCAL_SCHEMES = new Set(['data:', 'blob:', 'about:']);

/**
 * Normalises configured origins (`https://host[:port]`, or `https://*.example.com` for any subdomain) and throws
 * a clear error for anything that is not an http(s) origin.
 */
export function normaliseOrigins(origins: readonly string[]): string[] {
  return origins.map((raw) => {
    const wildcard = /^(https?):\/\/\*\.(.+)$/i.exec(raw.trim());
    if (wildcard) {
      const inner = new URL(`${wildcard[1]!.toLowerCase()}://${wildcard[2]!}`);
      return `${inner.protocol}//*.${inner.host}`;
    }
    let url: URL;
    try {
      url = new URL(raw.trim());
    } catch {
      throw new TypeError(`Allowed origin "${raw}" is not a URL; write it as scheme://host[:port], e.g. https://composer.example.com`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new TypeError(`Allowed origin "${raw}" must use http or https`);
    }
    return url.origin;
  });
}

/**
 * Whether `url` may load under `allowedOrigins` (already normalised). `undefined` allows everything;
 * `data:`, `blob:` and `about:` URLs are always allowed. Pure.
 */
export function isUrlAllowed(url: string, allowedOrigins: readonly string[] | undefined): boolean {
  if (allowedOrigins === undefined) return true;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (LOCAL_SCHEMES.has(parsed.protocol)) return true;
  if (allowedOrigins.includes(parsed.origin)) return true;
  for (const entry of allowedOrigins) {
    const star = entry.indexOf('//*.');
    if (star < 0) continue;
    const scheme = entry.slice(0, star);
    const suffix = entry.slice(star + 3);
    if (parsed.protocol === scheme && parsed.host.endsWith(suffix)) return true;
  }
  return false;
}

/** The per-lease policy a context's route handler consults; set at hand-over, cleared at release. */
export interface AllowlistGuard {
  /** Normalised allowed origins, or undefined for "allow everything". */
  allowedOrigins: readonly string[] | undefined;
  /** Where aborted requests are recorded (the lease's `blocked` array): the first {@link MAX_RECORDED_BLOCKS}. */
  blocked: BlockedNavigation[];
  /** Every request aborted, recorded or not. */
  blockedTotal?: number;
  /** Called for each aborted request (for logging). */
  onBlocked?: (blocked: BlockedNavigation) => void;
}

/**
 * Most blocked requests recorded per context, and longest URL kept of each (origin and path; the query and
 * fragment never). A page can make thousands of requests with URLs of up to 2 MB: kept whole, 400 of them held
 * 40 MB in the server for the lease and 400 entries in its report.
 */
export const MAX_RECORDED_BLOCKS = 50;
export const MAX_RECORDED_URL = 1000;

/** `url` as a blocked request is recorded: origin and path only, at most {@link MAX_RECORDED_URL} characters. */
export function recordedUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.origin !== 'null') return `${parsed.origin}${parsed.pathname}`.slice(0, MAX_RECORDED_URL);
  } catch {
    // Not a URL: kept up to its query, cut below.
  }
  return (url.split(/[?#]/, 1)[0] ?? '').slice(0, MAX_RECORDED_URL);
}

/** Records one aborted request in `guard` (bounded) and tells its listener. */
export function recordBlocked(guard: AllowlistGuard, blocked: BlockedNavigation): void {
  guard.blockedTotal = (guard.blockedTotal ?? 0) + 1;
  if (guard.blocked.length < MAX_RECORDED_BLOCKS) guard.blocked.push(blocked);
  guard.onBlocked?.(blocked);
}

/**
 * Installs the allowlist on `context`: every request is checked against `guard` as it is at request time, so a
 * pre-warmed context can be created before the lease's policy is known. Requests outside the allowlist are
 * aborted ("blockedbyclient") and recorded (bounded: see {@link recordBlocked}).
 */
export async function installNavigationAllowlist(context: BrowserContext, guard: AllowlistGuard): Promise<void> {
  await context.route('**/*', async (route: Route) => {
    const request = route.request();
    const url = request.url();
    if (isUrlAllowed(url, guard.allowedOrigins)) {
      await route.continue().catch(() => undefined);
      return;
    }
    recordBlocked(guard, { url: recordedUrl(url), method: request.method().slice(0, 16), resourceType: request.resourceType() });
    await route.abort('blockedbyclient').catch(() => undefined);
  });
}
