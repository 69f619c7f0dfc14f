/**
 * Remembers what happened to each save's idempotency key, so a retried save returns the first uid and an upload
 * whose outcome is unknown is never repeated blindly. Pluggable: the default is per process (bounded LRU); a
 * shared store (the Kubernetes one) makes the guarantee cluster-wide.
 *
 * The storage client claims a key before uploading (`claim`), writes the uid when the platform answered with one
 * (`set`), gives the claim up when the upload was refused or never sent (`release`), and marks the key when the
 * upload was sent and no answer came (`markUnknown`): until someone confirms (`claim` with `retryUnknown`), every
 * save with that key answers SAVE_OUTCOME_UNKNOWN instead of uploading again.
 */
export interface IdempotencyStore {
  /** The record of a finished save, or undefined (no save, one under way, or an unknown outcome). */
  get(key: string): Promise<IdempotencyRecord | undefined>;
  set(key: string, record: IdempotencyRecord): Promise<void>;
  /**
   * Claims `key` for an upload of content `contentKey`: `claimed` (upload now), `done` (a uid exists),
   * `in-progress` (someone else is uploading; ask again later) or `unknown` (an earlier upload's outcome is unknown;
   * with `retryUnknown` the caller takes the key over and gets `claimed`).
   */
  claim(key: string, contentKey: string, options?: { retryUnknown?: boolean }): Promise<ClaimOutcome>;
  /** Gives up a claim this process holds (its upload was refused or never sent) so another save can upload at once. */
  release(key: string): Promise<void>;
  /** Records that the upload under the claim this process holds was sent and got no answer. */
  markUnknown(key: string, unknown: UnknownOutcome): Promise<void>;
}

/** What a key produced: the uid, and the content hash of the composition saved under it. */
export interface IdempotencyRecord {
  uid: string;
  contentKey: string;
}

/** An upload that was sent and got no usable answer: when, of what, and under which file name. */
export interface UnknownOutcome {
  contentKey: string;
  /** When the upload was sent (ISO 8601). */
  since: string;
  /** The uploaded file's name (it carries a digest of the idempotency key). */
  fileName: string;
}

/** The answer of `IdempotencyStore.claim`. `in-progress` carries the content hash of the upload under way. */
export type ClaimOutcome =
  | { kind: 'claimed' }
  | { kind: 'done'; record: IdempotencyRecord }
  | { kind: 'in-progress'; contentKey: string }
  | { kind: 'unknown'; unknown: UnknownOutcome };

/** Default most records a store keeps (`composer.idempotency.maxRecords`). */
export const DEFAULT_MAX_IDEMPOTENCY_RECORDS = 10_000;

/**
 * A store holds as many records as it may and none can go: a save with a new key cannot be made exactly-once, so it
 * is refused before anything is uploaded. Thrown by `claim` (and `set` of a new key).
 */
export class IdempotencyStoreFullError extends Error {
  /** Which store: this process's memory, or the ConfigMaps of the namespace. */
  readonly store: 'memory' | 'kubernetes';
  /** The configured cap (`composer.idempotency.maxRecords`), or the namespace's ConfigMap quota for `quota`. */
  readonly limit: number | undefined;
  /** Records held; of those, saves still uploading and saves whose outcome is unknown (never evicted). */
  readonly held: number | undefined;
  readonly pending: number | undefined;
  /** What is full: the store's own cap, or a ResourceQuota of the namespace the API server enforced. */
  readonly reason: 'cap' | 'quota';
  /** Where the Kubernetes store's records live. */
  readonly namespace: string | undefined;

