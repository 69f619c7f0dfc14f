import { createHash } from 'node:crypto';
import { ApiException, CoreV1Api, type KubeConfig, type V1ConfigMap } from '@kubernetes/client-node';
import type { CallToolResult } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { Logger } from '#common/logger.ts';
import { isExpired, type TaskRecord } from './task-record.ts';
import type { TaskStore } from './task-store.ts';

/** Labels of every task ConfigMap. */
const PART_OF = { 'app.kubernetes.io/part-of': 'composer-mcp' } as const;
const RECORD_LABEL = 'composer-mcp.io/task';
const SUBJECT_LABEL = 'composer-mcp.io/task-subject';

/** The ConfigMap names of a task: its record, and its result (kept apart so listing records stays small). */
export function taskObjectNames(taskId: string): { record: string; result: string } {
  return { record: `composer-mcp-task-${taskId}`, result: `composer-mcp-task-${taskId}-result` };
}

/** The label value a subject's records carry (its SHA-256, 40 hex: any subject fits a label, none is readable). */
export function subjectLabel(subject: string): string {
  return createHash('sha256').update(subject).digest('hex').slice(0, 40);
}

const storedRecordSchema = z.object({
  taskId: z.string().min(1),
  subject: z.string(),
  tool: z.string(),
  status: z.enum(['working', 'completed', 'failed', 'cancelled']),
  statusMessage: z.string().optional(),
  createdAt: z.number(),
  lastUpdatedAt: z.number(),
  ttlMs: z.number().int().positive(),
  pollIntervalMs: z.number().int().positive(),
  cancelRequested: z.boolean().optional(),
  hasResult: z.boolean().optional(),
  error: z.object({ code: z.number().int(), message: z.string(), data: z.record(z.string(), z.unknown()).optional() }).optional(),
  runner: z.string(),
});

type StoredRecord = z.output<typeof storedRecordSchema>;

function statusOf(error: unknown): number | undefined {
  return error instanceof ApiException ? error.code : undefined;
}

/**
 * Task records shared by every replica: per task a small record ConfigMap (labels by subject, so counting a subject's
 * tasks lists only small objects) and, once it completed, a result ConfigMap owned by the record (the garbage collector
 * removes it with the record). Writes are conditioned on the resourceVersion read, so concurrent updates from two
 * replicas (a cancel and a completion) never lose one another; the sweep deletes expired tasks. Uses only the
 * ConfigMap verbs the chart's idempotency Role grants (create, get, list, update, delete).
 */
export class KubernetesTaskStore implements TaskStore {
  private readonly api: CoreV1Api;
  private readonly namespace: string;
  private readonly now: () => number;
  private readonly sweepIntervalMs: number;
  private readonly logger: Logger | undefined;
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<number> | undefined;

  constructor(options: { kubeConfig: KubeConfig; namespace: string; sweepIntervalMs?: number; logger?: Logger; now?: () => number }) {
    if (!options.namespace) throw new Error('The Kubernetes task store needs a namespace: set tasks.namespace or POD_NAMESPACE.');
    this.api = options.kubeConfig.makeApiClient(CoreV1Api);
    this.namespace = options.namespace;
    this.now = options.now ?? Date.now;
    this.sweepIntervalMs = options.sweepIntervalMs ?? 60_000;
    this.logger = options.logger;
  }

  async create(record: TaskRecord): Promise<void> {
    const { result, ...rest } = record;
    const created = await this.api.createNamespacedConfigMap({ namespace: this.namespace, body: this.recordBody({ ...rest, hasResult: false }) });
    if (result) await this.writeResult(record.taskId, result, created.metadata?.uid);
  }

  async get(taskId: string): Promise<TaskRecord | undefined> {
    const read = await this.readRecord(taskId);
    if (!read) return undefined;
    return this.withResult(read.record);
  }

  async update(taskId: string, change: (current: TaskRecord) => TaskRecord | undefined): Promise<TaskRecord | undefined> {
    for (let attempt = 0; attempt < 8; attempt++) {
      const read = await this.readRecord(taskId);
      if (!read) return undefined;
      const current = await this.withResult(read.record);
      const next = change(current);
      if (!next) return current;
      const { result, ...rest } = next;
      const hasResult = Boolean(result) || read.record.hasResult === true;
      if (result && !read.record.hasResult) await this.writeResult(taskId, result, read.uid);
      try {
        const body = this.recordBody({ ...rest, hasResult });
        await this.api.replaceNamespacedConfigMap({ name: taskObjectNames(taskId).record, namespace: this.namespace, body: { ...body, metadata: { ...body.metadata, resourceVersion: read.resourceVersion } } });
        return next;
      } catch (error) {
        if (statusOf(error) === 404) return undefined;
        if (statusOf(error) !== 409) throw error;
        // Another replica wrote in between: read again and re-apply the change.
      }
    }
    throw new Error(`task ${taskId}: gave up after repeated concurrent updates`);
  }

