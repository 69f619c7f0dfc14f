import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import express, { type ErrorRequestHandler, type Express, type Request, type Response } from 'express';
import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { createMcpHandler, type McpHttpHandler } from '@modelcontextprotocol/server';
import { toNodeHandler } from '@modelcontextprotocol/node';
import type { HealthRegistry } from '#common/health.ts';
import type { Logger } from '#common/logger.ts';
import { withLogContext } from '#common/log-context.ts';
import type { InFlightTracker } from '#common/shutdown.ts';
import { bearerAuth } from '#server/auth/bearer-middleware.ts';
import type { BearerVerifier } from '#server/auth/bearer-verifier.ts';
import { MCP_PATH, protectedResourceMetadata, RESOURCE_METADATA_PATH, RESOURCE_METADATA_ROOT_PATH, resourceUrlFor } from '#server/auth/protected-resource.ts';
import { failedAuthenticationLimit, perClientRateLimit } from '#server/auth/rate-limit.ts';
import type { ServerConfig } from '#server/config.ts';
import { createMcpServer, type McpServerSetup } from '#server/mcp/create-mcp-server.ts';
import { SERVER_CARD_PATH, serverCard } from '#server/mcp/discovery/server-card.ts';
import { toolSummaries } from '#server/mcp/discovery/tool-summary.ts';
import { SERVER_TRACER_NAME } from '#server/mcp/tool-call.ts';
import { callerOf, issueCallerNonce } from './caller-identity.ts';
import { corsForAllowedOrigins } from './cors.ts';
import { viewOf } from './json-rpc-message.ts';
import { sendJsonRpcError } from './json-rpc-error.ts';
import { legacyCancellation } from './legacy-cancellation.ts';
import { currentRequestScope, withRequestScope, type RequestScope } from './request-scope.ts';
import { effectiveAllowedHosts, hostGuard, originGuard } from './request-guards.ts';
import { refuseBatches } from './single-message.ts';
import { tasksEdge } from './tasks-edge.ts';

/** Everything the HTTP app serves from. */
export interface HttpAppOptions<Services> {
  config: Pick<ServerConfig, 'http' | 'auth' | 'rateLimit' | 'telemetry'>;
  mcp: McpServerSetup<Services>;
  logger: Logger;
  health: HealthRegistry;
  /** Prometheus text exposition handler (from startTelemetry). */
  metricsHandler: (req: IncomingMessage, res: ServerResponse) => void;
  /** Required when `config.auth.mode` is "jwt". */
  verifier?: BearerVerifier;
  /** HTTP requests to /mcp in progress (graceful shutdown waits for them). */
  requests: InFlightTracker;
  /** True once shutdown began: new /mcp requests get 503 so clients retry on another replica. */
  isShuttingDown: () => boolean;
}

/** The Express app plus the SDK handler behind /mcp (closed at shutdown). */
export interface HttpApp extends Express {
  mcpHandler: McpHttpHandler;
}

function methodNotAllowed(_req: Request, res: Response): void {
  res.setHeader('Allow', 'POST');
  sendJsonRpcError(res, 405, -32000, 'Method not allowed: this server is stateless; send every JSON-RPC message with POST /mcp (no SSE stream, no sessions).');
}

function bodyErrors(limit: string): ErrorRequestHandler {
  return (error: { type?: string; status?: number; message?: string }, _req, res, next) => {
    if (error.type === 'entity.too.large') {
      sendJsonRpcError(res, 413, -32600, `Request body is larger than the ${limit} limit; send smaller arguments (e.g. fewer or shorter sections) or raise http.bodyLimit.`);
    } else if (error.type === 'entity.parse.failed') {
      sendJsonRpcError(res, 400, -32700, 'Parse error: the request body is not valid JSON.');
    } else if (error.type === 'encoding.unsupported' || error.type === 'charset.unsupported') {
      sendJsonRpcError(res, 415, -32600, `Unsupported request encoding: ${error.message ?? ''}`);
    } else {
      next(error);
    }
  };
}

