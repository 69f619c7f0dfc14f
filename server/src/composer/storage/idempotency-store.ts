/**
 * Remembers which composition uid an idempotency key produced, so a retried save returns that uid. Pluggable:
 * the default is per process (bounded LRU); a shared store (the Kubernetes one) makes the guarantee cluster-wide.
 *
 * `claim` and `release` are optional: a store that offers them makes saves exactly-once across processes (the
 * storage client claims the key before uploading, writes the uid with `set`, and releases the claim on failure).
 * A store without them only remembers (at-most-once per process through the client's single flight).
 */
export interface IdempotencyStore {
  get(key: string): Promise<IdempotencyRecord | undefined>;
  set(key: string, record: IdempotencyRecord): Promise<void>;
  /** Claims `key` for an upload of content `contentKey`: `claimed` (upload now), `done` (a uid exists) or `in-progress` (someone else is uploading; ask again later). */
  claim?(key: string, contentKey: string): Promise<ClaimOutcome>;
  /** Gives up a claim this process holds (its upload failed) so another save of the key can upload at once. */
  release?(key: string): Promise<void>;
}

/** What a key produced: the uid, and the content hash of the composition saved under it. */
export interface IdempotencyRecord {
  uid: string;
  contentKey: string;
}

/** The answer of `IdempotencyStore.claim`. `in-progress` carries the content hash of the upload under way. */
export type ClaimOutcome = { kind: 'claimed' } | { kind: 'done'; record: IdempotencyRecord } | { kind: 'in-progress'; contentKey: string };

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
