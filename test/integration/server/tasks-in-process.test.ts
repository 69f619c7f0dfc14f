import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { SignJWT } from 'jose';
import { z } from 'zod';
import { loadConfig } from '#common/config.ts';
import { HealthRegistry } from '#common/health.ts';
import { createLogger } from '#common/logger.ts';
import { InFlightTracker } from '#common/shutdown.ts';
import { createBearerVerifier } from '#server/auth/bearer-verifier.ts';
import { SERVER_ENV_PREFIX, serverConfigSchema } from '#server/config.ts';
import { createHttpApp } from '#server/http/create-http-app.ts';
import type { McpServerSetup } from '#server/mcp/create-mcp-server.ts';
import { MemoryTaskStore } from '#server/mcp/tasks/memory-task-store.ts';
import { ToolTasks, type TaskLimits } from '#server/mcp/tasks/tool-tasks.ts';
import { ToolMetrics } from '#server/mcp/tool-metrics.ts';
import { ToolError, type ToolDefinition } from '#server/tools/tool-definition.ts';
import { awaitTask, modernRequest, modernResult } from './modern-wire.ts';

const SECRET = 'in-process-tasks-secret-0123456789-abcdef';
const readOnly = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false };

/** Tools with known behaviour: `wait` (cancellable, reports progress), `big` (a large result), `broken` and `refusing`. */
function tools(): ToolDefinition<object>[] {
  const waitInput = z.object({ ms: z.number().int().min(0) }).strict();
  return [
    {
      name: 'wait',
      title: 'wait',
      description: 'waits',
      inputSchema: waitInput,
      annotations: readOnly,
      handler: async (input, context) => {
        const { ms } = input as z.output<typeof waitInput>;
        await context.reportProgress(1, 2, 'halfway there');
        await sleep(ms, undefined, { signal: context.signal });
        return { content: [{ type: 'text', text: `waited ${ms}` }] };
      },
    },
    { name: 'big', title: 'big', description: 'big', inputSchema: z.object({}).strict(), annotations: readOnly, handler: async () => ({ content: [{ type: 'text', text: 'x'.repeat(5000) }] }) },
    {
      name: 'broken',
      title: 'broken',
      description: 'fails unexpectedly',
      inputSchema: z.object({}).strict(),
      annotations: readOnly,
      handler: async () => {
        throw new TypeError('a bug');
      },
    },
    {
      name: 'refusing',
      title: 'refusing',
      description: 'answers a tool error',
      inputSchema: z.object({}).strict(),
      annotations: readOnly,
      handler: async () => {
        throw new ToolError('NOT_FOUND', 'Nothing there.', 'Look elsewhere.');
      },
    },
  ];
}

