import { createHash } from 'node:crypto';
import { ApiException, CoreV1Api, type KubeConfig, type V1ConfigMap } from '@kubernetes/client-node';
import type { Logger } from '#common/logger.ts';
import { decideClaim, expiredObjects, type ClaimObject } from './claim-decision.ts';
import { DEFAULT_MAX_IDEMPOTENCY_RECORDS, IdempotencyStoreFullError, type ClaimOutcome, type IdempotencyRecord, type IdempotencyStore, type UnknownOutcome } from './idempotency-store.ts';

/** Labels every idempotency ConfigMap carries (the sweep lists by them). */
export const IDEMPOTENCY_LABELS = { 'app.kubernetes.io/part-of': 'composer-mcp', 'composer-mcp.io/idempotency': 'save' } as const;
const LABEL_SELECTOR = Object.entries(IDEMPOTENCY_LABELS).map(([k, v]) => `${k}=${v}`).join(',');

/** The ConfigMap name of a scoped idempotency key: `composer-mcp-save-` + the first 40 hex of its SHA-256. */
export function idempotencyObjectName(key: string): string {
  return `composer-mcp-save-${createHash('sha256').update(key).digest('hex').slice(0, 40)}`;
}

/** Tuning of the Kubernetes idempotency store. */
export interface KubernetesIdempotencyStoreOptions {
  kubeConfig: KubeConfig;
  /** Namespace the ConfigMaps live in (the server's own). */
  namespace: string;
  /** A claim without a uid older than this is abandoned and may be taken over (see staleClaimAfterMs). */
  staleAfterMs: number;
  /** Records older than this are deleted by the sweep (default 24 h). */
  ttlMs?: number;
  /** Time between sweeps (default 10 min); 0 disables the periodic sweep. */
  sweepIntervalMs?: number;
  /** Most objects one sweep deletes (default 200), so a sweep is bounded work. */
  sweepMaxDeletes?: number;
  /**
   * Most records (ConfigMaps) in the namespace (default 10 000): a claim of a new key beyond it is refused with
   * IdempotencyStoreFullError. Counted by listing (at start, at each sweep, and when a claim finds the count at the
   * cap and older than `recountAfterMs`) and kept current by this process's own creates and deletes; other
   * replicas' creates show at the next count, so the namespace's ConfigMap quota stays the hard bound.
   */
  maxRecords?: number;
  /** How old a count at the cap may be before a claim counts again (default 10 s). */
  recountAfterMs?: number;
  logger?: Logger;
  /** Clock (tests). */
  now?: () => number;
}

function statusOf(error: unknown): number | undefined {
  return error instanceof ApiException ? error.code : undefined;
}

/** True for the API server's refusal of a create by a ResourceQuota ("exceeded quota"), not another 403. */
export function isQuotaRefusal(error: unknown): boolean {
  if (statusOf(error) !== 403) return false;
  const body = (error as ApiException<unknown>).body;
  return /exceeded quota/i.test(typeof body === 'string' ? body : JSON.stringify(body ?? ''));
}

function toClaimObject(cm: V1ConfigMap): ClaimObject {
  const data = cm.data ?? {};
  return { uid: data['uid'] || undefined, contentKey: data['contentKey'] ?? '', createdAt: data['createdAt'] ?? '', outcome: data['outcome'], unknownSince: data['unknownSince'], fileName: data['fileName'], resourceVersion: cm.metadata?.resourceVersion ?? '' };
}

/**
 * An IdempotencyStore shared by every replica: one ConfigMap per key in the server's namespace (data uid,
 * contentKey, createdAt; outcome=unknown, unknownSince, fileName when an upload got no answer). `claim` creates the
 * object without a uid (create-if-absent: 409 means someone else holds it), `set` writes the uid into the claim,
 * `release` deletes a claim this process holds, `markUnknown` marks it. A claim whose claimer died (older than the
 * stale age) is an unknown outcome too; only a save with `retryUnknown` takes such a key over, with an update
 * conditioned on its resourceVersion, so exactly one process uploads per key and nobody repeats an upload that may
 * have been stored. `start()` runs the expiry sweep periodically; `stop()` ends it.
 */
