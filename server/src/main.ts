import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:http';
import { ConfigError, loadConfig } from '#common/config.ts';
import { HealthRegistry } from '#common/health.ts';
import { eventLoopLivenessCheck } from '#common/event-loop-watch.ts';
import { createLogger, type Logger } from '#common/logger.ts';
import { ProcessFailurePolicy } from '#common/process-failure.ts';
import { GracefulShutdown, InFlightTracker } from '#common/shutdown.ts';
import { startTelemetry } from '#common/telemetry.ts';
import { bearerVerifierFromConfig, type BearerVerifier } from '#server/auth/bearer-verifier.ts';
import { unsafeExposure } from '#server/auth/exposure-check.ts';
import { resolveSecrets, SERVER_ENV_PREFIX, serverConfigEnv, serverConfigSchema, type ServerConfig } from '#server/config.ts';
import { closeConnectionWhen } from '#server/http/connection-close.ts';
import { createHttpApp } from '#server/http/create-http-app.ts';
import type { McpServerSetup } from '#server/mcp/create-mcp-server.ts';
import { SERVER_NAME, SERVER_VERSION } from '#server/mcp/server-info.ts';
import { startStdioServer } from '#server/mcp/stdio.ts';
import { RunningCalls } from '#server/mcp/running-calls.ts';
import { ToolMetrics } from '#server/mcp/tool-metrics.ts';
import { buildTaskStore } from '#server/mcp/tasks/build-task-store.ts';
import type { TaskStore } from '#server/mcp/tasks/task-store.ts';
import { TASK_TOOL_SUPPORT } from '#server/mcp/tasks/task-tools.ts';
import { ToolTasks, type TaskSupport } from '#server/mcp/tasks/tool-tasks.ts';
import { buildServices, type BuiltServices } from '#server/services-factory.ts';
import { allTools } from '#server/tools/index.ts';
import type { ComposerServices } from '#server/tools/services.ts';
import type { ToolDefinition } from '#server/tools/tool-definition.ts';

/** Exit code for invalid configuration (distinct from 1, a runtime failure). */
export const EXIT_BAD_CONFIG = 2;

/** Loads and checks configuration (flags, env, file), reads secret files; prints what is wrong and exits 2 when invalid. */
function loadServerConfig(argv: string[]): ServerConfig {
  try {
    return resolveSecrets(loadConfig(serverConfigSchema, { envPrefix: SERVER_ENV_PREFIX, env: serverConfigEnv(), argv }));
  } catch (error) {
    const message = error instanceof ConfigError || error instanceof Error ? error.message : String(error);
    process.stderr.write(`composer-mcp: ${message}\nSee docs for the settings (env prefix ${SERVER_ENV_PREFIX}_, e.g. ${SERVER_ENV_PREFIX}_HTTP__PORT=8080, or flags like --http.port=8080).\n`);
    process.exit(EXIT_BAD_CONFIG);
  }
}

function verifierOf(config: ServerConfig): BearerVerifier | undefined {
  if (config.auth.mode !== 'jwt') return undefined;
  const exposure = config.transport === 'http' ? unsafeExposure(config) : undefined;
  if (exposure) {
    process.stderr.write(`composer-mcp: refusing to start: ${exposure}\n`);
    process.exit(EXIT_BAD_CONFIG);
  }
  try {
    return bearerVerifierFromConfig(config.auth);
  } catch (error) {
    process.stderr.write(`composer-mcp: invalid auth configuration: ${(error as Error).message}\n`);
    process.exit(EXIT_BAD_CONFIG);
  }
}

function addHealthChecks(health: HealthRegistry, built: BuiltServices): void {
  health.addLivenessCheck('event-loop', eventLoopLivenessCheck());
  const browsers = built.browsers;
  if (browsers) {
    // Reported, not gating: only open and preview need a browser. Failing readiness here would take every replica
    // out of the Service during a browser outage and make the offline tools and composer_status unreachable too;
    // the ComposerMcpNoReadyBrowsers alert and composer_status report the outage instead.
    health.addCheck('browsers', () => {
      const s = browsers.stats();
      return s.healthy > 0 ? { ok: true, detail: `${s.healthy} healthy of ${s.browsers}` } : { ok: false, detail: `no healthy browser (${s.browsers} known)` };
    }, { gating: false });
  }
}

/**
 * How long an idle HTTP connection stays open. Clients that read the Keep-Alive hint (undici, Node's agent) close
 * theirs a little sooner, so the server never closes a connection a client is about to reuse.
 */
const KEEP_ALIVE_TIMEOUT_MS = 5000;

function listen(server: Server, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}

function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