  async countBySubject(subject: string): Promise<number> {
    const now = this.now();
    let count = 0;
    let continueToken: string | undefined;
    do {
      const page = await this.api.listNamespacedConfigMap({
        namespace: this.namespace,
        labelSelector: `${RECORD_LABEL}=record,${SUBJECT_LABEL}=${subjectLabel(subject)}`,
        limit: 500,
        ...(continueToken ? { _continue: continueToken } : {}),
      });
      for (const cm of page.items) {
        const record = this.parse(cm);
        if (record && record.subject === subject && !isExpired(record, now)) count++;
      }
      continueToken = page.metadata?._continue || undefined;
    } while (continueToken);
    return count;
  }

  async sweep(): Promise<number> {
    this.sweeping ??= this.sweepOnce().finally(() => {
      this.sweeping = undefined;
    });
    return this.sweeping;
  }

  private async sweepOnce(): Promise<number> {
    const now = this.now();
    let deleted = 0;
    let continueToken: string | undefined;
    do {
      const page = await this.api.listNamespacedConfigMap({ namespace: this.namespace, labelSelector: `${RECORD_LABEL}=record`, limit: 500, ...(continueToken ? { _continue: continueToken } : {}) });
      for (const cm of page.items) {
        const record = this.parse(cm);
        // A record that does not parse (edited by hand, or from another version) is treated as expired after a day.
        const expired = record ? isExpired(record, now) : now - (cm.metadata?.creationTimestamp?.getTime() ?? now) > 86_400_000;
        if (!expired) continue;
        const taskId = cm.metadata?.labels?.['composer-mcp.io/task-id'] ?? record?.taskId;
        await this.deleteQuietly(cm.metadata?.name ?? '', cm.metadata?.resourceVersion);
        if (taskId) await this.deleteQuietly(taskObjectNames(taskId).result);
        deleted++;
      }
      continueToken = page.metadata?._continue || undefined;
    } while (continueToken);
    if (deleted > 0) this.logger?.info('Deleted expired tasks', { deleted, store: 'kubernetes', namespace: this.namespace });
    return deleted;
  }

  start(): void {
    if (this.timer || this.sweepIntervalMs <= 0) return;
    const run = () => {
      this.sweep().catch((error: unknown) => this.logger?.warn('Failed task sweep', { namespace: this.namespace, error: (error as Error).message }));
    };
    this.timer = setInterval(run, this.sweepIntervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.sweeping?.catch(() => undefined);
  }

  private async readRecord(taskId: string): Promise<{ record: StoredRecord; resourceVersion: string; uid: string | undefined } | undefined> {
    let cm: V1ConfigMap;
    try {
      cm = await this.api.readNamespacedConfigMap({ name: taskObjectNames(taskId).record, namespace: this.namespace });
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw error;
    }
    const record = this.parse(cm);
    if (!record || record.taskId !== taskId || isExpired(record, this.now())) return undefined;
    return { record, resourceVersion: cm.metadata?.resourceVersion ?? '', uid: cm.metadata?.uid };
  }

  private parse(cm: V1ConfigMap): StoredRecord | undefined {
    try {
      const parsed = storedRecordSchema.safeParse(JSON.parse(cm.data?.['record'] ?? ''));
      return parsed.success ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  }

  private async withResult(stored: StoredRecord): Promise<TaskRecord> {
    const { hasResult, ...record } = stored;
    if (!hasResult) return record;
    try {
      const cm = await this.api.readNamespacedConfigMap({ name: taskObjectNames(stored.taskId).result, namespace: this.namespace });
      return { ...record, result: JSON.parse(cm.data?.['result'] ?? 'null') as CallToolResult };
    } catch (error) {
      if (statusOf(error) !== 404) throw error;
      return record;
    }
  }

  private async writeResult(taskId: string, result: CallToolResult, ownerUid: string | undefined): Promise<void> {
    const names = taskObjectNames(taskId);
    const body: V1ConfigMap = {
      metadata: {
        name: names.result,
        namespace: this.namespace,
        labels: { ...PART_OF, [RECORD_LABEL]: 'result', 'composer-mcp.io/task-id': taskId },
        ...(ownerUid ? { ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: names.record, uid: ownerUid }] } : {}),
      },
      data: { result: JSON.stringify(result) },
    };
    try {
      await this.api.createNamespacedConfigMap({ namespace: this.namespace, body });
    } catch (error) {
      if (statusOf(error) !== 409) throw error;
      await this.api.replaceNamespacedConfigMap({ name: names.result, namespace: this.namespace, body });
    }
  }

  private recordBody(record: StoredRecord): V1ConfigMap {
    return {
      metadata: {
        name: taskObjectNames(record.taskId).record,
        namespace: this.namespace,
        labels: { ...PART_OF, [RECORD_LABEL]: 'record', [SUBJECT_LABEL]: subjectLabel(record.subject), 'composer-mcp.io/task-id': record.taskId },
      },
      data: { record: JSON.stringify(record) },
    };
  }

  private async deleteQuietly(name: string, resourceVersion?: string): Promise<void> {
    if (!name) return;
    try {
      await this.api.deleteNamespacedConfigMap({ name, namespace: this.namespace, ...(resourceVersion ? { body: { preconditions: { resourceVersion } } } : {}) });
    } catch (error) {
      if (statusOf(error) !== 404 && statusOf(error) !== 409) throw error;
    }
  }
}