export class KubernetesIdempotencyStore implements IdempotencyStore {
  private readonly api: CoreV1Api;
  private readonly namespace: string;
  private readonly staleAfterMs: number;
  private readonly ttlMs: number;
  private readonly sweepIntervalMs: number;
  private readonly sweepMaxDeletes: number;
  private readonly logger: Logger | undefined;
  private readonly now: () => number;
  /** resourceVersion of the claims this process holds, by key. */
  private readonly held = new Map<string, string>();
  private readonly maxRecords: number;
  private readonly recountAfterMs: number;
  /** Records in the namespace: the last count plus this process's creates, minus its deletes since. */
  private estimate: number | undefined;
  private countedAt = Number.NEGATIVE_INFINITY;
  private counting: Promise<number> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<number> | undefined;

  constructor(options: KubernetesIdempotencyStoreOptions) {
    if (!options.namespace) throw new Error('The Kubernetes idempotency store needs a namespace: set composer.idempotency.namespace or POD_NAMESPACE.');
    this.api = options.kubeConfig.makeApiClient(CoreV1Api);
    this.namespace = options.namespace;
    this.staleAfterMs = options.staleAfterMs;
    this.ttlMs = options.ttlMs ?? 24 * 3_600_000;
    this.sweepIntervalMs = options.sweepIntervalMs ?? 600_000;
    this.sweepMaxDeletes = options.sweepMaxDeletes ?? 200;
    this.logger = options.logger;
    this.now = options.now ?? Date.now;
    this.maxRecords = options.maxRecords ?? DEFAULT_MAX_IDEMPOTENCY_RECORDS;
    this.recountAfterMs = options.recountAfterMs ?? 10_000;
  }

  /** The most records kept. */
  get limit(): number {
    return this.maxRecords;
  }

  /** The record of `key` when its save is done, else undefined (no object, or a claim still without a uid). */
  async get(key: string): Promise<IdempotencyRecord | undefined> {
    const cm = await this.read(key);
    const uid = cm?.data?.['uid'];
    return cm && uid ? { uid, contentKey: cm.data?.['contentKey'] ?? '' } : undefined;
  }

  /**
   * Claims `key` (see IdempotencyStore.claim): create-if-absent, else decide on the existing object. At the cap (or
   * the namespace's quota) a key that has a record is still answered from it; a new key is refused with
   * IdempotencyStoreFullError, before anything is uploaded.
   */
  async claim(key: string, contentKey: string, options: { retryUnknown?: boolean } = {}): Promise<ClaimOutcome> {
    const name = idempotencyObjectName(key);
    if (await this.atCap()) {
      const existing = await this.read(key);
      if (!existing) throw this.full('cap');
      return this.decideOn(key, name, existing, contentKey, options);
    }
    try {
      const created = await this.api.createNamespacedConfigMap({ namespace: this.namespace, body: this.body(name, contentKey) });
      this.held.set(key, created.metadata?.resourceVersion ?? '');
      this.counted(+1);
      return { kind: 'claimed' };
    } catch (error) {
      if (isQuotaRefusal(error)) {
        const existing = await this.read(key);
        if (!existing) throw this.full('quota', error);
        return this.decideOn(key, name, existing, contentKey, options);
      }
      if (statusOf(error) !== 409) throw error;
    }
    const existing = await this.read(key);
    if (!existing) return { kind: 'in-progress', contentKey }; // released or expired between create and read: ask again
    return this.decideOn(key, name, existing, contentKey, options);
  }

  /** What a claim of `key` answers when its object exists: done, wait, unknown, or a takeover of an unknown outcome. */
  private async decideOn(key: string, name: string, existing: V1ConfigMap, contentKey: string, options: { retryUnknown?: boolean }): Promise<ClaimOutcome> {
    const decision = decideClaim(toClaimObject(existing), this.now(), this.staleAfterMs, options.retryUnknown === true);
    if (decision.action === 'done') return { kind: 'done', record: { uid: decision.uid, contentKey: decision.contentKey } };
    if (decision.action === 'wait') return { kind: 'in-progress', contentKey: decision.contentKey };
    if (decision.action === 'unknown') return { kind: 'unknown', unknown: { contentKey: decision.contentKey, since: decision.since, fileName: decision.fileName } };
    try {
      const body = { ...this.body(name, contentKey), metadata: { ...this.body(name, contentKey).metadata, resourceVersion: decision.resourceVersion } };
      const replaced = await this.api.replaceNamespacedConfigMap({ name, namespace: this.namespace, body });
      this.held.set(key, replaced.metadata?.resourceVersion ?? '');
      this.logger?.warn('Took over an idempotency key whose upload outcome was unknown (the caller confirmed it was not stored)', { namespace: this.namespace, name });
      return { kind: 'claimed' };
    } catch (error) {
      if (statusOf(error) === 409 || statusOf(error) === 404) return { kind: 'in-progress', contentKey }; // another replica won the takeover
      throw error;
    }
  }