describe('tasks through the HTTP app in process (memory store): limits, TTL, size cap, ownership, settling', function () {
  this.timeout(30_000);
  const logger = createLogger({ component: 'test', level: 'error', format: 'json' });
  let server: Server;
  let url: string;
  let store: MemoryTaskStore;
  let clock = 0;
  const limits: TaskLimits = { ttlMs: 60_000, pollIntervalMs: 50, maxResultBytes: 2000, maxActivePerSubject: 1, maxStoredPerSubject: 4 };

  const bearer = async (subject: string) => ({
    authorization: `Bearer ${await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(subject).setIssuer('iss').setAudience('aud').setExpirationTime('5m').sign(new TextEncoder().encode(SECRET))}`,
  });
  const create = async (subject: string, name: string, args: Record<string, unknown>) => modernResult(url, 'tools/call', { name, arguments: args }, { tasks: true, headers: await bearer(subject) });

  before(async () => {
    const config = loadConfig(serverConfigSchema, { envPrefix: SERVER_ENV_PREFIX, env: {}, argv: ['--auth.mode=jwt', '--auth.issuer=iss', '--auth.audience=aud', '--auth.hs256-secret-file=/dev/null', '--auth.resource-url=http://127.0.0.1/mcp'] });
    store = new MemoryTaskStore({ now: () => Date.now() + clock });
    const env = { services: {}, logger, metrics: new ToolMetrics(), inFlight: new InFlightTracker(), defaultSubject: 'anonymous' };
    const setup: McpServerSetup<object> = {
      ...env,
      tools: tools(),
      catalog: { widgetCatalog: () => [], compositionJsonSchema: () => ({}) },
      tasks: new ToolTasks({ store, env, tools: new Map([['wait', 'optional'], ['big', 'optional'], ['broken', 'optional'], ['refusing', 'optional']]), limits, now: () => Date.now() + clock }),
    };
    const app = createHttpApp({
      config,
      logger,
      verifier: createBearerVerifier({ issuer: 'iss', audience: 'aud', hs256Secret: new TextEncoder().encode(SECRET), clockToleranceSeconds: 0 }),
      health: new HealthRegistry(),
      metricsHandler: (_req, res) => res.end(),
      requests: new InFlightTracker(),
      isShuttingDown: () => false,
      mcp: setup,
    });
    server = createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
  });

  after(async () => {
    server?.closeAllConnections();
    await new Promise<void>((resolve) => server?.close(() => resolve()));
  });

  it('answers a flat CreateTaskResult, shows progress as statusMessage, and inlines the result once completed', async () => {
    const handle = await create('alice', 'wait', { ms: 600 });
    expect(handle).to.include({ resultType: 'task', status: 'working', ttlMs: 60_000, pollIntervalMs: 50 });
    expect(handle).to.not.have.any.keys('task', 'result', 'error', 'requestState', 'ttl', 'pollInterval');
    expect(Number.isNaN(Date.parse(handle['createdAt'] as string))).to.equal(false);
    await sleep(200);
    const working = await modernResult(url, 'tasks/get', { taskId: handle['taskId'] }, { tasks: true, headers: await bearer('alice') });
    expect(working).to.include({ status: 'working', statusMessage: 'halfway there', resultType: 'complete' });
    expect(working).to.not.have.any.keys('result', 'error');
    const done = await awaitTask(url, handle['taskId'] as string, { headers: await bearer('alice') });
    expect(done).to.include({ status: 'completed', resultType: 'complete' });
    expect((done['result'] as { content: Array<{ text: string }> }).content[0]!.text).to.equal('waited 600');
    expect(JSON.stringify(done['result'])).to.not.include('related-task');
  });

  it('settles a tool error as completed with result.isError, and an internal failure as failed with an error object', async () => {
    const refused = await awaitTask(url, (await create('alice', 'refusing', {}))['taskId'] as string, { headers: await bearer('alice') });
    expect(refused['status']).to.equal('completed');
    expect((refused['result'] as { isError: boolean }).isError).to.equal(true);
    const broken = await awaitTask(url, (await create('alice', 'broken', {}))['taskId'] as string, { headers: await bearer('alice') });
    expect(broken['status']).to.equal('failed');
    expect(broken).to.not.have.property('result');
    expect((broken['error'] as { code: number; message: string }).code).to.equal(-32603);
    expect((broken['error'] as { message: string }).message).to.match(/reference/);
  });

  it('answers invalid arguments at once (INVALID_INPUT), without creating a task', async () => {
    const answer = await create('alice', 'wait', { ms: 'soon' });
    expect(answer['resultType']).to.equal('complete');
    expect(answer['isError']).to.equal(true);
    expect(JSON.stringify(answer)).to.include('INVALID_INPUT');
  });

  it('runs at most maxActivePerSubject tasks of one subject at once, and counts each subject apart', async () => {
    const first = await create('bob', 'wait', { ms: 1000 });
    expect(first['resultType']).to.equal('task');
    const second = await create('bob', 'wait', { ms: 10 });
    expect(second['isError']).to.equal(true);
    expect(JSON.stringify(second)).to.include('TASK_LIMIT_REACHED');
    const other = await create('carol', 'wait', { ms: 10 });
    expect(other['resultType']).to.equal('task');
    await awaitTask(url, first['taskId'] as string, { headers: await bearer('bob') });
  });

  it('keeps at most maxStoredPerSubject unexpired tasks per subject', async () => {
    for (let i = 0; i < 4; i++) await awaitTask(url, (await create('dave', 'wait', { ms: 1 }))['taskId'] as string, { headers: await bearer('dave') });
    const fifth = await create('dave', 'wait', { ms: 1 });
    expect(JSON.stringify(fifth)).to.include('TASK_LIMIT_REACHED').and.include('unexpired');
  });

  it('completes a result larger than maxResultBytes as a RESULT_TOO_LARGE tool error', async () => {
    const done = await awaitTask(url, (await create('erin', 'big', {}))['taskId'] as string, { headers: await bearer('erin') });
    expect(done['status']).to.equal('completed');
    expect(JSON.stringify(done['result'])).to.include('RESULT_TOO_LARGE');
  });

  it('lets only its subject see or cancel a task: to anyone else it is unknown (-32602)', async () => {
    const handle = await create('frank', 'wait', { ms: 2000 });
    const taskId = handle['taskId'] as string;
    for (const method of ['tasks/get', 'tasks/cancel']) {
      const answer = await modernRequest(url, method, { taskId }, { tasks: true, headers: await bearer('mallory') });
      expect(answer.message.error?.code, method).to.equal(-32602);
    }
    const cancelled = await modernResult(url, 'tasks/cancel', { taskId }, { tasks: true, headers: await bearer('frank') });
    expect(cancelled).to.deep.include({ resultType: 'complete' });
    expect(cancelled).to.not.have.any.keys('taskId', 'status', 'result', 'error');
    await sleep(200);
    const task = await modernResult(url, 'tasks/get', { taskId }, { tasks: true, headers: await bearer('frank') });
    expect(task['status']).to.equal('cancelled');
    const again = await modernResult(url, 'tasks/cancel', { taskId }, { tasks: true, headers: await bearer('frank') });
    expect(again['resultType'], 'cancel of a terminal task: the same empty ack').to.equal('complete');
  });

  it('refuses tasks/* without the extension (400 -32021), with a wrong Mcp-Name (400 -32020), and unknown ids (-32602); tasks/result and tasks/list do not exist', async () => {
    const handle = await create('gina', 'wait', { ms: 1 });
    const taskId = handle['taskId'] as string;
    const auth = await bearer('gina');
    const undeclared = await modernRequest(url, 'tasks/get', { taskId }, { headers: auth });
    expect(undeclared.status).to.equal(400);
    expect(undeclared.message.error?.code).to.equal(-32021);
    const wrongName = await modernRequest(url, 'tasks/get', { taskId }, { tasks: true, headers: { ...auth, 'mcp-name': 'another' } });
    expect(wrongName.status).to.equal(400);
    expect(wrongName.message.error?.code).to.equal(-32020);
    for (const id of ['no-such-task', '00000000-0000-4000-8000-000000000000']) {
      expect((await modernRequest(url, 'tasks/get', { taskId: id }, { tasks: true, headers: auth })).message.error?.code).to.equal(-32602);
    }
    for (const method of ['tasks/result', 'tasks/list']) {
      expect((await modernRequest(url, method, { taskId }, { tasks: true, headers: auth })).message.error?.code, method).to.equal(-32601);
    }
  });

  it('forgets a task once its TTL from creation has passed', async () => {
    const handle = await create('hank', 'wait', { ms: 1 });
    await awaitTask(url, handle['taskId'] as string, { headers: await bearer('hank') });
    clock += limits.ttlMs + 1;
    try {
      const answer = await modernRequest(url, 'tasks/get', { taskId: handle['taskId'] }, { tasks: true, headers: await bearer('hank') });
      expect(answer.message.error?.code).to.equal(-32602);
      expect(await store.sweep()).to.be.greaterThan(0);
    } finally {
      clock = 0;
    }
  });

  it('reports a working task whose runner stopped updating it (its replica went away) as failed', async () => {
    const now = Date.now();
    await store.create({ taskId: '11111111-2222-4333-8444-555555555555', subject: 'ivan', tool: 'wait', status: 'working', createdAt: now - 600_000, lastUpdatedAt: now - 600_000, ttlMs: 3_600_000, pollIntervalMs: 50, runner: 'gone/1' });
    const task = await modernResult(url, 'tasks/get', { taskId: '11111111-2222-4333-8444-555555555555' }, { tasks: true, headers: await bearer('ivan') });
    expect(task['status']).to.equal('failed');
    expect((task['error'] as { message: string }).message).to.match(/replica .* stopped/);
  });
});
