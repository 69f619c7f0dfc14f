import { setTimeout as sleep } from 'node:timers/promises';
import pRetry, { AbortError } from 'p-retry';
import { secretRedactor } from '#common/redaction.ts';
import type { Logger } from '#common/logger.ts';
import { ToolError } from '#server/tools/tool-definition.ts';
import type { ComposerSettings, StorageClient, StoredComposition, UploadResult } from '#server/tools/services.ts';
import { canonicalJson, contentIdempotencyKey, keyDigest } from './storage/idempotency-key.ts';
import { LruIdempotencyStore, type IdempotencyStore } from './storage/idempotency-store.ts';
import { editorUrl, readUrl, uploadUrl } from './storage/composer-urls.ts';
import { isRetryableStatus, networkToolError, SETTING_ENV, statusToToolError, timeoutToolError, type StorageOperation } from './storage/upstream-errors.ts';

import { staleClaimAfterMs } from './storage/claim-decision.ts';

export type { IdempotencyStore, IdempotencyRecord, ClaimOutcome } from './storage/idempotency-store.ts';

/** How one save under a key ended: the uid, the content hash it was saved with, and whether this call uploaded it. */
interface SaveOutcome {
  uid: string;
  contentKey: string;
  created: boolean;
}

/** Tuning of the HTTP storage client; every field has a default. */
export interface StorageClientOptions {
  /** Per-attempt timeout in milliseconds (default 15000). */
  timeoutMs?: number;
  /** Retries after the first attempt on 5xx, timeouts and network errors (default 2). Never on 4xx. */
  retries?: number;
  /** First backoff delay in milliseconds (default 250), doubling up to `maxRetryDelayMs` (default 4000). */
  minRetryDelayMs?: number;
  maxRetryDelayMs?: number;
  /** Where idempotency keys are remembered (default: an in-memory LRU of 10 000 keys, per process). */
  idempotencyStore?: IdempotencyStore;
  /**
   * With a store that offers claims: how long a save waits for another process's upload of the same key before
   * UPSTREAM_TIMEOUT (default: the stale-claim age of staleClaimAfterMs + 5 s, so an abandoned claim is taken over
   * before the wait ends), and how often it asks (default 250 ms).
   */
  claimWaitMs?: number;
  claimPollMs?: number;
  /** MIME type of the uploaded file part (default `digitalpages/composer`, [likely] per composer.md). */
  fileMimeType?: string;
  /** Logger for retries (never given secrets). */
  logger?: Logger;
  /** The fetch to use (default the global one). */
  fetch?: typeof fetch;
}

/** Settings the storage client cannot work without, with the environment variable that sets each. */
export function missingStorageSettings(settings: ComposerSettings): string[] {
  const missing: string[] = [];
  if (!settings.accessToken) missing.push(SETTING_ENV.accessToken);
  if (!settings.projectKey) missing.push(SETTING_ENV.projectKey);
  if (!settings.connectorUid) missing.push(SETTING_ENV.connectorUid);
  return missing;
}

/** The NOT_CONFIGURED error naming the settings that are missing for storage work. */
export function storageNotConfigured(settings: ComposerSettings): ToolError {
  const missing = missingStorageSettings(settings);
  const names = missing.length > 0 ? missing : [SETTING_ENV.accessToken, SETTING_ENV.projectKey, SETTING_ENV.connectorUid];
  return new ToolError('NOT_CONFIGURED', `Saving and reading compositions needs Composer credentials, and ${names.join(', ')} ${names.length === 1 ? 'is' : 'are'} not set.`, `Set ${names.join(' and ')} in the server's environment (or the matching keys of its config file) and restart it. Credentials are never accepted as tool arguments.`, { details: { missing: names } });
}

/** Why one attempt failed (internal; turned into a ToolError after the retries). */
class AttemptFailure extends Error {
  readonly kind: 'status' | 'timeout' | 'network';
  readonly status: number;
  readonly body: string;
  constructor(kind: 'status' | 'timeout' | 'network', options: { status?: number; body?: string; cause?: unknown } = {}) {
    super(kind === 'status' ? `HTTP ${options.status}` : kind, { cause: options.cause });
    this.name = 'AttemptFailure';
    this.kind = kind;
    this.status = options.status ?? 0;
    this.body = options.body ?? '';
  }
}