  /** Writes the uid: into the claim this process holds (conditioned on its resourceVersion), else creates or overwrites the record. */
  async set(key: string, record: IdempotencyRecord): Promise<void> {
    const name = idempotencyObjectName(key);
    const resourceVersion = this.held.get(key);
    this.held.delete(key);
    const body = this.body(name, record.contentKey, record.uid);
    if (resourceVersion !== undefined) {
      try {
        await this.api.replaceNamespacedConfigMap({ name, namespace: this.namespace, body: { ...body, metadata: { ...body.metadata, resourceVersion } } });
        return;
      } catch (error) {
        if (statusOf(error) !== 409 && statusOf(error) !== 404) throw error;
        // Our claim was taken over (we were too slow) or expired: the save happened, so record it if nobody else did.
        this.logger?.warn('Lost idempotency claim before writing the uid', { namespace: this.namespace, name, status: statusOf(error) });
      }
    }
    try {
      await this.api.createNamespacedConfigMap({ namespace: this.namespace, body });
      this.counted(+1);
    } catch (error) {
      if (statusOf(error) !== 409) throw error;
      const existing = await this.read(key);
      if (existing?.data?.['uid']) return; // the first uid stays the answer
      await this.api.replaceNamespacedConfigMap({ name, namespace: this.namespace, body: { ...body, metadata: { ...body.metadata, resourceVersion: existing?.metadata?.resourceVersion } } });
    }
  }

  /**
   * Marks the claim this process holds for `key` as an unknown outcome (conditioned on its resourceVersion); when
   * the claim was lost meanwhile, creates or overwrites the object unless it already carries a uid.
   */
  async markUnknown(key: string, unknown: UnknownOutcome): Promise<void> {
    const name = idempotencyObjectName(key);
    const resourceVersion = this.held.get(key);
    this.held.delete(key);
    const base = this.body(name, unknown.contentKey);
    const body: V1ConfigMap = { ...base, data: { ...base.data, outcome: 'unknown', unknownSince: unknown.since, fileName: unknown.fileName } };
    if (resourceVersion !== undefined) {
      try {
        await this.api.replaceNamespacedConfigMap({ name, namespace: this.namespace, body: { ...body, metadata: { ...body.metadata, resourceVersion } } });
        return;
      } catch (error) {
        if (statusOf(error) !== 409 && statusOf(error) !== 404) throw error;
        this.logger?.warn('Lost idempotency claim before marking its outcome unknown', { namespace: this.namespace, name, status: statusOf(error) });
      }
    }
    try {
      await this.api.createNamespacedConfigMap({ namespace: this.namespace, body });
      this.counted(+1);
    } catch (error) {
      if (statusOf(error) !== 409) throw error;
      const existing = await this.read(key);
      if (existing?.data?.['uid']) return;
      await this.api.replaceNamespacedConfigMap({ name, namespace: this.namespace, body: { ...body, metadata: { ...body.metadata, resourceVersion: existing?.metadata?.resourceVersion } } });
    }
  }

  /** Deletes the claim this process holds for `key` (only that version: a takeover by another replica is left alone). */
  async release(key: string): Promise<void> {
    const resourceVersion = this.held.get(key);
    this.held.delete(key);
    if (resourceVersion === undefined) return;
    try {
      await this.api.deleteNamespacedConfigMap({ name: idempotencyObjectName(key), namespace: this.namespace, body: { preconditions: { resourceVersion } } });
      this.counted(-1);
    } catch (error) {
      if (statusOf(error) !== 404 && statusOf(error) !== 409) throw error;
    }
  }

  /**
   * Records in the namespace now: lists them by label, a page of 500 at a time (the count claims compare to the cap).
   * Claims that need a count at the same moment share one listing.
   */
  countRecords(): Promise<number> {
    this.counting ??= this.listAndCount().finally(() => {
      this.counting = undefined;
    });
    return this.counting;
  }

  private async listAndCount(): Promise<number> {
    let total = 0;
    let continueToken: string | undefined;
    do {
      const page = await this.api.listNamespacedConfigMap({ namespace: this.namespace, labelSelector: LABEL_SELECTOR, limit: 500, ...(continueToken ? { _continue: continueToken } : {}) });
      total += page.items.length;
      continueToken = page.metadata?._continue || undefined;
    } while (continueToken);
    this.estimate = total;
    this.countedAt = this.now();
    return total;
  }

