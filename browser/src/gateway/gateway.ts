import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { isIPv6 } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { createLogger, type Logger } from '#common/logger.ts';
import type { BrowserHost, HealthResult } from '../browser-host.ts';
import { checkBearer, type AuthFailure } from './bearer-auth.ts';
import type { GatewayMetrics } from './gateway-metrics.ts';
import { isSafeAuthority } from './public-authority.ts';
import { watchTokenFile } from './token-file.ts';
import { LogThrottle } from './log-throttle.ts';
import { ClientHeartbeat } from './client-heartbeat.ts';
import { DEFAULT_LIVENESS } from './client-liveness.ts';

/** How a gateway is started. */
export interface GatewayOptions {
  /** Address to listen on (the pod IP in a cluster, 127.0.0.1 locally). */
  listenHost: string;
  /** Port to listen on; 0 picks a free one. */
  listenPort: number;
  /** The browser it serves (Chromium on a DevTools pipe behind the multiplexer). */
  browser: BrowserHost;
  /** File holding the bearer token (one per line); re-read when it changes. */
  tokenFile: string;
  /** Bound on the `/healthz` CDP round trip; default 2000 ms. */
  healthTimeoutMs?: number;
  /** Fallback period of the token file re-read; default 2000 ms. */
  tokenPollIntervalMs?: number;
  /** Largest CDP message a client may send; default 64 MiB. */
  maxMessageBytes?: number;
  /** Period of the WebSocket pings to every client; default 5000 ms, 0 = off (client-liveness.ts). */
  pingIntervalMs?: number;
  /** A client that answers no ping and sends nothing for this long is disconnected as hung; default 15000 ms. */
  pingTimeoutMs?: number;
  metrics: GatewayMetrics;
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
  /** Stops listening, closes every client connection and the token watch (the browser is stopped by its owner). */
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

/** The one browser endpoint path the gateway serves (`webSocketDebuggerUrl` points here). */
export const BROWSER_WS_PATH = '/devtools/browser/gateway';

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
  const text = JSON.stringify(body, null, 2);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store', ...headers });
  res.end(text);
}

/**
 * Starts the CDP gateway: the only way into a Chromium that listens on no port. Clients authenticate with the bearer
 * token from `tokenFile` and get `/json/version` (its `webSocketDebuggerUrl` built from the Host they used), the
 * browser WebSocket (a session of their own on the shared DevTools pipe, see CdpMultiplexer), `/json/list` and
 * `/status`. `/healthz` (a real `Browser.getVersion` round trip over the pipe) and `/metrics` need no token.
 * Resolves once listening; rejects with a clear error when the token file is unusable or the address cannot be bound.
 */