/**
 * The DigitalPages storage client of composer.md: multipart upload with the three headers and read by uid.
 * Retries 5xx, timeouts and network errors with exponential backoff, never 4xx. An upload is idempotent per key
 * (the caller's, or the SHA-256 of the composition's canonical JSON): a repeated upload with the same key returns
 * the first uid with `created: false` — as long as this process (or the shared IdempotencyStore) remembers it.
 */
export class HttpStorageClient implements StorageClient {
  private readonly settings: Required<Pick<ComposerSettings, 'accessToken' | 'projectKey' | 'connectorUid'>> & ComposerSettings;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly minRetryDelayMs: number;
  private readonly maxRetryDelayMs: number;
  private readonly store: IdempotencyStore;
  private readonly fileMimeType: string;
  private readonly logger: Logger | undefined;
  private readonly fetchImpl: typeof fetch;
  private readonly cache: LruIdempotencyStore | undefined;
  private readonly claimWaitMs: number;
  private readonly claimPollMs: number;
  private readonly inFlight = new Map<string, Promise<SaveOutcome>>();

  /** Throws NOT_CONFIGURED (a ToolError) when a credential is missing. Registers the secrets with the redactor. */
  constructor(settings: ComposerSettings, options: StorageClientOptions = {}) {
    if (missingStorageSettings(settings).length > 0) throw storageNotConfigured(settings);
    secretRedactor.add(settings.accessToken);
    secretRedactor.add(settings.projectKey);
    this.settings = settings as HttpStorageClient['settings'];
    this.timeoutMs = options.timeoutMs ?? 15_000;
    this.retries = options.retries ?? 2;
    this.minRetryDelayMs = options.minRetryDelayMs ?? 250;
    this.maxRetryDelayMs = options.maxRetryDelayMs ?? 4_000;
    this.store = options.idempotencyStore ?? new LruIdempotencyStore();
    // A shared store gets a local LRU in front: a key known done here needs no API call.
    this.cache = this.store instanceof LruIdempotencyStore ? undefined : new LruIdempotencyStore();
    this.claimWaitMs = options.claimWaitMs ?? staleClaimAfterMs(this.timeoutMs, this.retries, this.maxRetryDelayMs) + 5_000;
    this.claimPollMs = options.claimPollMs ?? 250;
    this.fileMimeType = options.fileMimeType ?? 'digitalpages/composer';
    this.logger = options.logger;
    this.fetchImpl = options.fetch ?? globalThis.fetch;
  }

  /** Uploads `composition` (or returns the uid an earlier upload with the same idempotency key produced). */
  async upload(composition: StoredComposition, options: { idempotencyKey?: string; signal?: AbortSignal } = {}): Promise<UploadResult & { idempotencyKey: string }> {
    const contentKey = contentIdempotencyKey(composition);
    const idempotencyKey = options.idempotencyKey ?? contentKey;
    const scopedKey = `${this.settings.apiUrl}\n${this.settings.connectorUid}\n${idempotencyKey}`;
    const cached = this.cache ? await this.cache.get(scopedKey) : undefined;
    if (cached) return this.remembered(cached.uid, cached.contentKey, contentKey, idempotencyKey);
    if (!this.store.claim) {
      const known = await this.fromStore(() => this.store.get(scopedKey));
      if (known) return this.remembered(known.uid, known.contentKey, contentKey, idempotencyKey);
    }
    const pending = this.inFlight.get(scopedKey);
    if (pending) {
      const outcome = await pending;
      return this.remembered(outcome.uid, outcome.contentKey, contentKey, idempotencyKey);
    }
    const work = this.store.claim ? this.claimAndUpload(scopedKey, composition, contentKey, idempotencyKey, options.signal) : this.uploadAndRemember(scopedKey, composition, contentKey, idempotencyKey, options.signal);
    this.inFlight.set(scopedKey, work);
    try {
      const outcome = await work;
      await this.cache?.set(scopedKey, { uid: outcome.uid, contentKey: outcome.contentKey });
      if (!outcome.created) return this.remembered(outcome.uid, outcome.contentKey, contentKey, idempotencyKey);
      return { uid: outcome.uid, editorUrl: editorUrl(this.settings.composerUrl, outcome.uid), created: true, idempotencyKey };
    } finally {
      this.inFlight.delete(scopedKey);
    }
  }

