import { createServer, request as httpRequest, type IncomingMessage, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import { connect, isIPv6, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { createLogger, type Logger } from '#common/logger.ts';
import { checkBearer, type AuthFailure } from './bearer-auth.ts';
import { checkCdpHealth, type HealthResult } from './cdp-health.ts';
import { GatewayMetrics } from './gateway-metrics.ts';
import { isSafeAuthority, rewriteDevtoolsJson } from './rewrite-urls.ts';
import { watchTokenFile } from './token-file.ts';
import { LogThrottle } from './log-throttle.ts';

/** How a gateway is started. */
export interface GatewayOptions {
  /** Address to listen on (the pod IP in a cluster, 127.0.0.1 locally). */
  listenHost: string;
  /** Port to listen on; 0 picks a free one. */
  listenPort: number;
  /** Where Chromium's DevTools listens; default 127.0.0.1. */
  upstreamHost?: string;
  /** Chromium's DevTools port. */
  upstreamPort: number;
  /** File holding the bearer token (one per line); re-read when it changes. */
  tokenFile: string;
  /** Bound on the `/healthz` CDP round trip; default 2000 ms. */
  healthTimeoutMs?: number;
  /** Bound on a proxied `/json/*` request and on connecting to Chromium; default 10000 ms. */
  upstreamTimeoutMs?: number;
  /** Fallback period of the token file re-read; default 2000 ms. */
  tokenPollIntervalMs?: number;
  /** Largest request body accepted on `/json/*`; default 64 KiB. */
  maxRequestBytes?: number;
  /** Largest Chromium answer buffered for rewriting; default 16 MiB. */
  maxResponseBytes?: number;
  logger?: Logger;
}

/** A running gateway. */
export interface Gateway {
  /** `http://<host>:<port>` clients use (0.0.0.0 is shown as 127.0.0.1). */
  url: string;
  /** The port it listens on. */
  port: number;
  /** Its metrics (also served on `/metrics`). */
  metrics: GatewayMetrics;
  /** Stops listening, closes every proxied connection and the token watch. */
  close(): Promise<void>;
}

/** The routes the gateway knows, used for dispatch and as the `route` metric label. */
export type GatewayRoute = 'healthz' | 'metrics' | 'status' | 'json' | 'devtools' | 'not_found';

/** Which route a request path belongs to. */
export function routeOf(pathname: string): GatewayRoute {
  if (pathname === '/healthz') return 'healthz';
  if (pathname === '/metrics') return 'metrics';
  if (pathname === '/status') return 'status';
  if (pathname === '/json' || pathname.startsWith('/json/')) return 'json';
  if (pathname.startsWith('/devtools/')) return 'devtools';
  return 'not_found';
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host', 'authorization']);

/** Request headers to send to Chromium: hop-by-hop and credentials dropped, Host set to Chromium's own address. */
export function upstreamHeaders(headers: IncomingHttpHeaders, upstreamAuthority: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
  out['host'] = upstreamAuthority;
  return out;
}

function authority(host: string, port: number): string {
  return `${isIPv6(host) ? `[${host}]` : host}:${port}`;
}

function pathnameOf(url: string | undefined): string {
  try {
    return new URL(url ?? '/', 'http://gateway.invalid').pathname;
  } catch {
    return '/';
  }
}

const AUTH_MESSAGES: Record<AuthFailure, string> = {
  'missing': 'Send Authorization: Bearer <token> (the pool\'s CDP token).',
  'malformed': 'The Authorization header must be "Bearer <token>".',
  'invalid': 'The bearer token is not valid for this browser.',
  'no-token-configured': 'The gateway has no token configured.',
};

function authenticateHeader(failure: AuthFailure): string {
  return failure === 'invalid' || failure === 'malformed' ? 'Bearer realm="cdp", error="invalid_token"' : 'Bearer realm="cdp"';
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store', ...headers });
  res.end(text);
}

class TooLargeError extends Error {}

function readBody(stream: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    stream.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new TooLargeError(`body larger than ${limit} bytes`));
        stream.destroy();
        return;
      }
      chunks.push(chunk);
    });
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
    stream.on('aborted', () => reject(new Error('aborted')));
  });
}

interface UpstreamAnswer {
  status: number;
  contentType: string | undefined;
  body: Buffer;
}

