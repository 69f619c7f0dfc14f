import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { MissingRequiredClientCapabilityError, ProtocolError, ProtocolErrorCode, type CallToolResult, type McpServer, type ServerContext } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { ToolError, toolErrorResult, type ToolDefinition } from '#server/tools/tool-definition.ts';
import { declaresTasksExtension, type TaskRunner } from '../create-mcp-server.ts';
import { runToolCall, subjectOf, type CallContext, type ToolCallEnvironment } from '../tool-call.ts';
import type { ParsedToolInput } from '../tool-contract.ts';
import { createTaskResultOf, detailedTaskOf, isAbandoned, isTerminal, settle, TASKS_EXTENSION, type TaskRecord } from './task-record.ts';
import type { TaskStore } from './task-store.ts';

/** How a tool may run as a task: `optional` (when the client declares the extension) or `required` (only as one). */
export type TaskSupport = 'optional' | 'required';

/** Limits and timings of tasks (from the `tasks` settings). */
export interface TaskLimits {
  ttlMs: number;
  pollIntervalMs: number;
  maxResultBytes: number;
  maxActivePerSubject: number;
  maxStoredPerSubject: number;
}

/** What ToolTasks is built from. */
export interface ToolTasksOptions<Services> {
  store: TaskStore;
  env: ToolCallEnvironment<Services>;
  /** The tools that run as tasks, and how. */
  tools: ReadonlyMap<string, TaskSupport>;
  limits: TaskLimits;
  /** Name of this replica in task records (default: host name and pid). */
  runner?: string;
  now?: () => number;
}

/** Task ids are random UUIDs; anything else is unknown without asking the store. */
const TASK_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const taskParams = z.object({ taskId: z.string(), _meta: z.record(z.string(), z.unknown()).optional() }).passthrough();

/** How often a running task refreshes `lastUpdatedAt` without progress (so other replicas see its runner alive). */
const HEARTBEAT_MS = 30_000;
/** Least time between two progress writes of one task. */
const PROGRESS_WRITE_MS = 2_000;

function unknownTask(taskId: string): ProtocolError {
  return new ProtocolError(ProtocolErrorCode.InvalidParams, `Unknown task "${taskId}": it never existed, expired, or belongs to another caller.`);
}

function taskLimitResult(message: string): CallToolResult {
  return toolErrorResult(new ToolError('TASK_LIMIT_REACHED', message, 'Wait for running tasks to finish (tasks/get) or for old ones to expire, or call the tool without the tasks extension.'));
}

/**
 * Long tools as tasks (MCP 2026-07-28 `io.modelcontextprotocol/tasks`): for a client that declares the extension, a
 * call of one of `tools` answers a task handle at once and runs on in this process through the same tool layer as
 * every call (runToolCall: validation, audit, metrics, lease, redaction); its state lives in the shared `store`, so
 * `tasks/get` and `tasks/cancel` answer on any replica (a cancel made elsewhere reaches the running replica within one
 * poll interval). Bounded: a TTL from creation, a result size cap, running tasks per subject on a replica and stored
 * tasks per subject. Tasks belong to their subject: another caller gets "unknown task".
 */
export class ToolTasks<Services> implements TaskRunner<Services> {
  readonly toolNames: ReadonlySet<string>;
  private readonly options: ToolTasksOptions<Services>;
  private readonly now: () => number;
  private readonly runner: string;
  /** Tasks running here: their abort controllers, and running counts per subject. */
  private readonly running = new Map<string, AbortController>();
  private readonly activeBySubject = new Map<string, number>();

  constructor(options: ToolTasksOptions<Services>) {
    this.options = options;
    this.toolNames = new Set(options.tools.keys());
    this.now = options.now ?? Date.now;
    this.runner = options.runner ?? `${hostname()}/${process.pid}`;
  }

  /** Names of tools that may only run as tasks (a 2026-07-28 call without the extension is refused with -32021). */
  get requiredToolNames(): ReadonlySet<string> {
    return new Set([...this.options.tools].filter(([, support]) => support === 'required').map(([name]) => name));
  }

  /** Tasks running in this process. */
  get runningCount(): number {
    return this.running.size;
  }

