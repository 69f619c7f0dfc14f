import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from '#common/logger.ts';
import { LogThrottle } from '../gateway/log-throttle.ts';
import { decideAbsoluteUrl, decideConnect, EGRESS_REFUSAL_HEADER, EGRESS_REFUSAL_VALUE, type AllowedOrigin, type EgressDecision, type EgressKind } from './egress-policy.ts';

/** How an egress proxy is started. */
export interface EgressProxyOptions {
  /** The only origins the browser may reach. */
  allowed: readonly AllowedOrigin[];
  /** Bound on connecting to an allowed origin (default 10 s). */
  connectTimeoutMs?: number;
  /** A tunnel or forwarded request idle this long is closed (default 10 min). */
  idleTimeoutMs?: number;
  /** Connections from the browser at once (default 512). */
  maxConnections?: number;
  /** Called for every refusal (for metrics). */
  onRefused?: (kind: EgressKind, reason: string) => void;
  logger: Logger;
}

/** A running egress proxy on 127.0.0.1. */
export interface EgressProxy {
  /** Its port on 127.0.0.1 (for `--proxy-server`). */
  port: number;
  /** Refusals so far. */
  refusals(): number;
  close(): Promise<void>;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'proxy-authenticate', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

/** Request headers to forward: hop-by-hop ones and those named in Connection dropped, Host from the URL. */
export function forwardHeaders(req: IncomingMessage, host: string): Record<string, string | string[]> {
  const named = new Set(String(req.headers.connection ?? '').toLowerCase().split(',').map((s) => s.trim()).filter(Boolean));
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !HOP_BY_HOP.has(k) && !named.has(k) && k !== 'host') out[k] = v;
  out['host'] = host;
  return out;
}

function refusalBody(decision: Extract<EgressDecision, { allowed: false }>): string {
  return `composer-mcp egress policy: ${decision.reason === 'not-allowed' ? 'this origin is not in the browser pool\'s allowed origins' : 'the request target is not an allowed http origin'}\n`;
}

/**
 * Starts the browser's forward proxy on 127.0.0.1 (a free port). It admits only the allowed origins: absolute-URI
 * HTTP requests (and `Upgrade`s) to allowed `http:` origins, and `CONNECT host:port` to the host and port of an
 * allowed origin. The decision is made on the names the browser sent, before anything is resolved; the proxy
 * never follows a redirect (answers go back to the browser as they are). Refusals are logged by origin and kind
 * only (full URLs carry whatever a page put in them), counted, and marked: HTTP refusals answer 403 with
 * `x-composer-mcp-egress: refused` (431 or 400, also marked, for a request too large or malformed to judge); a
 * refused CONNECT answers 403, which Chromium reports as a tunnel failure.
 */