async function runHttp(config: ServerConfig, setup: McpServerSetup<ComposerServices>, ctx: RunContext): Promise<void> {
  const { logger, shutdown, health } = ctx;
  const requests = new InFlightTracker();
  let accepting = true;
  const app = createHttpApp({
    config,
    mcp: setup,
    logger,
    health,
    metricsHandler: ctx.metricsHandler,
    ...(ctx.verifier ? { verifier: ctx.verifier } : {}),
    requests,
    isShuttingDown: () => !accepting,
  });
  // From SIGTERM on, every answer closes its connection (whatever Connection header its handler writes: an event
  // stream writes keep-alive), so that a client's next call opens a new one, which the Service sends to a ready
  // replica: an open connection keeps reaching this replica whatever kube-proxy's rules say. A connection whose
  // answer went out before SIGTERM is closed by the answer to its next request. The listener stays open until the
  // process is about to exit, and every request that still arrives is served: see the steps below.
  let draining = false;
  /**
   * Every HTTP request from clients (not the kubelet's probes or a metrics scrape, which go on during the shutdown
   * and say nothing about routing), from its start until its answer ends or its client leaves.
   */
  const httpWork = new InFlightTracker();
  const notClientWork = new Set(['/healthz', '/readyz', config.telemetry.metricsPath]);
  const httpServer = createServer((req, res) => {
    closeConnectionWhen(res, () => draining);
    if (!notClientWork.has((req.url ?? '/').split('?', 1)[0] ?? '')) res.once('close', httpWork.begin());
    app(req, res);
  });
  httpServer.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  let address: AddressInfo;
  try {
    address = await listen(httpServer, config.http.port, config.http.host);
  } catch (error) {
    logger.error('Failed to listen', { host: config.http.host, port: config.http.port, error: (error as Error).message, fix: 'free the port or choose another with --http.port / COMPOSER_MCP_HTTP__PORT' });
    await ctx.built.stop();
    process.exit(1);
  }
  const url = `http://${urlHost(address.address)}:${address.port}/mcp`;
  logger.info('Started MCP server', { transport: 'http', url, port: address.port, auth: config.auth.mode, version: SERVER_VERSION });

  // Kubernetes removes a terminating pod's endpoint in parallel with SIGTERM, and kube-proxy's rules (or another
  // load balancer) follow after a lag that grows with the cluster's load; a connection already open keeps reaching
  // this replica whatever the rules say. So: readiness fails at once; for the drain period everything is served as
  // usual (answers closing their connections); then the replica still serves whatever arrives and leaves only once
  // nothing is in flight and nothing has arrived for a keep-alive timeout (so no client still holds a connection it
  // may reuse: it has been closed by its idle timeout, the client's first), or when the grace period ends. Only then
  // does it close its listener. A request is refused (503) only after the grace period, while its calls are cancelled.
  const graceMs = config.shutdownGraceSeconds * 1000;
  const quietMs = config.shutdownDrainSeconds > 0 ? KEEP_ALIVE_TIMEOUT_MS : 0;
  shutdown.onShutdown('drain', async () => {
    draining = true;
    health.setDraining();
    if (config.shutdownDrainSeconds > 0) await new Promise((resolve) => setTimeout(resolve, config.shutdownDrainSeconds * 1000));
  });
  shutdown.onShutdown('serve until quiet', async () => {
    const waitMs = Math.max(graceMs - 2000, graceMs / 2);
    const started = Date.now();
    // HTTP requests (new ones too), and the tool calls of tasks that outlive their request.
    if ((await httpWork.quiet(quietMs, waitMs)) && (await setup.inFlight.idle(Math.max(0, waitMs - (Date.now() - started))))) return;
    accepting = false;
    logger.warn('Cancelled in-flight calls after the shutdown grace', { inFlight: requests.count + setup.inFlight.count });
    ctx.cancelAll.abort(new Error('server shutting down'));
    await httpWork.idle(1000);
    await setup.inFlight.idle(1000);
  });
  shutdown.onShutdown('stop accepting', () => {
    accepting = false;
    httpServer.close();
    httpServer.closeIdleConnections();
  });
  shutdown.onShutdown('close connections', async () => {
    await app.mcpHandler.close();
    httpServer.closeAllConnections();
  });
  addCommonSteps(ctx);
}

async function runStdio(setup: McpServerSetup<ComposerServices>, ctx: RunContext, graceMs: number): Promise<void> {
  const { logger, shutdown } = ctx;
  const stdio = startStdioServer(setup, logger);
  logger.info('Started MCP server', { transport: 'stdio', version: SERVER_VERSION });
  void stdio.closed.then(() => shutdown.shutdown('stdin closed'));
  shutdown.onShutdown('finish in-flight calls', async () => {
    if (await setup.inFlight.idle(Math.max(graceMs - 2000, graceMs / 2))) return;
    ctx.cancelAll.abort(new Error('server shutting down'));
    await setup.inFlight.idle(1000);
  });
  shutdown.onShutdown('close stdio', () => stdio.close());
  addCommonSteps(ctx);
}

function addCommonSteps(ctx: RunContext): void {
  ctx.shutdown.onShutdown('stop browsers', () => ctx.built.stop());
  ctx.shutdown.onShutdown('flush telemetry', () => ctx.stopTelemetry());
}