  private async uploadAndRemember(scopedKey: string, composition: StoredComposition, contentKey: string, idempotencyKey: string, signal: AbortSignal | undefined): Promise<SaveOutcome> {
    const uid = await this.uploadOnce(composition, idempotencyKey, signal);
    await this.fromStore(() => this.store.set(scopedKey, { uid, contentKey }));
    return { uid, contentKey, created: true };
  }

  /**
   * Exactly-once across processes: claim the key in the shared store, upload only when claimed, and write the uid;
   * while another process holds the claim, poll (bounded by claimWaitMs) for its uid. A failed upload releases the claim.
   */
  private async claimAndUpload(scopedKey: string, composition: StoredComposition, contentKey: string, idempotencyKey: string, signal: AbortSignal | undefined): Promise<SaveOutcome> {
    const store = this.store as Required<IdempotencyStore>;
    const deadline = Date.now() + this.claimWaitMs;
    for (;;) {
      const outcome = await this.fromStore(() => store.claim(scopedKey, contentKey));
      if (outcome.kind === 'done') return { uid: outcome.record.uid, contentKey: outcome.record.contentKey, created: false };
      if (outcome.kind === 'claimed') break;
      if (outcome.contentKey !== contentKey) {
        throw new ToolError('INVALID_INPUT', `The idempotency key ${JSON.stringify(idempotencyKey)} is being used right now to save a different composition.`, 'Use a new idempotency key for changed content, or omit it to key the save by content.');
      }
      if (Date.now() >= deadline) {
        throw new ToolError('UPSTREAM_TIMEOUT', `Another save with the idempotency key ${JSON.stringify(idempotencyKey)} was still uploading after ${Math.round(this.claimWaitMs / 1000)} s.`, 'Call composer_save_composition again with the same key later: it returns that save\'s uid once it is done, and never creates a second composition.');
      }
      try {
        await sleep(this.claimPollMs, undefined, signal ? { signal } : {});
      } catch {
        throw cancelled('upload');
      }
    }
    let uid: string;
    try {
      uid = await this.uploadOnce(composition, idempotencyKey, signal);
    } catch (error) {
      await store.release(scopedKey).catch((releaseError: unknown) => this.logger?.warn('Failed to release idempotency claim', { error: (releaseError as Error).message }));
      throw error;
    }
    await this.fromStore(() => store.set(scopedKey, { uid, contentKey }));
    return { uid, contentKey, created: true };
  }

