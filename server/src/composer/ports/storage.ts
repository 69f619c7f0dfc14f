/** The port to the Composer storage (implemented by `server/src/composer/storage-client.ts`). */

/** A composition as stored and read back: a JSON object (its shape is checked by the validator, not by storage). */
export type StoredComposition = Record<string, unknown>;

/** The result of an upload: the composition uid (opaque), its editor URL, and whether this call created it. */
export interface UploadResult {
  uid: string;
  editorUrl: string;
  /** False when the idempotency key matched an earlier upload and that composition was returned instead. */
  created: boolean;
}

/**
 * The storage API client. Upload is exactly-once per idempotency key (a content hash when the caller gives none).
 * Failures are ComposerErrors.
 */
export interface StorageClient {
  /**
   * Throws SAVE_OUTCOME_UNKNOWN when the upload (or an earlier one under the same key) was sent and got no answer;
   * `retryUnknown` uploads such a key again (the caller checked that it is not stored).
   */
  upload(composition: StoredComposition, options?: { idempotencyKey?: string; signal?: AbortSignal; retryUnknown?: boolean }): Promise<UploadResult>;
  read(uid: string, options?: { signal?: AbortSignal }): Promise<StoredComposition>;
}