  /** True when a new key would exceed the cap: by the estimate, counted again when unknown or stale at the cap. */
  private async atCap(): Promise<boolean> {
    if (this.estimate === undefined || (this.estimate >= this.maxRecords && this.now() - this.countedAt >= this.recountAfterMs)) await this.countRecords();
    return (this.estimate ?? 0) >= this.maxRecords;
  }

  private counted(change: number): void {
    if (this.estimate !== undefined) this.estimate = Math.max(0, this.estimate + change);
  }

  private full(reason: 'cap' | 'quota', cause?: unknown): IdempotencyStoreFullError {
    this.logger?.warn('Refused a save with a new idempotency key: the store is full', { namespace: this.namespace, reason, records: this.estimate, maxRecords: this.maxRecords });
    return new IdempotencyStoreFullError({ store: 'kubernetes', reason, namespace: this.namespace, ...(reason === 'cap' ? { limit: this.maxRecords, held: this.estimate } : {}), cause });
  }

  /**
   * Deletes records older than the TTL: lists by label a page at a time and deletes at most `sweepMaxDeletes`
   * (each conditioned on the listed resourceVersion). Resolves the number deleted.
   */
  async sweep(): Promise<number> {
    this.sweeping ??= this.sweepOnce().finally(() => {
      this.sweeping = undefined;
    });
    return this.sweeping;
  }

  /**
   * One sweep: lists every record (counting them for the cap) and deletes at most `sweepMaxDeletes` expired ones.
   * A record without a uid (a save still uploading past the TTL, or one whose outcome is unknown) is deleted like
   * the others — after the TTL a retry uploads again (ADR 5) — but never silently: each sweep that expires some
   * says how many and names a few.
   */
  private async sweepOnce(): Promise<number> {
    let deleted = 0;
    let listed = 0;
    const unsettled: string[] = [];
    let continueToken: string | undefined;
    do {
      const page = await this.api.listNamespacedConfigMap({ namespace: this.namespace, labelSelector: LABEL_SELECTOR, limit: 500, ...(continueToken ? { _continue: continueToken } : {}) });
      listed += page.items.length;
      const candidates = page.items.map((cm) => ({ name: cm.metadata?.name ?? '', createdAt: cm.data?.['createdAt'], resourceVersion: cm.metadata?.resourceVersion ?? '', settled: Boolean(cm.data?.['uid']) }));
      for (const item of expiredObjects(candidates, this.now(), this.ttlMs, this.sweepMaxDeletes - deleted)) {
        try {
          await this.api.deleteNamespacedConfigMap({ name: item.name, namespace: this.namespace, body: { preconditions: { resourceVersion: item.resourceVersion } } });
          deleted += 1;
          if (!item.settled) unsettled.push(item.name);
        } catch (error) {
          if (statusOf(error) !== 404 && statusOf(error) !== 409) throw error;
        }
      }
      continueToken = page.metadata?._continue || undefined;
    } while (continueToken);
    this.estimate = Math.max(0, listed - deleted);
    this.countedAt = this.now();
    if (deleted > 0) this.logger?.info('Deleted expired idempotency records', { namespace: this.namespace, deleted, records: this.estimate });
    if (unsettled.length > 0) {
      this.logger?.warn('Expired idempotency keys whose save was never settled (still uploading or outcome unknown): a save with such a key uploads again', { namespace: this.namespace, expired: unsettled.length, names: unsettled.slice(0, 10) });
    }
    return deleted;
  }

  /** Starts the periodic sweep (first one at once); failures are logged and retried at the next interval. */
  start(): void {
    if (this.timer || this.sweepIntervalMs <= 0) return;
    const run = () => {
      this.sweep().catch((error: unknown) => this.logger?.warn('Failed idempotency record sweep', { namespace: this.namespace, error: (error as Error).message }));
    };
    run();
    this.timer = setInterval(run, this.sweepIntervalMs);
    this.timer.unref();
  }

  /** Stops the periodic sweep and waits for a sweep under way. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.sweeping?.catch(() => undefined);
  }

  private async read(key: string): Promise<V1ConfigMap | undefined> {
    try {
      return await this.api.readNamespacedConfigMap({ name: idempotencyObjectName(key), namespace: this.namespace });
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw error;
    }
  }

  private body(name: string, contentKey: string, uid?: string): V1ConfigMap {
    return {
      metadata: { name, namespace: this.namespace, labels: { ...IDEMPOTENCY_LABELS } },
      data: { contentKey, createdAt: new Date(this.now()).toISOString(), ...(uid ? { uid } : {}) },
    };
  }
}