  /** Runs a store call; a failure of the store itself becomes an UPSTREAM_ERROR ToolError naming it. */
  private async fromStore<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      if (error instanceof ToolError) throw error;
      this.logger?.warn('Failed idempotency store call', { error: (error as Error).message });
      throw new ToolError('UPSTREAM_ERROR', `The idempotency store failed: ${(error as Error).message}`, 'Retry the save with the same idempotency key (it stays exactly-once). If it keeps failing, check that the server may create, get, update and delete ConfigMaps in its namespace (the chart\'s server Role).', { cause: error });
    }
  }

  /** Reads the composition `uid` back; NOT_FOUND when the storage does not know it. */
  async read(uid: string, options: { signal?: AbortSignal } = {}): Promise<StoredComposition> {
    const text = await this.request('read', readUrl(this.settings.apiUrl, uid), { method: 'GET' }, options.signal, { uid });
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new ToolError('UPSTREAM_ERROR', `The Composer storage API answered the read of ${JSON.stringify(uid)} with something that is not JSON.`, 'Check that the uid names a composition (not another kind of file) and that the API URL points at the storage API.');
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new ToolError('UPSTREAM_ERROR', `The content stored under ${JSON.stringify(uid)} is not a composition (a JSON object).`, 'Check the uid: it must be one composer_save_composition returned.');
    }
    return parsed as StoredComposition;
  }

  private remembered(uid: string, storedContentKey: string, contentKey: string, idempotencyKey: string): UploadResult & { idempotencyKey: string } {
    if (storedContentKey !== contentKey) {
      throw new ToolError('INVALID_INPUT', `The idempotency key ${JSON.stringify(idempotencyKey)} was already used to save a different composition (uid ${uid}).`, 'Use a new idempotency key for changed content, or omit it to key the save by content.', { details: { uid } });
    }
    return { uid, editorUrl: editorUrl(this.settings.composerUrl, uid), created: false, idempotencyKey };
  }

  private async uploadOnce(composition: StoredComposition, idempotencyKey: string, signal: AbortSignal | undefined): Promise<string> {
    // The file name carries a digest of the idempotency key (not the document): duplicates stay recognisable upstream.
    const fileName = `composition-${keyDigest(idempotencyKey)}.rdpcomposer`;
    const json = JSON.stringify(composition);
    const makeBody = () => {
      const form = new FormData();
      form.append('file', new Blob([json], { type: this.fileMimeType }), fileName);
      return form;
    };
    const text = await this.request('upload', uploadUrl(this.settings.apiUrl, this.settings.connectorUid), { method: 'POST', body: makeBody }, signal, { connectorUid: this.settings.connectorUid });
    let uid: unknown;
    try {
      uid = (JSON.parse(text) as { uid?: unknown }).uid;
    } catch {
      uid = undefined;
    }
    if (typeof uid !== 'string' || uid.length === 0) {
      throw new ToolError('UPSTREAM_ERROR', 'The Composer storage API accepted the upload but its answer carried no composition uid.', 'Check that the API URL points at the DigitalPages storage API; the composition may have been stored: look for it in the Composer before saving again.', { details: { canonicalBytes: canonicalJson(composition).length } });
    }
    return uid;
  }

  /** One storage call with timeouts and retries; resolves the body of a 2xx answer, or throws a ToolError. */
  private async request(operation: StorageOperation, url: string, init: { method: string; body?: () => FormData }, signal: AbortSignal | undefined, context: { uid?: string; connectorUid?: string }): Promise<string> {
    const headers = { Authorization: `Bearer ${this.settings.accessToken}`, 'Project-Key': this.settings.projectKey, 'Api-Env': this.settings.apiEnv, Accept: 'application/json' };
    let attempts = 0;
    const attempt = async (): Promise<string> => {
      attempts += 1;
      const timeout = AbortSignal.timeout(this.timeoutMs);
      const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
      let response: Response;
      let body: string;
      try {
        response = await this.fetchImpl(url, { method: init.method, headers, body: init.body?.(), signal: combined });
        body = await response.text();
      } catch (error) {
        if (signal?.aborted) throw new AbortError(cancelled(operation));
        if (timeout.aborted) throw new AttemptFailure('timeout', { cause: error });
        throw new AttemptFailure('network', { cause: error });
      }
      if (response.ok) return body;
      if (isRetryableStatus(response.status)) throw new AttemptFailure('status', { status: response.status, body });
      throw new AbortError(statusToToolError(operation, response.status, body, { ...context, attempts }));
    };
    try {
      return await pRetry(attempt, {
        retries: this.retries,
        minTimeout: this.minRetryDelayMs,
        maxTimeout: this.maxRetryDelayMs,
        factor: 2,
        randomize: true,
        ...(signal ? { signal } : {}),
        onFailedAttempt: ({ error, attemptNumber, retriesLeft }) => {
          const failure = error as AttemptFailure;
          this.logger?.warn('Retried storage request', { operation, attempt: attemptNumber, retriesLeft, reason: failure.kind ?? 'error', status: failure.status || undefined });
        },
      });
    } catch (error) {
      if (error instanceof ToolError) throw error;
      if (signal?.aborted) throw cancelled(operation);
      if (error instanceof AttemptFailure) {
        if (error.kind === 'timeout') throw timeoutToolError(operation, this.timeoutMs, attempts);
        if (error.kind === 'network') throw networkToolError(operation, error.cause, attempts);
        throw statusToToolError(operation, error.status, error.body, { ...context, attempts });
      }
      throw networkToolError(operation, error, attempts);
    }
  }
}

function cancelled(operation: StorageOperation): ToolError {
  return new ToolError('CANCELLED', `The ${operation} was cancelled.`, 'Call the tool again if you still want it; a repeated save is idempotent.');
}
