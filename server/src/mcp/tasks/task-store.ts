import type { TaskRecord } from './task-record.ts';

/**
 * Where task records live. Every replica must reach the same store (the Kubernetes store) unless the server runs alone
 * (the memory store, local mode). Records are bounded: each expires with its TTL, and the per-subject count is checked
 * before a task is created.
 */
export interface TaskStore {
  /** Stores a new record; resolves once a `get` on any replica would find it. */
  create(record: TaskRecord): Promise<void>;
  /** The record, or undefined when unknown or expired. */
  get(taskId: string): Promise<TaskRecord | undefined>;
  /**
   * Applies `change` to the current record and stores what it returns (undefined: nothing to write), retrying on a
   * concurrent write. Resolves the stored record, or undefined when the task is unknown or expired.
   */
  update(taskId: string, change: (current: TaskRecord) => TaskRecord | undefined): Promise<TaskRecord | undefined>;
  /** Unexpired tasks of a subject. */
  countBySubject(subject: string): Promise<number>;
  /** Deletes expired records; resolves how many. */
  sweep(): Promise<number>;
  /** Starts the periodic sweep. */
  start(): void;
  /** Stops it. */
  stop(): Promise<void>;
}