/** What the edge tells the factory about a POST: its caller (2025 era) and the tool it calls as a task (2026 era). */
export function requestScopeOf(req: Request, taskTools: ReadonlySet<string>, disconnected: AbortSignal): RequestScope {
  const view = viewOf(req.body);
  const modern = view?.envelopeVersion !== undefined;
  const name = view?.params?.['name'];
  const extensions = view?.envelopeCapabilities?.['extensions'];
  const declaresTasks = typeof extensions === 'object' && extensions !== null && 'io.modelcontextprotocol/tasks' in extensions;
  return {
    caller: modern ? undefined : callerOf((req as Request & { auth?: { clientId?: string } }).auth?.clientId, req.headers['mcp-session-id']),
    taskTool: modern && view?.method === 'tools/call' && declaresTasks && typeof name === 'string' && taskTools.has(name) ? name : undefined,
    disconnected,
  };
}

/**
 * The HTTP face of the server: `POST /mcp` served by the SDK's `createMcpHandler` — MCP 2026-07-28 (stateless,
 * `server/discover`, per-request envelope, standard headers checked) and the 2025-era initialize handshake (stateless
 * legacy mode) from one factory, a fresh MCP server per request, so any replica serves any call — behind this server's
 * own edge: Host/Origin checks, bearer auth with a failed-authentication limit before the verifier, per-client rate
 * limits, a body limit, one message per POST, caller nonces and caller-scoped cancellation for 2025-era clients, a
 * span and an audit context per request. Plus `/healthz`, `/readyz`, the metrics path, the Server Card at
 * `/.well-known/mcp/server-card.json`, and the RFC 9728 metadata when auth is on.
 */
