import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { context, metrics, propagation, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { startComposerStandin, type ComposerStandin } from '#support/composer-standin/standin.ts';
import { loadConfig } from '#common/config.ts';
import { HealthRegistry } from '#common/health.ts';
import { createLogger } from '#common/logger.ts';
import { InFlightTracker } from '#common/shutdown.ts';
import { startTelemetry, type Telemetry } from '#common/telemetry.ts';
import { SERVER_ENV_PREFIX, serverConfigSchema } from '#server/config.ts';
import { createHttpApp } from '#server/http/create-http-app.ts';
import { ToolMetrics } from '#server/mcp/tool-metrics.ts';
import { buildServices, type BuiltServices } from '#server/services-factory.ts';
import { allTools } from '#server/tools/index.ts';
import { connectHttp, MAIN, REPO_ROOT, SAMPLE_OUTLINE, serverEnv, startServerProcess, tempFiles, type ServerProcess } from './server-harness.ts';

describe('server tracing (in process, real OpenTelemetry SDK, a local browser and the Composer stand-in)', function () {
  this.timeout(60000);
  const spans = new InMemorySpanExporter();
  let standin: ComposerStandin;
  let telemetry: Telemetry;
  let built: BuiltServices;
  let http: Server;
  let client: Client;
  let url: string;

  before(async () => {
    telemetry = startTelemetry({ serviceName: 'composer-mcp-test', serviceVersion: '0.0.0', spanProcessors: [new SimpleSpanProcessor({ exporter: spans })] });
    standin = await startComposerStandin({ tokens: ['tracing-token-000001'] });
    const config = loadConfig(serverConfigSchema, {
      envPrefix: SERVER_ENV_PREFIX,
      env: {},
      argv: [
        `--composer.composer-url=${standin.appUrl}`,
        `--composer.api-url=${standin.apiUrl}`,
        '--composer.access-token=tracing-token-000001',
        '--composer.project-key=project-key-1',
        '--composer.connector-uid=connector-1',
        '--browsers.source=local',
        '--browsers.local.count=1',
      ],
    });
    const logger = createLogger({ component: 'test', level: 'error', format: 'json' });
    built = await buildServices(config, logger);
    await built.start();
    const app = createHttpApp({
      config,
      logger,
      health: new HealthRegistry(),
      metricsHandler: telemetry.metricsHandler,
      requests: new InFlightTracker(),
      isShuttingDown: () => false,
      mcp: { services: built.services, catalog: built.catalog, tools: allTools(), logger, metrics: new ToolMetrics(), inFlight: new InFlightTracker(), defaultSubject: 'anonymous' },
    });
    http = createServer(app);
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`;
  });

  after(async () => {
    await client?.close();
    http?.closeAllConnections();
    await new Promise<void>((resolve) => (http ? http.close(() => resolve()) : resolve()));
    await built?.stop();
    await standin?.stop();
    await telemetry?.shutdown();
    trace.disable();
    metrics.disable();
    propagation.disable();
    context.disable();
  });

  it('continues the caller\'s trace: POST /mcp span, then the tool span as its child', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    client = await connectHttp(url, { headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` } });
    spans.reset();
    await client.callTool({ name: 'composer_list_widgets', arguments: {} });
    const finished = spans.getFinishedSpans();
    const tool = finished.find((s) => s.name === 'tools/call composer_list_widgets');
    expect(tool, `spans: ${finished.map((s) => s.name).join(', ')}`).to.not.equal(undefined);
    const request = finished.find((s) => s.name === 'POST /mcp' && s.spanContext().spanId === tool!.parentSpanContext?.spanId);
    expect(request, 'the tool span is a child of the POST /mcp span').to.not.equal(undefined);
    expect(request!.spanContext().traceId).to.equal(traceId);
    expect(request!.parentSpanContext?.spanId).to.equal('00f067aa0ba902b7');
    expect(tool!.attributes).to.include({ 'mcp.tool.name': 'composer_list_widgets', 'mcp.tool.outcome': 'ok', 'enduser.id': 'anonymous' });
  });

  it('follows one open call from the HTTP request through the tool span to the browser lease', async () => {
    const buildResult = (await client.callTool({ name: 'composer_build_composition', arguments: SAMPLE_OUTLINE })) as CallToolResult;
    const composition = (buildResult.structuredContent as { composition: Record<string, unknown> }).composition;
    const saved = (await client.callTool({ name: 'composer_save_composition', arguments: { composition } })) as CallToolResult;
    const uid = (saved.structuredContent as { uid: string }).uid;
    spans.reset();
    const opened = (await client.callTool({ name: 'composer_open_composition', arguments: { uid } })) as CallToolResult;
    expect(opened.isError, JSON.stringify(opened.content).slice(0, 500)).to.not.equal(true);
    // The tool answers once its capture is done and the lease ends after, closing the context (ADR 29): wait for the
    // lease span to finish (bounded) before reading the spans.
    for (const until = Date.now() + 5000; Date.now() < until && !spans.getFinishedSpans().some((s) => s.name === 'browser.lease');) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const finished = spans.getFinishedSpans();
    const tool = finished.find((s) => s.name === 'tools/call composer_open_composition')!;
    const lease = finished.find((s) => s.name === 'browser.lease');
    expect(lease, `spans: ${finished.map((s) => s.name).join(', ')}`).to.not.equal(undefined);
    expect(lease!.parentSpanContext?.spanId, 'the lease span is a child of the tool span').to.equal(tool.spanContext().spanId);
    const request = finished.find((s) => s.name === 'POST /mcp' && s.spanContext().spanId === tool.parentSpanContext?.spanId);
    expect(request, 'the tool span is a child of the POST /mcp span').to.not.equal(undefined);
    expect(new Set([request!, tool, lease!].map((s) => s.spanContext().traceId)).size).to.equal(1);
    expect(tool.attributes).to.include({ 'composer.composition.uid': uid, 'mcp.tool.outcome': 'ok' });
  });
});

