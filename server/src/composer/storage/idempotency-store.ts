/**
 * Remembers which composition uid an idempotency key produced, so a retried save returns that uid. Pluggable:
 * the default is per process (bounded LRU); a shared store (e.g. Redis) would make the guarantee cluster-wide.
 */
export interface IdempotencyStore {
  get(key: string): Promise<IdempotencyRecord | undefined>;
  set(key: string, record: IdempotencyRecord): Promise<void>;
}

/** What a key produced: the uid, and the content hash of the composition saved under it. */
export interface IdempotencyRecord {
  uid: string;
  contentKey: string;
}

/** An in-memory IdempotencyStore holding at most `maxEntries` keys, evicting the least recently used. */
export class LruIdempotencyStore implements IdempotencyStore {
  private readonly entries = new Map<string, IdempotencyRecord>();
  private readonly maxEntries: number;

  constructor(maxEntries = 10_000) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new Error(`maxEntries must be a positive integer, got ${maxEntries}`);
    this.maxEntries = maxEntries;
  }

  /** The record stored for `key` (and marks it recently used), or undefined. */
  async get(key: string): Promise<IdempotencyRecord | undefined> {
    const record = this.entries.get(key);
    if (record !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, record);
    }
    return record;
  }

  /** Stores `key → record`, evicting the least recently used key when full. */
  async set(key: string, record: IdempotencyRecord): Promise<void> {
    this.entries.delete(key);
    this.entries.set(key, record);
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
  }

  /** Number of keys held. */
  get size(): number {
    return this.entries.size;
  }
}