export function createHttpApp<Services>(options: HttpAppOptions<Services>): HttpApp {
  const { config, logger } = options;
  const app = express() as HttpApp;
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  const allowedHosts = effectiveAllowedHosts(config.http.host, config.http.allowedHosts);
  if (!allowedHosts) logger.warn('Disabled Host header check', { reason: 'listening on a non-loopback address with no http.allowedHosts', host: config.http.host });

  app.get('/healthz', (req, res) => options.health.livenessHandler(req, res));
  app.get('/readyz', (req, res) => options.health.readinessHandler(req, res));
  app.get(config.telemetry.metricsPath, (req, res) => options.metricsHandler(req, res));

  const authOn = config.auth.mode === 'jwt';
  if (authOn) {
    const metadata = (req: Request, res: Response): void => {
      res.setHeader('Cache-Control', 'max-age=300');
      // Public metadata: browser clients on any origin may read it (MCP authorization spec).
      res.setHeader('Access-Control-Allow-Origin', '*');
      res.json(protectedResourceMetadata(resourceUrlFor(req, config.auth.resourceUrl), config.auth.authorizationServers));
    };
    app.get(RESOURCE_METADATA_PATH, metadata);
    app.get(RESOURCE_METADATA_ROOT_PATH, metadata);
    if (!options.verifier) throw new Error('auth.mode is "jwt" but no bearer verifier was given.');
  }

  const taskTools = options.mcp.tasks?.toolNames ?? new Set<string>();
  const requiredTaskTools = options.mcp.tasks?.requiredToolNames ?? new Set<string>();
  const summaries = toolSummaries(options.mcp.tools, Object.fromEntries([...taskTools].map((name) => [name, requiredTaskTools.has(name) ? ('required' as const) : ('optional' as const)])));
  // The Server Card (SEP-2127): public discovery metadata, generated from the tool list; the Host guard still applies
  // because its URL comes from the request when auth.resourceUrl is not set.
  app.get(SERVER_CARD_PATH, hostGuard(allowedHosts), (req, res) => {
    res.setHeader('Cache-Control', 'max-age=300');
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.json(serverCard({ mcpUrl: resourceUrlFor(req, config.auth.resourceUrl), authRequired: authOn, tools: summaries }));
  });
  const mcpHandler = createMcpHandler(
    ({ era }) => {
      const scope = currentRequestScope();
      return createMcpServer(options.mcp, { era, transport: 'http', caller: scope?.caller, taskTool: scope?.taskTool, disconnected: scope?.disconnected });
    },
    { legacy: 'stateless', responseMode: 'auto', onerror: (error) => logger.info('Refused MCP request', { reason: error.message }) },
  );
  app.mcpHandler = mcpHandler;
  const serveMcp = toNodeHandler(mcpHandler, { onerror: (error) => logger.error('MCP request failed', { error }) });

  const guards = [hostGuard(allowedHosts), originGuard(config.http.allowedOrigins, allowedHosts)];
  app.options(MCP_PATH, hostGuard(allowedHosts), corsForAllowedOrigins(config.http.allowedOrigins), (_req, res) => {
    res.setHeader('Allow', 'POST, OPTIONS');
    res.status(204).end();
  });
  const auth =
    authOn && options.verifier
      ? [failedAuthenticationLimit({ windowSeconds: config.rateLimit.windowSeconds, maxFailures: config.rateLimit.maxFailedAuthentications }), bearerAuth({ verifier: options.verifier, resourceUrl: config.auth.resourceUrl, logger })]
      : [];
  const limiter = perClientRateLimit(config.rateLimit);

  app.post(
    MCP_PATH,
    corsForAllowedOrigins(config.http.allowedOrigins),
    (_req, res, next) => {
      if (!options.isShuttingDown()) return next();
      res.setHeader('Connection', 'close');
      res.setHeader('Retry-After', '1');
      sendJsonRpcError(res, 503, -32000, 'The server is shutting down; retry (another replica will answer).');
    },
    ...guards,
    ...auth,
    limiter,
    express.json({ limit: config.http.bodyLimit, type: ['application/json', 'application/*+json'] }),
    refuseBatches(),
    issueCallerNonce(),
    legacyCancellation(options.mcp.runningCalls, logger),
    tasksEdge(requiredTaskTools),
    (req, res) => handleMcpPost(req, res, options, taskTools, serveMcp),
  );
  app.get(MCP_PATH, ...guards, methodNotAllowed);
  app.delete(MCP_PATH, ...guards, methodNotAllowed);
  app.use(bodyErrors(config.http.bodyLimit));
  app.use(((error, req, res, _next) => {
    logger.error('HTTP request failed', { method: req.method, path: req.path, error });
    sendJsonRpcError(res, 500, -32603, 'Internal server error.');
  }) as ErrorRequestHandler);
  return app;
}

async function handleMcpPost<Services>(req: Request, res: Response, options: HttpAppOptions<Services>, taskTools: ReadonlySet<string>, serveMcp: ReturnType<typeof toNodeHandler>): Promise<void> {
  const end = options.requests.begin();
  res.on('close', end);
  // The client went away (closed the connection before the answer ended): whatever the era, the call stops and its
  // browser lease is freed now, not when the work would have finished.
  const disconnected = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) disconnected.abort(new DOMException('The client closed the request before the answer.', 'AbortError'));
  });
  const scope = requestScopeOf(req, taskTools, disconnected.signal);
  const parent = propagation.extract(context.active(), req.headers);
  const tracer = trace.getTracer(SERVER_TRACER_NAME);
  const span = tracer.startSpan('POST /mcp', { kind: SpanKind.SERVER, attributes: { 'http.request.method': 'POST', 'url.path': MCP_PATH } }, parent);
  const requestId = randomUUID();
  res.on('close', () => {
    span.setAttribute('http.response.status_code', res.statusCode);
    if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  });
  await context.with(trace.setSpan(parent, span), () =>
    withLogContext({ requestId, traceId: span.spanContext().traceId }, () =>
      withRequestScope(scope, async () => {
        try {
          await serveMcp(req, res, req.body);
        } catch (error) {
          options.logger.error('MCP request failed', { error });
          sendJsonRpcError(res, 500, -32603, 'Internal server error.');
        }
      }),
    ),
  );
}