  constructor(options: { store: 'memory' | 'kubernetes'; reason: 'cap' | 'quota'; limit?: number; held?: number; pending?: number; namespace?: string; cause?: unknown }) {
    super(`the ${options.store} idempotency store is full (${options.reason === 'quota' ? 'the namespace\'s ConfigMap quota' : `${options.held ?? '?'} of ${options.limit ?? '?'} records`})`, { cause: options.cause });
    this.name = 'IdempotencyStoreFullError';
    this.store = options.store;
    this.reason = options.reason;
    this.limit = options.limit;
    this.held = options.held;
    this.pending = options.pending;
    this.namespace = options.namespace;
  }
}

type Entry = { state: 'done'; record: IdempotencyRecord } | { state: 'claimed'; contentKey: string } | { state: 'unknown'; unknown: UnknownOutcome };

/**
 * An in-memory IdempotencyStore of one process holding at most `maxEntries` keys. When it is full, the least
 * recently used *settled* record (a save with its uid) makes room; a claim under way or an unknown outcome is never
 * evicted, since forgetting it would let a retry upload a second copy (ADR 5). When only those are left, a save
 * with a new key is refused (IdempotencyStoreFullError) instead. A restart forgets everything, unknown outcomes
 * included.
 */
export class LruIdempotencyStore implements IdempotencyStore {
  private readonly entries = new Map<string, Entry>();
  private readonly maxEntries: number;

  constructor(maxEntries = DEFAULT_MAX_IDEMPOTENCY_RECORDS) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new Error(`maxEntries must be a positive integer, got ${maxEntries}`);
    this.maxEntries = maxEntries;
  }

  /** The most records held. */
  get limit(): number {
    return this.maxEntries;
  }

  /** The record stored for `key` (and marks it recently used), or undefined. */
  async get(key: string): Promise<IdempotencyRecord | undefined> {
    const entry = this.touch(key);
    return entry?.state === 'done' ? entry.record : undefined;
  }

  /** Stores `key → record`, evicting the least recently used key when full. */
  async set(key: string, record: IdempotencyRecord): Promise<void> {
    this.put(key, { state: 'done', record });
  }

  async claim(key: string, contentKey: string, options: { retryUnknown?: boolean } = {}): Promise<ClaimOutcome> {
    const entry = this.touch(key);
    if (entry?.state === 'done') return { kind: 'done', record: entry.record };
    if (entry?.state === 'claimed') return { kind: 'in-progress', contentKey: entry.contentKey };
    if (entry?.state === 'unknown' && !options.retryUnknown) return { kind: 'unknown', unknown: entry.unknown };
    this.put(key, { state: 'claimed', contentKey });
    return { kind: 'claimed' };
  }

  async release(key: string): Promise<void> {
    if (this.entries.get(key)?.state === 'claimed') this.entries.delete(key);
  }

  async markUnknown(key: string, unknown: UnknownOutcome): Promise<void> {
    this.put(key, { state: 'unknown', unknown });
  }

  /** Number of keys held. */
  get size(): number {
    return this.entries.size;
  }

  private touch(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, entry);
    }
    return entry;
  }

  /** Saves still uploading or with an unknown outcome: the records that are never evicted. */
  get pending(): number {
    let count = 0;
    for (const entry of this.entries.values()) if (entry.state !== 'done') count += 1;
    return count;
  }

  /**
   * Stores `entry` under `key` as the most recently used. A new key first makes room by evicting the least recently
   * used settled records; when none is left to evict, throws IdempotencyStoreFullError and changes nothing.
   */
  private put(key: string, entry: Entry): void {
    if (!this.entries.has(key)) this.makeRoom();
    this.entries.delete(key);
    this.entries.set(key, entry);
  }

  private makeRoom(): void {
    if (this.entries.size < this.maxEntries) return;
    for (const [oldest, value] of this.entries) {
      if (this.entries.size < this.maxEntries) return;
      if (value.state === 'done') this.entries.delete(oldest);
    }
    if (this.entries.size >= this.maxEntries) {
      throw new IdempotencyStoreFullError({ store: 'memory', reason: 'cap', limit: this.maxEntries, held: this.entries.size, pending: this.pending });
    }
  }
}