interface RunContext {
  logger: Logger;
  shutdown: GracefulShutdown;
  health: HealthRegistry;
  built: BuiltServices;
  verifier: BearerVerifier | undefined;
  cancelAll: AbortController;
  metricsHandler: ReturnType<typeof startTelemetry>['metricsHandler'];
  stopTelemetry: () => Promise<void>;
}

/**
 * What an embedding entry point adds to the server `main` builds: more tools (their calls are validated, audited,
 * counted and traced like the built-in ones) and a hook that registers more resources, resource templates or prompts.
 * The production entry point (`node server/src/main.ts`) adds nothing.
 */
export interface ServerExtensions {
  tools?: ToolDefinition<ComposerServices>[];
  extend?: McpServerSetup<ComposerServices>['extend'];
  /** More tools that run as tasks for clients that declare the tasks extension (by name: `optional` or `required`). */
  taskTools?: Record<string, TaskSupport>;
}


/** The tools that run as tasks: the built-in ones and those of the extensions. */
function taskToolsOf(extensions: ServerExtensions): Record<string, TaskSupport> {
  return { ...TASK_TOOL_SUPPORT, ...extensions.taskTools };
}

/** The task runner of an HTTP server (stdio has none: a task would end with the connection), its store started. */
async function buildTasks(config: ServerConfig, setup: McpServerSetup<ComposerServices>, extensions: ServerExtensions, ctx: RunContext): Promise<ToolTasks<ComposerServices>> {
  let store: TaskStore;
  try {
    store = await buildTaskStore(config, ctx.logger);
  } catch (error) {
    process.stderr.write(`composer-mcp: invalid tasks configuration: ${(error as Error).message}\n`);
    process.exit(EXIT_BAD_CONFIG);
  }
  store.start();
  ctx.shutdown.onShutdown('stop task sweep', () => store.stop());
  const { tasks } = config;
  return new ToolTasks({
    store,
    env: setup,
    tools: new Map(Object.entries(taskToolsOf(extensions))),
    limits: { ttlMs: tasks.ttlSeconds * 1000, pollIntervalMs: tasks.pollIntervalMs, maxResultBytes: tasks.maxResultBytes, maxActivePerSubject: tasks.maxActivePerSubject, maxStoredPerSubject: tasks.maxStoredPerSubject },
  });
}

/**
 * Starts the server as configured: telemetry, services, the chosen transport, health checks and graceful shutdown,
 * with the built-in tools, resources and prompt plus any `extensions`.
 */
export async function main(argv: string[] = process.argv.slice(2), extensions: ServerExtensions = {}): Promise<void> {
  const config = loadServerConfig(argv);
  const verifier = verifierOf(config);
  const logger = createLogger({ component: 'server', level: config.logLevel });
  // An unhandled rejection is logged and survived; an uncaught exception fails readiness, drains and exits 70.
  const failures = new ProcessFailurePolicy({ logger }).install();
  const telemetry = startTelemetry({ serviceName: SERVER_NAME, serviceVersion: SERVER_VERSION, otlpEndpoint: config.telemetry.otlpEndpoint });
  const built = await buildServices(config, logger);
  if (built.missingCredentials.length > 0) {
    logger.warn('Started without Composer credentials', { missing: built.missingCredentials, works: 'catalog, guidance, build, validate' });
  }
  const graceMs = config.shutdownGraceSeconds * 1000;
  const drainMs = config.transport === 'http' ? config.shutdownDrainSeconds * 1000 : 0;
  const shutdown = new GracefulShutdown({ graceMs: drainMs + graceMs + 3000, logger });
  shutdown.install();
  const health = new HealthRegistry();
  addHealthChecks(health, built);
  failures.drainWith(shutdown, health);
  const cancelAll = new AbortController();
  const setup: McpServerSetup<ComposerServices> = {
    services: built.services,
    catalog: built.catalog,
    tools: [...allTools(), ...(extensions.tools ?? [])],
    ...(extensions.extend ? { extend: extensions.extend } : {}),
    logger,
    metrics: new ToolMetrics(),
    inFlight: new InFlightTracker(),
    defaultSubject: config.transport === 'stdio' ? 'stdio' : 'anonymous',
    shutdownSignal: cancelAll.signal,
    runningCalls: new RunningCalls(),
  };
  const ctx: RunContext = { logger, shutdown, health, built, verifier, cancelAll, metricsHandler: telemetry.metricsHandler, stopTelemetry: () => telemetry.shutdown() };
  if (config.transport === 'stdio') await runStdio(setup, ctx, graceMs);
  else await runHttp(config, { ...setup, tasks: await buildTasks(config, setup, extensions, ctx) }, ctx);
  // Browsers start after the transport so liveness answers at once; readiness waits for a healthy browser.
  built.start().catch((error: unknown) => logger.error('Failed to start browser pool', { error: (error as Error).message }));
}

if (import.meta.main) {
  main().catch((error: unknown) => {
    process.stderr.write(`composer-mcp: failed to start: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  });
}