/**
 * Starts the CDP gateway: the only way into a Chromium that listens on loopback. `/json/*` and the DevTools
 * WebSocket are proxied with Host rewritten and the WebSocket URLs in answers pointed at the gateway address the
 * client used; they, and `/status`, need the bearer token from `tokenFile`. `/healthz` (a real `Browser.getVersion`
 * round trip) and `/metrics` need none. Resolves once listening; rejects with a clear error when the token file is
 * unusable or the address cannot be bound.
 */
export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const logger = options.logger ?? createLogger({ component: 'gateway' });
  const upstreamHost = options.upstreamHost ?? '127.0.0.1';
  const upstreamPort = options.upstreamPort;
  const upstreamAuthority = authority(upstreamHost, upstreamPort);
  const healthTimeoutMs = options.healthTimeoutMs ?? 2000;
  const upstreamTimeoutMs = options.upstreamTimeoutMs ?? 10_000;
  const maxRequestBytes = options.maxRequestBytes ?? 64 * 1024;
  const maxResponseBytes = options.maxResponseBytes ?? 16 * 1024 * 1024;
  const metrics = new GatewayMetrics();
  const startedAt = Date.now();

  const tokens = await watchTokenFile(options.tokenFile, {
    logger,
    pollIntervalMs: options.tokenPollIntervalMs,
    onChange: () => metrics.inc('cdp_gateway_token_reloads_total'),
  });

  const throttle = new LogThrottle(logger);
  let healthInflight: Promise<HealthResult> | undefined;
  let lastHealthOk: boolean | undefined;
  const health = (): Promise<HealthResult> => {
    healthInflight ??= checkCdpHealth({ host: upstreamHost, port: upstreamPort }, healthTimeoutMs).then((result) => {
      healthInflight = undefined;
      metrics.set('cdp_gateway_health_up', {}, result.ok ? 1 : 0);
      metrics.set('cdp_gateway_health_check_seconds', {}, result.durationMs / 1000);
      if (lastHealthOk !== result.ok) {
        if (result.ok) logger.info('Passed browser health check', { upstream: upstreamAuthority, product: result.product });
        else logger.warn('Failed browser health check', { upstream: upstreamAuthority, reason: result.reason });
      }
      lastHealthOk = result.ok;
      return result;
    });
    return healthInflight;
  };

  const upstream = (method: string, path: string, headers: Record<string, string | string[]>, body: Buffer | undefined): Promise<UpstreamAnswer> =>
    new Promise((resolve, reject) => {
      const req = httpRequest({ host: upstreamHost, port: upstreamPort, method, path, headers, timeout: upstreamTimeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxResponseBytes) {
            req.destroy(new TooLargeError(`Chromium's answer exceeded ${maxResponseBytes} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 502, contentType: res.headers['content-type'], body: Buffer.concat(chunks) }));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${upstreamTimeoutMs} ms`)));
      req.on('error', reject);
      req.end(body);
    });

  const publicAuthority = (req: IncomingMessage, port: number): string => {
    const host = req.headers.host;
    return typeof host === 'string' && isSafeAuthority(host) ? host : authority(displayHost(options.listenHost), port);
  };

  const authorize = (req: IncomingMessage, kind: 'http' | 'websocket'): AuthFailure | undefined => {
    const failure = checkBearer(req.headers.authorization, tokens.tokens());
    if (failure) {
      metrics.inc('cdp_gateway_auth_failures_total', { kind, reason: failure });
      throttle.warn(`auth:${kind}:${failure}`, 'Refused request without a valid bearer token', { kind, reason: failure, path: pathnameOf(req.url), remote: req.socket.remoteAddress });
    }
    return failure;
  };

  const handleJson = async (req: IncomingMessage, res: ServerResponse, port: number): Promise<void> => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > maxRequestBytes) {
      sendJson(res, 413, { error: 'payload_too_large', message: `Request bodies are limited to ${maxRequestBytes} bytes.` });
      req.resume();
      return;
    }
    const body = await readBody(req, maxRequestBytes);
    const headers = upstreamHeaders(req.headers, upstreamAuthority);
    if (body.length > 0) headers['content-length'] = String(body.length);
    let answer: UpstreamAnswer;
    try {
      answer = await upstream(req.method ?? 'GET', req.url ?? '/', headers, body.length > 0 ? body : undefined);
    } catch (error) {
      metrics.inc('cdp_gateway_upstream_errors_total', { operation: 'json' });
      throttle.warn('upstream:json', 'Failed to proxy DevTools request', { path: pathnameOf(req.url), upstream: upstreamAuthority, error: (error as Error).message });
      sendJson(res, 502, { error: 'bad_gateway', message: `Chromium at ${upstreamAuthority} did not answer: ${(error as Error).message}` });
      return;
    }
    const secure = req.headers['x-forwarded-proto'] === 'https';
    const isJson = (answer.contentType ?? '').includes('json');
    const text = isJson ? rewriteDevtoolsJson(answer.body.toString('utf8'), upstreamAuthority, publicAuthority(req, port), secure) : undefined;
    const out = text === undefined ? answer.body : Buffer.from(text, 'utf8');
    res.writeHead(answer.status, { 'content-type': answer.contentType ?? 'application/octet-stream', 'content-length': out.length, 'cache-control': 'no-store' });
    res.end(out);
  };

  const handleStatus = async (res: ServerResponse): Promise<void> => {
    const headers = { host: upstreamAuthority };
    try {
      const [version, list] = await Promise.all([upstream('GET', '/json/version', headers, undefined), upstream('GET', '/json/list', headers, undefined)]);
      if (version.status !== 200 || list.status !== 200) throw new Error(`Chromium answered ${version.status}/${list.status}`);
      const v = JSON.parse(version.body.toString('utf8')) as { Browser?: string };
      const targets = (JSON.parse(list.body.toString('utf8')) as Array<{ id: string; type: string; url: string }>).map((t) => ({ id: t.id, type: t.type, url: t.url }));
      sendJson(res, 200, {
        browserVersion: v.Browser ?? 'unknown',
        uptimeSeconds: Math.floor((Date.now() - startedAt) / 1000),
        pages: targets.filter((t) => t.type === 'page').length,
        targets,
      });
    } catch (error) {
      metrics.inc('cdp_gateway_upstream_errors_total', { operation: 'status' });
      sendJson(res, 502, { error: 'bad_gateway', message: `Could not read targets from Chromium at ${upstreamAuthority}: ${(error as Error).message}` });
    }
  };

  const server = createServer({ maxHeaderSize: 16 * 1024, requestTimeout: 30_000, headersTimeout: 10_000 }, (req, res) => {
    const route = routeOf(pathnameOf(req.url));
    res.on('finish', () => metrics.inc('cdp_gateway_http_requests_total', { route, status: String(res.statusCode) }));
    const port = listeningPort();
    const run = async (): Promise<void> => {
      switch (route) {
        case 'healthz': {
          const result = await health();
          if (result.ok) sendJson(res, 200, { status: 'ok', browser: result.product, durationMs: result.durationMs });
          else sendJson(res, 503, { status: 'unavailable', reason: result.reason, durationMs: result.durationMs });
          return;
        }
        case 'metrics': {
          const text = metrics.render();
          res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8', 'content-length': Buffer.byteLength(text) });
          res.end(text);
          return;
        }
        case 'status':
        case 'json': {
          const failure = authorize(req, 'http');
          if (failure) {
            sendJson(res, 401, { error: 'unauthorized', message: AUTH_MESSAGES[failure] }, { 'www-authenticate': authenticateHeader(failure) });
            req.resume();
            return;
          }
          if (route === 'status') await handleStatus(res);
          else await handleJson(req, res, port);
          return;
        }
        default:
          sendJson(res, 404, { error: 'not_found', message: 'Routes: /json/*, /devtools/* (WebSocket), /status, /healthz, /metrics.' });
      }
    };
    run().catch((error: unknown) => {
      const tooLarge = error instanceof TooLargeError;
      if (!tooLarge) logger.error('Failed to handle gateway request', { route, error: (error as Error).message });
      if (!res.headersSent) sendJson(res, tooLarge ? 413 : 500, { error: tooLarge ? 'payload_too_large' : 'internal', message: (error as Error).message });
      else res.destroy();
    });
  });

  const tunnels = new Set<Duplex>();
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const refuse = (status: number, reason: string, extra: string[] = [], body = ''): void => {
      metrics.inc('cdp_gateway_http_requests_total', { route: 'devtools', status: String(status) });
      socket.end([`HTTP/1.1 ${status} ${reason}`, 'Connection: close', 'Content-Type: application/json', `Content-Length: ${Buffer.byteLength(body)}`, ...extra, '', body].join('\r\n'));
      setTimeout(() => socket.destroy(), 1000).unref();
    };
    if (routeOf(pathnameOf(req.url)) !== 'devtools') {
      refuse(404, 'Not Found', [], JSON.stringify({ error: 'not_found', message: 'WebSocket upgrades are served on /devtools/* only.' }));
      return;
    }
    const failure = authorize(req, 'websocket');
    if (failure) {
      refuse(401, 'Unauthorized', [`WWW-Authenticate: ${authenticateHeader(failure)}`], JSON.stringify({ error: 'unauthorized', message: AUTH_MESSAGES[failure] }));
      return;
    }
    const up: Socket = connect({ host: upstreamHost, port: upstreamPort });
    up.setTimeout(upstreamTimeoutMs, () => up.destroy(new Error(`could not connect within ${upstreamTimeoutMs} ms`)));
    let connected = false;
    up.on('error', (error) => {
      if (!connected) {
        metrics.inc('cdp_gateway_upstream_errors_total', { operation: 'websocket' });
        throttle.warn('upstream:websocket', 'Failed to connect CDP WebSocket to Chromium', { upstream: upstreamAuthority, error: error.message });
        refuse(502, 'Bad Gateway', [], JSON.stringify({ error: 'bad_gateway', message: `Chromium at ${upstreamAuthority} is not reachable: ${error.message}` }));
      } else {
        socket.destroy(); // a reset mid-stream: both legs close, `finish` below accounts for it
      }
    });
    up.once('connect', () => {
      connected = true;
      up.setTimeout(0);
      up.setNoDelay(true);
      up.setKeepAlive(true, 30_000);
      (socket as Socket).setNoDelay?.(true);
      (socket as Socket).setKeepAlive?.(true, 30_000);
      const lines = [`${req.method ?? 'GET'} ${req.url ?? '/'} HTTP/1.1`, `Host: ${upstreamAuthority}`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) {
        const name = req.rawHeaders[i] ?? '';
        const lower = name.toLowerCase();
        if (lower === 'host' || lower === 'authorization' || lower === 'proxy-authorization') continue;
        lines.push(`${name}: ${req.rawHeaders[i + 1] ?? ''}`);
      }
      up.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (head.length > 0) up.write(head);
      tunnels.add(socket);
      tunnels.add(up);
      metrics.inc('cdp_gateway_websocket_connections_total');
      metrics.inc('cdp_gateway_websockets_open');
      logger.debug('Opened CDP WebSocket', { path: pathnameOf(req.url), remote: req.socket.remoteAddress });
      let open = true;
      const finish = (): void => {
        if (!open) return;
        open = false;
        tunnels.delete(socket);
        tunnels.delete(up);
        metrics.inc('cdp_gateway_websockets_open', {}, -1);
        socket.destroy();
        up.destroy();
        logger.debug('Closed CDP WebSocket', { path: pathnameOf(req.url) });
      };
      socket.on('close', finish);
      up.on('close', finish);
      socket.pipe(up);
      up.pipe(socket);
    });
  });
  server.on('clientError', (_error, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    socket.destroy();
  });

  const listeningPort = (): number => {
    const address = server.address();
    return typeof address === 'object' && address !== null ? address.port : options.listenPort;
  };

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.listenPort, options.listenHost, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    tokens.close();
    throw new Error(`Could not listen on ${authority(options.listenHost, options.listenPort)}: ${(error as Error).message}; choose another GATEWAY_LISTEN_HOST/GATEWAY_PORT`, { cause: error });
  }
  const port = listeningPort();
  const url = `http://${authority(displayHost(options.listenHost), port)}`;
  logger.info('Started CDP gateway', { url, upstream: upstreamAuthority });

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    metrics,
    close: () => {
      closing ??= (async () => {
        tokens.close();
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const s of tunnels) s.destroy();
        server.closeAllConnections();
        await closed;
        logger.info('Stopped CDP gateway', { url });
      })();
      return closing;
    },
  };
}

function displayHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '::1';
  return host;
}