describe('server process lifecycle', function () {
  this.timeout(60000);

  function run(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stderr: string; stdout: string }> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [MAIN, ...args], { cwd: REPO_ROOT, env: serverEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      let stdout = '';
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), 20000);
      child.once('exit', (code) => {
        clearTimeout(timer);
        resolve({ code, stderr, stdout });
      });
    });
  }

  it('exits 2 on invalid configuration, naming every bad setting and where it came from', async () => {
    const result = await run(['--http.port=eighty'], { COMPOSER_MCP_AUTH__MODE: 'jwt', COMPOSER_MCP_TRANSPORT: 'carrier-pigeon' });
    expect(result.code).to.equal(2);
    expect(result.stderr).to.include('http.port').and.include('flag --http.port');
    expect(result.stderr).to.include('transport').and.include('env COMPOSER_MCP_TRANSPORT');
    expect(result.stderr).to.include('auth.issuer');
    expect(result.stdout).to.equal('');
  });

  it('exits 2 when a secret file cannot be read, naming the setting', async () => {
    const result = await run([], { COMPOSER_MCP_COMPOSER__ACCESS_TOKEN_FILE: '/nonexistent/composer-token' });
    expect(result.code).to.equal(2);
    expect(result.stderr).to.include('composer.accessTokenFile').and.include('/nonexistent/composer-token');
  });

  describe('with a local browser pool', () => {
    let server: ServerProcess | undefined;
    after(async () => {
      await server?.stop();
    });

    it('reports its browsers in /readyz once one is healthy, and stops them on SIGTERM (exit 0)', async () => {
      server = await startServerProcess({ args: ['--browsers.source=local', '--browsers.local.count=1'] });
      const readyz = new URL('/readyz', server.url);
      let report: { status: string; checks: Record<string, { ok: boolean; detail?: string }> } | undefined;
      const deadline = Date.now() + 20000;
      while (Date.now() < deadline) {
        const response = await fetch(readyz);
        report = (await response.json()) as typeof report;
        expect(response.status, 'browsers do not gate readiness').to.equal(200);
        if (report?.checks['browsers']?.ok) break;
        await new Promise((r) => setTimeout(r, 250));
      }
      expect(report?.status).to.equal('ok');
      expect(report?.checks['browsers']).to.include({ ok: true });
      const pids = server.logs().filter((l) => l['message'] === 'Started Chromium').map((l) => Number(l['pid']));
      expect(pids).to.have.length(1);
      const exit = await server.stop();
      expect(exit.code).to.equal(0);
      expect(() => process.kill(pids[0]!, 0), 'chromium stopped with the server').to.throw();
      server = undefined;
    });
  });

  it('stays ready and serves the offline tools while no browser is healthy', async () => {
    // A gateway address where nothing listens: the static source knows one browser that never becomes healthy.
    const dead = createServer();
    await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
    const deadPort = (dead.address() as AddressInfo).port;
    await new Promise<void>((r) => dead.close(() => r()));
    const files = tempFiles({ token: 'a-browser-token-123456' });
    let server: ServerProcess | undefined;
    let client: Client | undefined;
    try {
      server = await startServerProcess({ args: ['--browsers.source=static', `--browsers.static.endpoints=http://127.0.0.1:${deadPort}`, `--browsers.static.token-file=${files.path('token')}`] });
      const response = await fetch(new URL('/readyz', server.url));
      const report = (await response.json()) as { status: string; checks: Record<string, { ok: boolean; gating?: boolean }> };
      expect(response.status).to.equal(200);
      expect(report.checks['browsers']).to.include({ ok: false, gating: false });
      client = await connectHttp(server.url);
      const result = (await client.callTool({ name: 'composer_list_widgets', arguments: {} })) as CallToolResult;
      expect(result.isError ?? false).to.equal(false);
    } finally {
      await client?.close();
      await server?.stop();
      files.cleanup();
    }
  });
});
