import type { Logger } from '#common/logger.ts';
import { isExpired, type TaskRecord } from './task-record.ts';
import type { TaskStore } from './task-store.ts';

/**
 * Task records in this process (local mode: one replica). Copies go in and out, as with a real store, so nothing a
 * caller holds changes a stored record behind the store's back.
 */
export class MemoryTaskStore implements TaskStore {
  private readonly records = new Map<string, TaskRecord>();
  private readonly now: () => number;
  private readonly sweepIntervalMs: number;
  private readonly logger: Logger | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(options: { now?: () => number; sweepIntervalMs?: number; logger?: Logger } = {}) {
    this.now = options.now ?? Date.now;
    this.sweepIntervalMs = options.sweepIntervalMs ?? 60_000;
    this.logger = options.logger;
  }

  async create(record: TaskRecord): Promise<void> {
    if (this.records.has(record.taskId)) throw new Error(`task ${record.taskId} exists`);
    this.records.set(record.taskId, structuredClone(record));
  }

  async get(taskId: string): Promise<TaskRecord | undefined> {
    const record = this.records.get(taskId);
    if (!record) return undefined;
    if (isExpired(record, this.now())) {
      this.records.delete(taskId);
      return undefined;
    }
    return structuredClone(record);
  }

  async update(taskId: string, change: (current: TaskRecord) => TaskRecord | undefined): Promise<TaskRecord | undefined> {
    const current = await this.get(taskId);
    if (!current) return undefined;
    const next = change(current);
    if (!next) return current;
    this.records.set(taskId, structuredClone(next));
    return structuredClone(next);
  }

  async countBySubject(subject: string): Promise<number> {
    const now = this.now();
    let n = 0;
    for (const record of this.records.values()) if (record.subject === subject && !isExpired(record, now)) n++;
    return n;
  }

  async sweep(): Promise<number> {
    const now = this.now();
    let deleted = 0;
    for (const [taskId, record] of this.records) {
      if (isExpired(record, now)) {
        this.records.delete(taskId);
        deleted++;
      }
    }
    if (deleted > 0) this.logger?.info('Deleted expired tasks', { deleted, store: 'memory' });
    return deleted;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.sweep(), this.sweepIntervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Records held now (tests). */
  get size(): number {
    return this.records.size;
  }
}