export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const logger = options.logger ?? createLogger({ component: 'gateway' });
  const { browser, metrics } = options;
  const healthTimeoutMs = options.healthTimeoutMs ?? 2000;
  const startedAt = Date.now();
  // Throws on unusable settings before anything is started.
  const heartbeat = new ClientHeartbeat({
    pingIntervalMs: options.pingIntervalMs ?? DEFAULT_LIVENESS.pingIntervalMs,
    pingTimeoutMs: options.pingTimeoutMs ?? DEFAULT_LIVENESS.pingTimeoutMs,
  });

  const tokens = await watchTokenFile(options.tokenFile, {
    logger,
    pollIntervalMs: options.tokenPollIntervalMs,
    onChange: () => metrics.inc('cdp_gateway_token_reloads_total'),
  });

  const throttle = new LogThrottle(logger);
  let healthInflight: Promise<HealthResult> | undefined;
  let lastHealthOk: boolean | undefined;
  const health = (): Promise<HealthResult> => {
    healthInflight ??= browser.health(healthTimeoutMs).then((result) => {
      healthInflight = undefined;
      metrics.set('cdp_gateway_health_up', {}, result.ok ? 1 : 0);
      metrics.set('cdp_gateway_health_check_seconds', {}, result.durationMs / 1000);
      if (lastHealthOk !== result.ok) {
        if (result.ok) logger.info('Passed browser health check', { product: result.product });
        else logger.warn('Failed browser health check', { reason: result.reason });
      }
      lastHealthOk = result.ok;
      return result;
    });
    return healthInflight;
  };

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

  const handleJson = (req: IncomingMessage, res: ServerResponse, port: number): void => {
    const path = pathnameOf(req.url).replace(/\/+$/, '');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendJson(res, 405, { error: 'method_not_allowed', message: 'The gateway serves GET /json/version and GET /json/list; create targets with CDP Target.createTarget over the browser WebSocket.' });
      return;
    }
    if (path === '/json/version') {
      const secure = req.headers['x-forwarded-proto'] === 'https';
      const v = browser.version;
      sendJson(res, 200, {
        'Browser': v.product,
        'Protocol-Version': v.protocolVersion,
        'User-Agent': v.userAgent,
        'V8-Version': v.jsVersion,
        'WebKit-Version': v.revision,
        'webSocketDebuggerUrl': `${secure ? 'wss' : 'ws'}://${publicAuthority(req, port)}${BROWSER_WS_PATH}`,
      });
      return;
    }
    if (path === '/json' || path === '/json/list') {
      sendJson(res, 200, browser.mux.targetList().map((t) => ({ id: t.targetId, type: t.type, url: t.url, browserContextId: t.browserContextId })));
      return;
    }
    sendJson(res, 404, { error: 'not_found', message: 'The gateway serves /json/version and /json/list; open, close and activate targets with CDP over the browser WebSocket.' });
  };

  const handleStatus = async (res: ServerResponse): Promise<void> => {
    const load = browser.mux.load();
    sendJson(res, 200, {
      browserVersion: browser.version.product,
      uptimeSeconds: Math.floor((Date.now() - startedAt) / 1000),
      leased: load.leased,
      warm: load.warm,
      pages: load.pages,
      contexts: load.contexts,
      maxContexts: load.maxContexts,
      leasesServed: load.leasesServed,
      rssBytes: await browser.rssBytes(),
      clients: browser.mux.clientCount,
      allowedOrigins: browser.allowedOrigins,
    });
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
          req.resume();
          return;
        }
        case 'metrics': {
          const load = browser.mux.load();
          metrics.set('cdp_gateway_contexts', { state: 'leased' }, load.leased);
          metrics.set('cdp_gateway_contexts', { state: 'warm' }, load.warm);
          const text = metrics.render();
          res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8', 'content-length': Buffer.byteLength(text) });
          res.end(text);
          req.resume();
          return;
        }
        case 'status':
        case 'json': {
          req.resume();
          const failure = authorize(req, 'http');
          if (failure) {
            sendJson(res, 401, { error: 'unauthorized', message: AUTH_MESSAGES[failure] }, { 'www-authenticate': authenticateHeader(failure) });
            return;
          }
          if (route === 'status') await handleStatus(res);
          else handleJson(req, res, port);
          return;
        }
        default:
          req.resume();
          sendJson(res, 404, { error: 'not_found', message: `Routes: /json/version, /json/list, ${BROWSER_WS_PATH} (WebSocket), /status, /healthz, /metrics.` });
      }
    };
    run().catch((error: unknown) => {
      logger.error('Failed to handle gateway request', { route, error: (error as Error).message });
      if (!res.headersSent) sendJson(res, 500, { error: 'internal', message: (error as Error).message });
      else res.destroy();
    });
  });

  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: options.maxMessageBytes ?? 64 * 1024 * 1024 });
  const sockets = new Set<WebSocket>();
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const refuse = (status: number, reason: string, extra: string[] = [], body = ''): void => {
      metrics.inc('cdp_gateway_http_requests_total', { route: 'devtools', status: String(status) });
      socket.end([`HTTP/1.1 ${status} ${reason}`, 'Connection: close', 'Content-Type: application/json', `Content-Length: ${Buffer.byteLength(body)}`, ...extra, '', body].join('\r\n'));
      setTimeout(() => socket.destroy(), 1000).unref();
    };
    const path = pathnameOf(req.url);
    if (routeOf(path) !== 'devtools') {
      refuse(404, 'Not Found', [], JSON.stringify({ error: 'not_found', message: `WebSocket upgrades are served on ${BROWSER_WS_PATH} only.` }));
      return;
    }
    const failure = authorize(req, 'websocket');
    if (failure) {
      refuse(401, 'Unauthorized', [`WWW-Authenticate: ${authenticateHeader(failure)}`], JSON.stringify({ error: 'unauthorized', message: AUTH_MESSAGES[failure] }));
      return;
    }
    if (!path.startsWith('/devtools/browser/')) {
      refuse(404, 'Not Found', [], JSON.stringify({ error: 'not_found', message: `Per-target endpoints are not served; connect to ${BROWSER_WS_PATH} and attach to targets with CDP.` }));
      return;
    }
    if (browser.mux.closed !== undefined) {
      refuse(503, 'Service Unavailable', [], JSON.stringify({ error: 'browser_gone', message: `The browser is gone (${browser.mux.closed}); this gateway is stopping.` }));
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.add(ws);
      metrics.inc('cdp_gateway_websocket_connections_total');
      metrics.inc('cdp_gateway_websockets_open');
      const raw = ws as WebSocket & { _socket?: { setNoDelay?(v: boolean): void } };
      raw._socket?.setNoDelay?.(true);
      // A hung client (stopped, its event loop blocked) answers no ping; while connected it would hold every request
      // paused at its Fetch interception, of every client's pages. Disconnecting it detaches its sessions, and
      // Chromium lets those requests go on down the chain (ADR 31).
      const liveness = heartbeat.track({
        ping: () => {
          if (ws.readyState === ws.OPEN) ws.ping();
        },
        hung: (silentForMs) => {
          metrics.inc('cdp_gateway_clients_dropped_total', { reason: 'unresponsive' });
          logger.warn('Disconnected a CDP client that answered no ping: its sessions are detached, so requests it held paused go on', {
            silentMs: Math.round(silentForMs), remote: req.socket.remoteAddress,
          });
          ws.terminate();
          void client.disconnect();
        },
      });
      const client = browser.mux.connect({
        send: (text) => {
          if (ws.readyState === ws.OPEN) ws.send(text);
        },
        bufferedAmount: () => ws.bufferedAmount,
        pause: () => {
          ws.pause();
          liveness.paused();
        },
        resume: () => {
          ws.resume();
          liveness.resumed();
        },
        close: (code, reason) => {
          ws.close(code, reason);
          setTimeout(() => ws.terminate(), 1000).unref();
        },
      });
      ws.on('pong', () => liveness.heard());
      ws.on('message', (data, isBinary) => {
        liveness.heard();
        client.receive(isBinary ? Buffer.from(data as Buffer).toString('utf8') : String(data));
      });
      ws.on('error', (error) => logger.debug('CDP client WebSocket error', { error: error.message }));
      ws.once('close', () => {
        liveness.untrack();
        sockets.delete(ws);
        metrics.inc('cdp_gateway_websockets_open', {}, -1);
        void client.disconnect();
        logger.debug('Closed CDP client', { remote: req.socket.remoteAddress });
      });
      logger.debug('Opened CDP client', { remote: req.socket.remoteAddress });
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
    heartbeat.close();
    throw new Error(`Could not listen on ${authority(options.listenHost, options.listenPort)}: ${(error as Error).message}; choose another GATEWAY_LISTEN_HOST/GATEWAY_PORT`, { cause: error });
  }
  const port = listeningPort();
  const url = `http://${authority(displayHost(options.listenHost), port)}`;
  logger.info('Started CDP gateway', {
    url, browserPid: browser.pid, maxContexts: browser.mux.load().maxContexts,
    pingIntervalMs: options.pingIntervalMs ?? DEFAULT_LIVENESS.pingIntervalMs, pingTimeoutMs: options.pingTimeoutMs ?? DEFAULT_LIVENESS.pingTimeoutMs,
  });

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    metrics,
    close: () => {
      closing ??= (async () => {
        tokens.close();
        heartbeat.close();
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const ws of sockets) ws.terminate();
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
