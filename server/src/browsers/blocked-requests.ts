import type { BrowserContext, Request, Response } from 'playwright-core';
import { describeHost, EGRESS_REFUSAL_HEADER, EGRESS_REFUSAL_VALUE } from '#browser/egress/egress-policy.ts';

/**
 * One request the browser pool's egress proxy refused. A page chooses these URLs, so they are reported with the
 * origin (host labels a page could fill reduced as in describeHost), the path truncated and no query or fragment.
 */
export interface BlockedNavigation {
  /** `origin` + `path`: what a tool shows. */
  url: string;
  origin: string;
  /** Path only, at most {@link MAX_PATH_CHARS} characters. */
  path: string;
  /** The request's method, at most {@link MAX_METHOD_CHARS} characters (a page may send any token). */
  method: string;
  /** Playwright's resource type (document, script, fetch, xhr, websocket, ...). */
  resourceType: string;
}

/** Longest path reported. */
export const MAX_PATH_CHARS = 64;
/** Longest method reported. */
export const MAX_METHOD_CHARS = 16;

/**
 * Most refused requests recorded per lease. A page in a loop can make thousands (400 with 100 KB URLs held 40 MB in
 * the server and 400 report entries before); the rest are only counted ({@link BlockedRequestSink.blockedTotal}).
 */
export const MAX_RECORDED_BLOCKS = 50;

/** Chromium's error for a CONNECT the proxy refused (TLS and WebSockets go through CONNECT). */
const TUNNEL_FAILURE = /ERR_TUNNEL_CONNECTION_FAILED/;

/** Normalises configured origins (`https://host[:port]`); throws a clear error for anything else. Pure. */
export function normaliseOrigins(origins: readonly string[]): string[] {
  return origins.map((raw) => {
    let url: URL;
    try {
      url = new URL(raw.trim());
    } catch {
      throw new TypeError(`Allowed origin "${raw}" is not a URL; write it as scheme://host[:port], e.g. https://composer.example.com`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError(`Allowed origin "${raw}" must use http or https`);
    return url.origin;
  });
}

/** The report of a refused request: origin (host reduced), truncated path, method, resource type. Undefined for a non-URL. Pure. */
export function describeBlocked(rawUrl: string, method: string, resourceType: string): BlockedNavigation | undefined {
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    return undefined;
  }
  const origin = `${url.protocol}//${describeHost(url.hostname).host}${url.port === '' ? '' : `:${url.port}`}`;
  const path = url.pathname.length > MAX_PATH_CHARS ? `${url.pathname.slice(0, MAX_PATH_CHARS - 1)}…` : url.pathname;
  return { url: `${origin}${path}`, origin, path, method: method.slice(0, MAX_METHOD_CHARS), resourceType };
}

/**
 * Whether a failed request was refused by the egress proxy: a CONNECT refusal shows in Chromium as a tunnel failure;
 * a tunnel to an allowed origin that failed upstream is not a refusal. Pure.
 */
export function isEgressRefusal(errorText: string | undefined, url: string, allowedOrigins: readonly string[] | undefined): boolean {
  if (errorText === undefined || !TUNNEL_FAILURE.test(errorText)) return false;
  try {
    return !(allowedOrigins ?? []).includes(new URL(url).origin);
  } catch {
    return true;
  }
}

/** Where a context's refused requests go; the lease fills it in at hand-over (a warm context has no lease yet). */
export interface BlockedRequestSink {
  /** Origins the pool admits (to tell a refusal from an upstream failure of an allowed origin). */
  allowedOrigins: readonly string[] | undefined;
  /** The lease's `blocked` list: the first {@link MAX_RECORDED_BLOCKS} refused requests. */
  blocked: BlockedNavigation[];
  /** Every refused request, recorded or not. */
  blockedTotal: number;
  /** Called for each refused request, recorded or not (for logging, which bounds itself: blocked-request-log.ts). */
  onBlocked?: (blocked: BlockedNavigation) => void;
}

/** Records one refused request in `sink` (at most {@link MAX_RECORDED_BLOCKS} kept, every one counted) and tells its listener. */
export function recordBlocked(sink: BlockedRequestSink, blocked: BlockedNavigation): void {
  sink.blockedTotal += 1;
  if (sink.blocked.length < MAX_RECORDED_BLOCKS) sink.blocked.push(blocked);
  sink.onBlocked?.(blocked);
}

/**
 * Watches a context for requests the gateway's egress proxy refused: HTTP refusals carry the proxy's
 * `x-composer-mcp-egress: refused` header, CONNECT refusals fail as tunnel failures. Listening costs no round trip
 * per request (the allowlist is enforced below the page, by the proxy); what is reported is the page's own
 * requests and its dedicated workers' (service-worker traffic is enforced but not reported).
 */
export function watchBlockedRequests(context: BrowserContext, sink: BlockedRequestSink): void {
  const record = (request: Request): void => {
    const blocked = describeBlocked(request.url(), request.method(), request.resourceType());
    if (blocked !== undefined) recordBlocked(sink, blocked);
  };
  context.on('requestfailed', (request: Request) => {
    if (isEgressRefusal(request.failure()?.errorText, request.url(), sink.allowedOrigins)) record(request);
  });
  context.on('response', (response: Response) => {
    // 403 for an origin the pool does not admit; 431 or 400 for a request too large or malformed to judge.
    if (response.status() >= 400 && response.headers()[EGRESS_REFUSAL_HEADER] === EGRESS_REFUSAL_VALUE) record(response.request());
  });
}