export async function startEgressProxy(options: EgressProxyOptions): Promise<EgressProxy> {
  const { allowed, logger } = options;
  const connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
  const idleTimeoutMs = options.idleTimeoutMs ?? 600_000;
  const throttle = new LogThrottle(logger);
  const sockets = new Set<Duplex>();
  let refused = 0;

  const refuse = (kind: EgressKind, decision: Extract<EgressDecision, { allowed: false }>): void => {
    refused++;
    options.onRefused?.(kind, decision.reason);
    throttle.warn(`egress:${kind}:${decision.reason}`, 'Refused browser egress', { kind, origin: decision.origin, ...(decision.hostHash ? { hostHash: decision.hostHash } : {}), reason: decision.reason });
  };

  const track = (s: Duplex): void => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  };

  const server: Server = createServer({ maxHeaderSize: 32 * 1024, requestTimeout: 0, headersTimeout: 30_000, keepAliveTimeout: 5000 }, (req: IncomingMessage, res: ServerResponse) => {
    const decision = decideAbsoluteUrl(req.url ?? '', allowed);
    if (!decision.allowed) {
      refuse('http', decision);
      req.resume();
      // CORS headers so the page (and the server's report of refused requests) sees the refusal as an answer rather
      // than a CORS failure; a preflight is let through so the request it announces comes and is refused in turn.
      const cors = { 'access-control-allow-origin': '*', 'access-control-expose-headers': EGRESS_REFUSAL_HEADER };
      if (req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined) {
        const requested = req.headers['access-control-request-headers'];
        res.writeHead(204, { ...cors, 'access-control-allow-methods': String(req.headers['access-control-request-method']).slice(0, 32), ...(typeof requested === 'string' ? { 'access-control-allow-headers': requested.slice(0, 1024) } : {}), [EGRESS_REFUSAL_HEADER]: EGRESS_REFUSAL_VALUE });
        res.end();
        return;
      }
      const body = refusalBody(decision);
      // No cache-control: no-store: Chromium then never finishes a body the page does not read, which keeps a page's
      // network busy for good (a 403 is not cached anyway).
      res.writeHead(403, 'Forbidden by egress policy', { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body), [EGRESS_REFUSAL_HEADER]: EGRESS_REFUSAL_VALUE, ...cors });
      res.end(body);
      return;
    }
    const url = new URL(req.url ?? '');
    const upstream = httpRequest({
      host: decision.host.replace(/^\[|\]$/g, ''), port: decision.port, method: req.method, path: `${url.pathname}${url.search}`,
      headers: forwardHeaders(req, url.host), agent: false, timeout: connectTimeoutMs,
    }, (answer) => {
      upstream.setTimeout(idleTimeoutMs);
      const headers: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(answer.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) headers[k] = v;
      res.writeHead(answer.statusCode ?? 502, answer.statusMessage, headers);
      answer.pipe(res);
      answer.on('error', () => res.destroy());
    });
    upstream.on('timeout', () => upstream.destroy(new Error('timed out')));
    upstream.on('error', (error) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      throttle.warn(`egress:upstream:${decision.origin}`, 'Failed to reach an allowed origin', { origin: decision.origin, error: error.message });
      res.writeHead(502, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`composer-mcp egress proxy: could not reach ${decision.origin}\n`);
    });
    req.pipe(upstream);
    res.on('close', () => upstream.destroy());
  });

  const tunnel = (client: Duplex, head: Buffer, host: string, port: number, origin: string, firstBytes: string | undefined, kind: EgressKind): void => {
    const up: Socket = connect({ host: host.replace(/^\[|\]$/g, ''), port });
    track(up);
    up.setTimeout(connectTimeoutMs, () => up.destroy(new Error('connect timed out')));
    let connected = false;
    up.once('connect', () => {
      connected = true;
      up.setTimeout(idleTimeoutMs, () => {
        up.destroy();
        client.destroy();
      });
      if (firstBytes === undefined) client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      else up.write(firstBytes);
      if (head.length > 0) up.write(head);
      client.pipe(up);
      up.pipe(client);
    });
    up.on('error', (error) => {
      if (!connected) {
        throttle.warn(`egress:${kind}:${origin}`, 'Failed to reach an allowed origin', { origin, kind, error: error.message });
        if (client.writable) client.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      }
      client.destroy();
    });
    up.on('close', () => client.destroy());
    client.on('close', () => up.destroy());
  };

  const refuseRaw = (client: Duplex, kind: EgressKind, decision: Extract<EgressDecision, { allowed: false }>): void => {
    refuse(kind, decision);
    const body = refusalBody(decision);
    client.end(`HTTP/1.1 403 Forbidden by egress policy\r\n${EGRESS_REFUSAL_HEADER}: ${EGRESS_REFUSAL_VALUE}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  };

  server.on('connect', (req: IncomingMessage, client: Duplex, head: Buffer) => {
    track(client);
    client.on('error', () => client.destroy());
    const decision = decideConnect(req.url ?? '', allowed);
    if (!decision.allowed) {
      refuseRaw(client, 'connect', decision);
      return;
    }
    tunnel(client, head, decision.host, decision.port, decision.origin, undefined, 'connect');
  });

  server.on('upgrade', (req: IncomingMessage, client: Duplex, head: Buffer) => {
    track(client);
    client.on('error', () => client.destroy());
    const decision = decideAbsoluteUrl(req.url ?? '', allowed);
    if (!decision.allowed) {
      refuseRaw(client, 'upgrade', decision);
      return;
    }
    const url = new URL(req.url ?? '');
    const lines = [`${req.method ?? 'GET'} ${url.pathname}${url.search} HTTP/1.1`, `Host: ${url.host}`];
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      const name = req.rawHeaders[i] ?? '';
      const lower = name.toLowerCase();
      if (lower === 'host' || lower === 'proxy-connection' || lower === 'proxy-authorization') continue;
      lines.push(`${name}: ${req.rawHeaders[i + 1] ?? ''}`);
    }
    tunnel(client, head, decision.host, decision.port, decision.origin, `${lines.join('\r\n')}\r\n\r\n`, 'upgrade');
  });

  // A request the proxy cannot read (a URL or headers past maxHeaderSize, garbage) is refused like any other: it is
  // answered with the refusal marker (and CORS headers, as above), so the server reports it among the lease's
  // refused requests instead of seeing an unexplained failure — a page can make URLs of megabytes.
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    const oversized = error.code === 'HPE_HEADER_OVERFLOW';
    refused++;
    options.onRefused?.('http', oversized ? 'oversized' : 'malformed');
    throttle.warn(`egress:http:${oversized ? 'oversized' : 'malformed'}`, 'Refused browser egress', { kind: 'http', reason: oversized ? 'oversized' : 'malformed' });
    const status = oversized ? '431 Request Header Fields Too Large' : '400 Bad Request';
    if (socket.writable) socket.end(`HTTP/1.1 ${status}\r\n${EGRESS_REFUSAL_HEADER}: ${EGRESS_REFUSAL_VALUE}\r\nAccess-Control-Allow-Origin: *\r\nAccess-Control-Expose-Headers: ${EGRESS_REFUSAL_HEADER}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    socket.destroy();
  });
  server.on('connection', (socket: Socket) => track(socket));
  server.maxConnections = options.maxConnections ?? 512;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  logger.info('Started egress proxy', { port, allowedOrigins: allowed.map((o) => o.origin) });

  let closing: Promise<void> | undefined;
  return {
    port,
    refusals: () => refused,
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
