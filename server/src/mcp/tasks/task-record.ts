import type { CallToolResult } from '@modelcontextprotocol/server';
import { toolErrorOf } from '#server/tools/tool-definition.ts';

/** The extension identifier clients declare (in `_meta` client capabilities) and the server advertises. */
export const TASKS_EXTENSION = 'io.modelcontextprotocol/tasks';

/** Task states (SEP-2663). `completed` includes tool errors (`result.isError`); `failed` is a protocol-level failure. */
export type TaskStatus = 'working' | 'completed' | 'failed' | 'cancelled';

/** A protocol-level failure, in JSON-RPC error shape. */
export interface TaskError {
  code: number;
  message: string;
  data?: Record<string, unknown>;
}

/** One task as stored, where every replica can read it. */
export interface TaskRecord {
  taskId: string;
  /** Who created it: only the same subject can get or cancel it. */
  subject: string;
  tool: string;
  status: TaskStatus;
  statusMessage?: string | undefined;
  /** Epoch milliseconds. */
  createdAt: number;
  lastUpdatedAt: number;
  ttlMs: number;
  pollIntervalMs: number;
  /** Set by tasks/cancel on any replica; the replica running the task sees it and stops the work. */
  cancelRequested?: boolean | undefined;
  /** The tool's result, once `completed`. */
  result?: CallToolResult | undefined;
  /** The failure, once `failed`. */
  error?: TaskError | undefined;
  /** The replica running the task (for the log). */
  runner: string;
}

/** The wire fields every task shape shares (SEP-2663: `ttlMs`, `pollIntervalMs`, ISO timestamps). */
function taskFields(record: TaskRecord): Record<string, unknown> {
  return {
    taskId: record.taskId,
    status: record.status,
    ...(record.statusMessage ? { statusMessage: record.statusMessage } : {}),
    createdAt: new Date(record.createdAt).toISOString(),
    lastUpdatedAt: new Date(record.lastUpdatedAt).toISOString(),
    ttlMs: record.ttlMs,
    pollIntervalMs: record.pollIntervalMs,
  };
}

/** The `tools/call` answer that hands the client the task: a flat CreateTaskResult (`resultType: "task"`). */
export function createTaskResultOf(record: TaskRecord): CallToolResult {
  return { resultType: 'task', ...taskFields(record) } as unknown as CallToolResult;
}

/** The `tasks/get` answer (DetailedTask): the inlined result once completed, the error once failed. */
export function detailedTaskOf(record: TaskRecord): Record<string, unknown> {
  return {
    ...taskFields(record),
    ...(record.status === 'completed' && record.result ? { result: record.result } : {}),
    ...(record.status === 'failed' && record.error ? { error: record.error } : {}),
  };
}

/** True for a status that never changes again. */
export function isTerminal(status: TaskStatus): boolean {
  return status !== 'working';
}

/** True once the task's TTL (from its creation) has passed. */
export function isExpired(record: Pick<TaskRecord, 'createdAt' | 'ttlMs'>, now: number): boolean {
  return now >= record.createdAt + record.ttlMs;
}

/** How long a working task may go without an update before its runner is presumed gone. */
export const STALE_WORKING_AFTER_MS = 5 * 60_000;

/** True when a working task's runner has not updated it for STALE_WORKING_AFTER_MS (its replica stopped). */
export function isAbandoned(record: Pick<TaskRecord, 'status' | 'lastUpdatedAt'>, now: number): boolean {
  return record.status === 'working' && now - record.lastUpdatedAt > STALE_WORKING_AFTER_MS;
}

/**
 * How a finished tool call settles its task: an internal failure of the server (INTERNAL) is a protocol-level
 * failure (`failed`, with the error body as data); every other result, tool errors included, is `completed` with the
 * result inlined.
 */
export function settle(result: CallToolResult): Pick<TaskRecord, 'status' | 'result' | 'error'> {
  const error = toolErrorOf(result);
  if (error?.code === 'INTERNAL') return { status: 'failed', error: { code: -32603, message: error.message, data: { ...error } } };
  return { status: 'completed', result };
}