  register(server: McpServer): void {
    server.server.registerCapabilities({ extensions: { [TASKS_EXTENSION]: {} } });
    server.server.setRequestHandler('tasks/get', { params: taskParams }, async (params, ctx) => {
      const record = await this.ownTask(params.taskId, ctx);
      return detailedTaskOf(await this.failIfAbandoned(record));
    });
    // No task of this server ever waits for input (input_required): tasks/update has nothing to resume.
    server.server.setRequestHandler('tasks/update', { params: taskParams }, async (params, ctx) => {
      const record = await this.ownTask(params.taskId, ctx);
      throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Task "${record.taskId}" is not waiting for input (status ${record.status}); this server's tasks never ask for any.`);
    });
    server.server.setRequestHandler('tasks/cancel', { params: taskParams }, async (params, ctx) => {
      const record = await this.ownTask(params.taskId, ctx);
      if (!isTerminal(record.status)) await this.cancel(record.taskId, 'cancelled by tasks/cancel');
      return {};
    });
  }

  async start(tool: ToolDefinition<Services>, input: ParsedToolInput, ctx: ServerContext, caller: string | undefined): Promise<CallToolResult> {
    const { env, limits } = this.options;
    const subject = subjectOf({ authSubject: ctx.http?.authInfo?.clientId }, env.defaultSubject);
    // Arguments that do not parse never become a task: the call answers INVALID_INPUT at once, audited as usual.
    if (!input.valid) return runToolCall(tool, input, { requestId: ctx.mcpReq.id, signal: ctx.mcpReq.signal, notify: async () => {}, authSubject: ctx.http?.authInfo?.clientId, caller, era: 'modern' }, env);
    if ((this.activeBySubject.get(subject) ?? 0) >= limits.maxActivePerSubject) {
      env.logger.info('Refused task', { tool: tool.name, subject, reason: 'running-limit' });
      return taskLimitResult(`${limits.maxActivePerSubject} tasks of yours are already running on this server; that is the most one caller may run at once.`);
    }
    if ((await this.options.store.countBySubject(subject)) >= limits.maxStoredPerSubject) {
      env.logger.info('Refused task', { tool: tool.name, subject, reason: 'stored-limit' });
      return taskLimitResult(`You have ${limits.maxStoredPerSubject} unexpired tasks, the most one caller may keep; each expires ${Math.round(limits.ttlMs / 1000)} s after it was created.`);
    }
    const now = this.now();
    const record: TaskRecord = { taskId: randomUUID(), subject, tool: tool.name, status: 'working', createdAt: now, lastUpdatedAt: now, ttlMs: limits.ttlMs, pollIntervalMs: limits.pollIntervalMs, runner: this.runner };
    // Durable before the handle is answered: a tasks/get right after, on any replica, finds it.
    await this.options.store.create(record);
    env.logger.info('Created task', { taskId: record.taskId, tool: tool.name, subject });
    void this.run(record, tool, input, ctx.http?.authInfo?.clientId);
    return createTaskResultOf(record);
  }

