/** The fields of DevTools `/json/*` answers that carry the address the client must connect to. */
const URL_FIELDS = ['webSocketDebuggerUrl', 'devtoolsFrontendUrl'] as const;

/** A Host header value we are willing to echo into URLs: host name, IPv4 or [IPv6], optional port. */
export function isSafeAuthority(value: string): boolean {
  return /^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252})|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/.test(value);
}

/**
 * Replaces the upstream authority (`127.0.0.1:<port>`, as Chromium writes it) with the public one in every
 * `ws://` / `wss://` URL of a string, and `ws://` with `wss://` when the client came over TLS.
 */
export function rewriteDevtoolsUrl(value: string, upstreamAuthority: string, publicAuthority: string, secure = false): string {
  const scheme = secure ? 'wss' : 'ws';
  return value
    .split(`ws://${upstreamAuthority}/`).join(`${scheme}://${publicAuthority}/`)
    .split(`ws=${upstreamAuthority}/`).join(`${scheme}=${publicAuthority}/`);
}

function rewriteObject(value: unknown, upstream: string, publicAuthority: string, secure: boolean): unknown {
  if (Array.isArray(value)) return value.map((v) => rewriteObject(v, upstream, publicAuthority, secure));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  for (const field of URL_FIELDS) {
    const v = out[field];
    if (typeof v === 'string') out[field] = rewriteDevtoolsUrl(v, upstream, publicAuthority, secure);
  }
  return out;
}

/**
 * Rewrites a DevTools JSON answer (`/json/version`, `/json/list`, `/json/new`, ...) so that its WebSocket URLs
 * point at the gateway the client used instead of Chromium's loopback port. Bodies that are not JSON come back
 * unchanged.
 */
export function rewriteDevtoolsJson(body: string, upstreamAuthority: string, publicAuthority: string, secure = false): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return body;
  }
  return JSON.stringify(rewriteObject(parsed, upstreamAuthority, publicAuthority, secure), null, 3);
}
