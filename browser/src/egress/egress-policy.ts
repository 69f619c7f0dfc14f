import { createHash } from 'node:crypto';

/**
 * The browser's egress allowlist: exact origins (`scheme://host[:port]`). Decisions are made on the names the
 * browser sent, before anything is resolved, so a refused name never reaches DNS. No wildcards: a `*.example.com`
 * entry would let a page put data in the labels of names the proxy then resolves. Pure.
 */

/** Response header on every HTTP refusal of the proxy, so the server side can tell a refusal from a site's 403. */
export const EGRESS_REFUSAL_HEADER = 'x-composer-mcp-egress';
/** Value of {@link EGRESS_REFUSAL_HEADER}. */
export const EGRESS_REFUSAL_VALUE = 'refused';

/** One allowed origin, split for matching. */
export interface AllowedOrigin {
  /** `http:` or `https:`. */
  scheme: 'http:' | 'https:';
  /** Lower-case host name, IPv4, or bracketed IPv6 (as the WHATWG URL parser writes it). */
  host: string;
  /** The port, the scheme's default when the origin has none. */
  port: number;
  /** The origin as written back (`https://host[:port]`). */
  origin: string;
}

/**
 * A refused host as it may be written to logs and reports: a page chooses refused names, so their labels can carry
 * data (`<secret>.attacker.example`). Names keep their last two labels (`*.attacker.example`: the part an attacker
 * registered before knowing any secret), IPv4 addresses stay whole, IPv6 addresses (16 bytes a page chooses) are
 * not shown; `hash` (8 hex digits of SHA-256 of the host) tells repeated hosts apart. Pure.
 */
export function describeHost(host: string): { host: string; hash: string } {
  const hash = createHash('sha256').update(host).digest('hex').slice(0, 8);
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(host)) return { host, hash };
  if (host.startsWith('[')) return { host: '[ipv6]', hash };
  const labels = host.split('.').filter((l) => l.length > 0);
  return { host: labels.length <= 2 ? labels.join('.').slice(0, 100) : `*.${labels.slice(-2).join('.').slice(0, 100)}`, hash };
}

/** A refused `scheme://host:port` with the host described by {@link describeHost}. */
export function describeOrigin(scheme: string, host: string, port: number): string {
  return `${scheme}//${describeHost(host).host}:${port}`;
}

/** The kind of request the proxy judged. */
export type EgressKind = 'http' | 'connect' | 'upgrade';

/** What the proxy decided about one request; a refusal's `origin` is safe to log (see describeHost). */
export type EgressDecision =
  | { allowed: true; host: string; port: number; origin: string }
  | { allowed: false; reason: 'not-allowed' | 'malformed' | 'scheme'; origin: string; hostHash?: string };

const DEFAULT_PORT: Record<AllowedOrigin['scheme'], number> = { 'http:': 80, 'https:': 443 };

/**
 * Parses the configured origins. Throws a TypeError naming the bad entry when one is not a bare http(s) origin
 * (no path, query, fragment, credentials or wildcard).
 */
export function parseAllowedOrigins(entries: readonly string[]): AllowedOrigin[] {
  const out: AllowedOrigin[] = [];
  for (const raw of entries) {
    const text = raw.trim();
    if (text === '') continue;
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw new TypeError(`Allowed origin "${raw}" is not a URL; write it as https://host[:port]`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError(`Allowed origin "${raw}" must use http or https`);
    if (url.hostname.includes('*')) throw new TypeError(`Allowed origin "${raw}" has a wildcard; list each origin exactly (a wildcard would let pages choose the names the proxy resolves)`);
    if (url.username !== '' || url.password !== '') throw new TypeError(`Allowed origin "${raw}" must not carry credentials`);
    if ((url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.hash !== '' || /\/./.test(text.replace(/^[a-z]+:\/\//i, ''))) {
      throw new TypeError(`Allowed origin "${raw}" must be an origin only (scheme://host[:port]), without a path, query or fragment`);
    }
    const scheme = url.protocol;
    const port = url.port === '' ? DEFAULT_PORT[scheme] : Number(url.port);
    out.push({ scheme, host: url.hostname, port, origin: url.origin });
  }
  return out;
}

/** Splits `host:port` (CONNECT's request target; IPv6 in brackets) into a normalised host and port. */
export function parseAuthority(authority: string): { host: string; port: number } | undefined {
  if (authority.length > 300 || /[\s/?#@\\]/.test(authority)) return undefined;
  const match = /^(\[[0-9A-Fa-f:.]+\]|[^:[\]]+):(\d{1,5})$/.exec(authority);
  if (!match) return undefined;
  const port = Number(match[2]);
  if (port < 1 || port > 65535) return undefined;
  let url: URL;
  try {
    url = new URL(`http://${match[1]!}`);
  } catch {
    return undefined;
  }
  return { host: url.hostname, port };
}

/**
 * Decides a `CONNECT host:port`: allowed when an allowed origin of either scheme has that host and port (the
 * browser tunnels TLS and WebSockets alike through CONNECT, so the scheme is not visible here).
 */
export function decideConnect(authority: string, allowed: readonly AllowedOrigin[]): EgressDecision {
  const parsed = parseAuthority(authority);
  if (parsed === undefined) return { allowed: false, reason: 'malformed', origin: '(malformed)' };
  const match = allowed.find((o) => o.host === parsed.host && o.port === parsed.port);
  if (match === undefined) return { allowed: false, reason: 'not-allowed', origin: `${describeHost(parsed.host).host}:${parsed.port}`, hostHash: describeHost(parsed.host).hash };
  return { allowed: true, host: parsed.host, port: parsed.port, origin: match.origin };
}

/**
 * Decides a plain HTTP proxy request (absolute-URI request target, also for `Upgrade`): allowed only when the
 * URL's origin is an allowed `http:` origin. `https:` never comes as an absolute URI from a browser (it tunnels).
 */
export function decideAbsoluteUrl(target: string, allowed: readonly AllowedOrigin[]): EgressDecision {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    return { allowed: false, reason: 'malformed', origin: '(malformed)' };
  }
  if (!/^[a-z]+:\/\//i.test(target)) return { allowed: false, reason: 'malformed', origin: '(malformed)' };
  if (url.protocol !== 'http:') return { allowed: false, reason: 'scheme', origin: `${url.protocol}//` };
  const port = url.port === '' ? 80 : Number(url.port);
  const match = allowed.find((o) => o.scheme === 'http:' && o.host === url.hostname && o.port === port);
  if (match === undefined) return { allowed: false, reason: 'not-allowed', origin: describeOrigin(url.protocol, url.hostname, port), hostHash: describeHost(url.hostname).hash };
  return { allowed: true, host: url.hostname, port, origin: match.origin };
}
