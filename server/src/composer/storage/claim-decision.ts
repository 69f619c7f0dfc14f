/** The idempotency object of one key as the Kubernetes store reads it (ConfigMap data plus its resourceVersion). */
export interface ClaimObject {
  /** The composition uid; absent while the claimer is still uploading. */
  uid?: string | undefined;
  contentKey: string;
  /** When the key was claimed (ISO 8601); a takeover renews it. */
  createdAt: string;
  /** "unknown" when the claimer's upload was sent and got no answer. */
  outcome?: string | undefined;
  /** When that upload was sent (ISO 8601), and the file name it carried. */
  unknownSince?: string | undefined;
  fileName?: string | undefined;
  resourceVersion: string;
}

/** What a save that found `ClaimObject` must do. */
export type ClaimDecision =
  | { action: 'done'; uid: string; contentKey: string }
  | { action: 'wait'; contentKey: string }
  | { action: 'unknown'; contentKey: string; since: string; fileName: string }
  | { action: 'take-over'; resourceVersion: string };

/**
 * Decides what to do about an existing claim: a uid means the save is done; a claim marked unknown (its upload was
 * sent and got no answer) is reported as such; a claim without a uid younger than `staleAfterMs` means another
 * process is uploading (wait); an older one (or one whose createdAt is unreadable) belongs to a claimer that died,
 * maybe after sending its upload, so its outcome is unknown too. Only `retryUnknown` (the caller checked that the
 * composition is not stored) turns an unknown outcome into a takeover (an update conditioned on `resourceVersion`).
 */
export function decideClaim(existing: ClaimObject, nowMs: number, staleAfterMs: number, retryUnknown = false): ClaimDecision {
  if (existing.uid) return { action: 'done', uid: existing.uid, contentKey: existing.contentKey };
  if (existing.outcome === 'unknown') {
    return retryUnknown ? { action: 'take-over', resourceVersion: existing.resourceVersion } : { action: 'unknown', contentKey: existing.contentKey, since: existing.unknownSince ?? existing.createdAt, fileName: existing.fileName ?? '' };
  }
  const claimedAt = Date.parse(existing.createdAt);
  if (Number.isFinite(claimedAt) && nowMs - claimedAt < staleAfterMs) return { action: 'wait', contentKey: existing.contentKey };
  return retryUnknown ? { action: 'take-over', resourceVersion: existing.resourceVersion } : { action: 'unknown', contentKey: existing.contentKey, since: existing.createdAt, fileName: existing.fileName ?? '' };
}

/** An idempotency object as listed for expiry. */
export interface ExpiryCandidate {
  name: string;
  createdAt: string | undefined;
  resourceVersion: string;
  /** The save has its uid (false: still uploading, or its outcome is unknown). */
  settled?: boolean;
}

/**
 * The objects older than `ttlMs` at `nowMs`, oldest first, at most `max`. An object without a readable createdAt
 * is left alone (it was not written by this store).
 */
export function expiredObjects<T extends ExpiryCandidate>(items: T[], nowMs: number, ttlMs: number, max: number): T[] {
  return items
    .map((item) => ({ item, at: item.createdAt === undefined ? Number.NaN : Date.parse(item.createdAt) }))
    .filter(({ at }) => Number.isFinite(at) && nowMs - at >= ttlMs)
    .toSorted((a, b) => a.at - b.at)
    .slice(0, Math.max(0, max))
    .map(({ item }) => item);
}

/**
 * How long a claim without a uid may stand before its claimer counts as gone: every attempt of the upload timing
 * out, the backoff between them, and a margin for the write of the uid.
 */
export function staleClaimAfterMs(timeoutMs: number, retries: number, maxRetryDelayMs: number, marginMs = 10_000): number {
  return timeoutMs * (retries + 1) + maxRetryDelayMs * retries + marginMs;
}