  /** Runs the call detached from its request, and settles the task from its result. Never rejects. */
  private async run(record: TaskRecord, tool: ToolDefinition<Services>, input: ParsedToolInput, authSubject: string | undefined): Promise<void> {
    const { env, store, limits } = this.options;
    const controller = new AbortController();
    this.running.set(record.taskId, controller);
    this.activeBySubject.set(record.subject, (this.activeBySubject.get(record.subject) ?? 0) + 1);
    let lastWrite = this.now();
    let lastProgressWrite = 0;
    let writing: Promise<unknown> = Promise.resolve();
    const write = (change: (current: TaskRecord) => TaskRecord | undefined): void => {
      lastWrite = this.now();
      writing = writing.then(() => store.update(record.taskId, change)).catch((error: unknown) => env.logger.warn('Failed task update', { taskId: record.taskId, error: (error as Error).message }));
    };
    // Watches the store for a cancel made on another replica, and keeps the record fresh (the runner is alive).
    const check = async (): Promise<void> => {
      try {
        const current = await store.get(record.taskId);
        if (!current || current.cancelRequested || current.status === 'cancelled') controller.abort(new DOMException('The task was cancelled.', 'AbortError'));
        else if (this.now() - lastWrite > HEARTBEAT_MS) write((c) => (c.status === 'working' ? { ...c, lastUpdatedAt: this.now() } : undefined));
      } catch (error) {
        env.logger.warn('Failed task check', { taskId: record.taskId, error: (error as Error).message });
      }
    };
    const watch = setInterval(() => void check(), limits.pollIntervalMs);
    watch.unref();
    const call: CallContext = {
      requestId: `task:${record.taskId}`,
      signal: controller.signal,
      // Progress of a task goes to its statusMessage (tasks/get shows it), at most every PROGRESS_WRITE_MS.
      progressToken: record.taskId,
      notify: async (notification) => {
        const message = notification.params['message'];
        if (typeof message !== 'string' || this.now() - lastProgressWrite < PROGRESS_WRITE_MS) return;
        lastProgressWrite = this.now();
        write((c) => (c.status === 'working' ? { ...c, statusMessage: message.slice(0, 500), lastUpdatedAt: this.now() } : undefined));
      },
      authSubject,
      era: 'modern',
    };
    try {
      const result = await runToolCall(tool, input, call, env);
      const cancelled = controller.signal.aborted;
      const shutDown = !cancelled && env.shutdownSignal?.aborted === true;
      const settlement = cancelled ? undefined : shutDown ? { status: 'failed' as const, error: { code: -32603, message: 'The server shut down before the task finished; call the tool again.' } } : this.bounded(settle(result));
      await writing;
      await store.update(record.taskId, (current) => {
        if (current.status !== 'working') return undefined; // cancelled (or failed as abandoned) meanwhile: that stands
        if (!settlement) return { ...current, status: 'cancelled', lastUpdatedAt: this.now() };
        return { ...current, ...settlement, lastUpdatedAt: this.now() };
      });
      env.logger.info('Finished task', { taskId: record.taskId, tool: tool.name, status: settlement?.status ?? 'cancelled' });
    } catch (error) {
      env.logger.error('Failed to settle task', { taskId: record.taskId, error });
    } finally {
      clearInterval(watch);
      this.running.delete(record.taskId);
      const active = (this.activeBySubject.get(record.subject) ?? 1) - 1;
      if (active > 0) this.activeBySubject.set(record.subject, active);
      else this.activeBySubject.delete(record.subject);
    }
  }

  /** A settlement whose result is too large to keep becomes a RESULT_TOO_LARGE tool error. */
  private bounded(settlement: ReturnType<typeof settle>): ReturnType<typeof settle> {
    if (!settlement.result) return settlement;
    const bytes = Buffer.byteLength(JSON.stringify(settlement.result));
    if (bytes <= this.options.limits.maxResultBytes) return settlement;
    return {
      status: 'completed',
      result: toolErrorResult(
        new ToolError('RESULT_TOO_LARGE', `The result is ${bytes} bytes, more than the ${this.options.limits.maxResultBytes} bytes a task keeps.`, 'Call the tool again without the tasks extension to receive the result directly, or ask for less (e.g. fullPage false).'),
      ),
    };
  }

  /** Cancels a task: marks it cancelled in the store (every replica sees it) and stops it here when it runs here. */
  private async cancel(taskId: string, reason: string): Promise<void> {
    await this.options.store.update(taskId, (current) => (current.status === 'working' ? { ...current, status: 'cancelled', cancelRequested: true, lastUpdatedAt: this.now() } : undefined));
    this.running.get(taskId)?.abort(new DOMException(reason, 'AbortError'));
  }

  /** The caller's task (refusing a client that did not declare the extension), or "unknown task". */
  private async ownTask(taskId: string, ctx: ServerContext): Promise<TaskRecord> {
    if (!declaresTasksExtension(ctx.mcpReq.envelope)) throw new MissingRequiredClientCapabilityError({ requiredCapabilities: { extensions: { [TASKS_EXTENSION]: {} } } });
    if (!TASK_ID.test(taskId)) throw unknownTask(taskId);
    const record = await this.options.store.get(taskId);
    const subject = subjectOf({ authSubject: ctx.http?.authInfo?.clientId }, this.options.env.defaultSubject);
    if (!record || record.subject !== subject) throw unknownTask(taskId);
    return record;
  }

  /** A working task whose runner stopped updating it (its replica went away) is reported failed, once. */
  private async failIfAbandoned(record: TaskRecord): Promise<TaskRecord> {
    if (!isAbandoned(record, this.now()) || this.running.has(record.taskId)) return record;
    const failed = await this.options.store.update(record.taskId, (current) =>
      isAbandoned(current, this.now()) ? { ...current, status: 'failed', error: { code: -32603, message: 'The server replica running this task stopped before it finished; call the tool again.' }, lastUpdatedAt: this.now() } : undefined,
    );
    return failed ?? record;
  }
}
