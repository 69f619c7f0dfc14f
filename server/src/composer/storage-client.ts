import { setTimeout as sleep } from 'node:timers/promises';
import { secretRedactor } from '#common/redaction.ts';
import type { Logger } from '#common/logger.ts';
import { ComposerError } from './composer-error.ts';
import type { ComposerSettings } from './ports/composer-settings.ts';
import type { StorageClient, StoredComposition, UploadResult } from './ports/storage.ts';
import { contentIdempotencyKey, keyDigest } from './storage/idempotency-key.ts';
import { IdempotencyStoreFullError, LruIdempotencyStore, type IdempotencyStore, type UnknownOutcome } from './storage/idempotency-store.ts';
import { editorUrl, readUrl, uploadUrl } from './storage/composer-urls.ts';
import { multipartFile, nodeHttpSender, SendError, type Sender, type SendResponse } from './storage/http-sender.ts';
import { classifyUploadAnswer, classifyUploadFailure, redirectOrigin, type UploadAttempt } from './storage/upload-outcome.ts';
import { isRetryableStatus, storageNetworkError, SETTING_ENV, storageStatusError, storageTimeoutError } from './storage/upstream-errors.ts';
import { staleClaimAfterMs } from './storage/claim-decision.ts';
import { jsonValueKind, notACompositionError } from './storage/stored-content.ts';

export type { IdempotencyStore, IdempotencyRecord, ClaimOutcome, UnknownOutcome } from './storage/idempotency-store.ts';

/** How one save under a key ended: the uid, the content hash it was saved with, and whether this call uploaded it. */
interface SaveOutcome {
  uid: string;
  contentKey: string;
  created: boolean;
}

/** Tuning of the HTTP storage client; every field has a default. */
export interface StorageClientOptions {
  /** Timeout of one read attempt in milliseconds (default 15000). */
  timeoutMs?: number;
  /** Timeout of one upload attempt (default 60000): past it, a sent upload's outcome is unknown. */
  uploadTimeoutMs?: number;
  /**
   * Retries after the first attempt (default 2): reads on 5xx, timeouts and network errors; uploads only when the
   * platform refused them with a retryable status or they never left (never after one was sent without an answer).
   * Never on 4xx.
   */
  retries?: number;
  /** First backoff delay in milliseconds (default 250), doubling up to `maxRetryDelayMs` (default 4000). */
  minRetryDelayMs?: number;
  maxRetryDelayMs?: number;
  /** Where idempotency keys are remembered (default: an in-memory store of 10 000 keys, per process). */
  idempotencyStore?: IdempotencyStore;
  /**
   * How long a save waits for another process's upload of the same key before UPSTREAM_TIMEOUT ("call again later")
   * (default: one upload timeout + 5 s), and how often it asks (default 250 ms).
   */
  claimWaitMs?: number;
  claimPollMs?: number;
  /** MIME type of the uploaded file part (default `digitalpages/composer`, [likely] per composer.md). */
  fileMimeType?: string;
  /** Logger for retries (never given secrets). */
  logger?: Logger;
  /** How requests are sent (default: node:http(s), one connection per request, redirects never followed). */
  sender?: Sender;
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
export function storageNotConfigured(settings: ComposerSettings): ComposerError {
  const missing = missingStorageSettings(settings);
  const names = missing.length > 0 ? missing : [SETTING_ENV.accessToken, SETTING_ENV.projectKey, SETTING_ENV.connectorUid];
  return new ComposerError('NOT_CONFIGURED', `Saving and reading compositions needs Composer credentials, and ${names.join(', ')} ${names.length === 1 ? 'is' : 'are'} not set.`, `Set ${names.join(' and ')} in the server's environment (or the matching keys of its config file) and restart it. Credentials are never accepted as tool arguments.`, { details: { missing: names } });
}

/** The title of a composition for messages (bounded), or a placeholder. */
function titleOf(composition: StoredComposition): string {
  const title = (composition['metadata'] as { title?: unknown } | undefined)?.title;
  return typeof title === 'string' && title.trim() ? title.trim().slice(0, 120) : '(untitled)';
}

/**
 * The SAVE_OUTCOME_UNKNOWN error: the upload was sent and no usable answer came, or an earlier one under the same
 * key did. Says what to check and how to go on; the key stays pending.
 */
export function saveOutcomeUnknown(options: { idempotencyKey: string; title: string; unknown: UnknownOutcome; reason?: string; earlier: boolean }): ComposerError {
  const { unknown } = options;
  const what = options.earlier
    ? `An earlier save of this composition (idempotency key ${JSON.stringify(options.idempotencyKey)}) was sent to the Composer storage at ${unknown.since} and got no answer, so whether it was stored is unknown. Nothing was uploaded now.`
    : `The upload of "${options.title}" was sent to the Composer storage API and no usable answer came (${options.reason ?? 'no answer'}), so whether it was stored is unknown. It was not sent again.`;
  return new ComposerError(
    'SAVE_OUTCOME_UNKNOWN',
    what,
    `Do not save it again blindly. Open the Composer and look for a composition titled "${options.title}" saved around ${unknown.since}${unknown.fileName ? ` (file ${unknown.fileName}, if the Composer shows file names)` : ''}. If it is there, use it. If it is not, call composer_save_composition again with the same composition and retryUnknown=true. Until then every save with this idempotency key answers SAVE_OUTCOME_UNKNOWN instead of uploading again.`,
    { details: { idempotencyKey: options.idempotencyKey, title: options.title, sentAt: unknown.since, fileName: unknown.fileName, ...(options.reason ? { reason: options.reason } : {}) } },
  );
}

/**
 * The IDEMPOTENCY_STORE_FULL error: a save with a new key cannot be made exactly-once, so nothing was uploaded. Says
 * what is full (this process's memory, the namespace's records, the namespace's ConfigMap quota) and what to do.
 */
export function idempotencyStoreFull(error: IdempotencyStoreFullError): ComposerError {
  const details = { store: error.store, reason: error.reason, ...(error.limit !== undefined ? { limit: error.limit } : {}), ...(error.held !== undefined ? { held: error.held } : {}), ...(error.pending !== undefined ? { pending: error.pending } : {}), ...(error.namespace ? { namespace: error.namespace } : {}) };
  const raise = `An operator can raise composer.idempotency.maxRecords (${MAX_RECORDS_ENV})`;
  if (error.reason === 'quota') {
    return new ComposerError('IDEMPOTENCY_STORE_FULL', `No idempotency record can be created for this save: namespace ${error.namespace ?? '(unknown)'} has reached its ConfigMap quota. Nothing was uploaded.`, 'Try again after older records expire (composer.idempotency.ttlSeconds). An operator can raise the namespace\'s ConfigMap quota (the chart\'s server.idempotency.maxConfigMaps) or delete ConfigMaps it no longer needs, and should keep composer.idempotency.maxRecords below the quota so the server refuses first, with its own count.', { details, cause: error });
  }
  if (error.store === 'kubernetes') {
    return new ComposerError('IDEMPOTENCY_STORE_FULL', `The cluster-wide store of save keys is full: ${error.held ?? '?'} records in namespace ${error.namespace ?? '(unknown)'} reach composer.idempotency.maxRecords (${error.limit ?? '?'}). A save with a new idempotency key cannot be made exactly-once, so nothing was uploaded.`, `Try again later: records expire after composer.idempotency.ttlSeconds and are deleted every sweepIntervalSeconds. Saves with a key already recorded still answer. ${raise}; with the chart, server.idempotency.maxRecords, below server.idempotency.maxConfigMaps.`, { details, cause: error });
  }
  return new ComposerError('IDEMPOTENCY_STORE_FULL', `This server's memory of save keys is full: all ${error.held ?? '?'} of its ${error.limit ?? '?'} records are saves still uploading or whose outcome is unknown, and those are never forgotten (a retry could store a second copy). A save with a new idempotency key cannot be made exactly-once, so nothing was uploaded.`, `Settle the saves whose outcome is unknown: look for each in the Composer and, if it is not there, save it again with retryUnknown=true. ${raise} and restart the server.`, { details, cause: error });
}

/** The environment variable of composer.idempotency.maxRecords. */
const MAX_RECORDS_ENV = 'COMPOSER_MCP_COMPOSER__IDEMPOTENCY__MAX_RECORDS';

/** Thrown inside an upload when its outcome became unknown (internal). */
class UnknownUpload extends Error {
  readonly reason: string;
  readonly sentAt: string;
  constructor(reason: string, sentAt: string) {
    super(reason);
    this.name = 'UnknownUpload';
    this.reason = reason;
    this.sentAt = sentAt;
  }
}

/**
 * The DigitalPages storage client of composer.md: multipart upload with the three headers and read by uid, never
 * following a redirect (the token and Project-Key must not go to another origin). Reads retry 5xx, timeouts and
 * network errors with backoff. Uploads are exactly-once per idempotency key (the caller's, or the SHA-256 of the
 * composition's canonical JSON): a repeated upload returns the first uid with `created: false`; an upload is only
 * repeated when the platform refused it or it never left; one that was sent and got no answer is never repeated —
 * the save answers SAVE_OUTCOME_UNKNOWN and the key stays pending until the caller confirms with `retryUnknown`.
 */
export class HttpStorageClient implements StorageClient {
  private readonly settings: Required<Pick<ComposerSettings, 'accessToken' | 'projectKey' | 'connectorUid'>> & ComposerSettings;
  private readonly timeoutMs: number;
  private readonly uploadTimeoutMs: number;
  private readonly retries: number;
  private readonly minRetryDelayMs: number;
  private readonly maxRetryDelayMs: number;
  private readonly store: IdempotencyStore;
  private readonly fileMimeType: string;
  private readonly logger: Logger | undefined;
  private readonly send: Sender;
  private readonly cache: LruIdempotencyStore | undefined;
  private readonly claimWaitMs: number;
  private readonly claimPollMs: number;
  private readonly inFlight = new Map<string, Promise<SaveOutcome>>();

  /** Throws NOT_CONFIGURED (a ComposerError) when a credential is missing. Registers the secrets with the redactor. */
  constructor(settings: ComposerSettings, options: StorageClientOptions = {}) {
    if (missingStorageSettings(settings).length > 0) throw storageNotConfigured(settings);
    secretRedactor.add(settings.accessToken);
    secretRedactor.add(settings.projectKey);
    this.settings = settings as HttpStorageClient['settings'];
    this.timeoutMs = options.timeoutMs ?? 15_000;
    this.uploadTimeoutMs = options.uploadTimeoutMs ?? 60_000;
    this.retries = options.retries ?? 2;
    this.minRetryDelayMs = options.minRetryDelayMs ?? 250;
    this.maxRetryDelayMs = options.maxRetryDelayMs ?? 4_000;
    this.store = options.idempotencyStore ?? new LruIdempotencyStore();
    // A shared store gets a local LRU in front: a key known done here needs no API call.
    this.cache = this.store instanceof LruIdempotencyStore ? undefined : new LruIdempotencyStore();
    this.claimWaitMs = options.claimWaitMs ?? this.uploadTimeoutMs + 5_000;
    this.claimPollMs = options.claimPollMs ?? 250;
    this.fileMimeType = options.fileMimeType ?? 'digitalpages/composer';
    this.logger = options.logger;
    this.send = options.sender ?? nodeHttpSender;
  }

  /** How long a claim without a uid may stand before its claimer counts as gone (for the Kubernetes store). */
  get staleClaimAfterMs(): number {
    return staleClaimAfterMs(this.uploadTimeoutMs, this.retries, this.maxRetryDelayMs);
  }

  /**
   * Uploads `composition` (or returns the uid an earlier upload with the same idempotency key produced). With
   * `retryUnknown`, a key whose earlier upload's outcome is unknown is uploaded again (the caller checked that the
   * composition is not stored).
   */
  async upload(composition: StoredComposition, options: { idempotencyKey?: string; signal?: AbortSignal; retryUnknown?: boolean } = {}): Promise<UploadResult & { idempotencyKey: string }> {
    const contentKey = contentIdempotencyKey(composition);
    const idempotencyKey = options.idempotencyKey ?? contentKey;
    const scopedKey = `${this.settings.apiUrl}\n${this.settings.connectorUid}\n${idempotencyKey}`;
    const cached = this.cache ? await this.cache.get(scopedKey) : undefined;
    if (cached) return this.remembered(cached.uid, cached.contentKey, contentKey, idempotencyKey);
    const pending = this.inFlight.get(scopedKey);
    if (pending) {
      const outcome = await pending;
      return this.remembered(outcome.uid, outcome.contentKey, contentKey, idempotencyKey);
    }
    const work = this.claimAndUpload(scopedKey, composition, contentKey, idempotencyKey, options.signal, options.retryUnknown === true);
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

  /**
   * Claims the key in the store, uploads only when claimed, and records the uid; while another upload of the key is
   * under way, polls (bounded by claimWaitMs) for its uid. A refused or unsent upload releases the claim; one sent
   * without an answer marks the key unknown.
   */
  private async claimAndUpload(scopedKey: string, composition: StoredComposition, contentKey: string, idempotencyKey: string, signal: AbortSignal | undefined, retryUnknown: boolean): Promise<SaveOutcome> {
    const deadline = Date.now() + this.claimWaitMs;
    for (;;) {
      const outcome = await this.fromStore(() => this.store.claim(scopedKey, contentKey, { retryUnknown }));
      if (outcome.kind === 'done') return { uid: outcome.record.uid, contentKey: outcome.record.contentKey, created: false };
      if (outcome.kind === 'claimed') break;
      if (outcome.kind === 'unknown') {
        if (outcome.unknown.contentKey !== contentKey) throw this.keyReused(idempotencyKey, 'whose earlier save has an unknown outcome');
        throw saveOutcomeUnknown({ idempotencyKey, title: titleOf(composition), unknown: outcome.unknown, earlier: true });
      }
      if (outcome.contentKey !== contentKey) throw this.keyReused(idempotencyKey, 'that is being used right now to save');
      if (Date.now() >= deadline) {
        throw new ComposerError('UPSTREAM_TIMEOUT', `Another save with the idempotency key ${JSON.stringify(idempotencyKey)} was still uploading after ${Math.round(this.claimWaitMs / 1000)} s.`, 'Call composer_save_composition again with the same key later: it returns that save\'s uid once it is done, and never creates a second composition.');
      }
      try {
        await sleep(this.claimPollMs, undefined, signal ? { signal } : {});
      } catch {
        throw cancelled('upload');
      }
    }
    const fileName = `composition-${keyDigest(idempotencyKey)}.rdpcomposer`;
    let uid: string;
    try {
      uid = await this.uploadUnderClaim(composition, fileName, signal);
    } catch (error) {
      if (error instanceof UnknownUpload) {
        const unknown: UnknownOutcome = { contentKey, since: error.sentAt, fileName };
        await this.fromStore(() => this.store.markUnknown(scopedKey, unknown));
        this.logger?.warn('Upload outcome unknown; the idempotency key stays pending', { reason: error.reason, fileName });
        if (signal?.aborted) throw new ComposerError('CANCELLED', 'The save was cancelled after its upload was sent, so whether it was stored is unknown.', `Do not save it again blindly: look in the Composer for "${titleOf(composition)}". If it is not there, save again with retryUnknown=true; until then saves with this key answer SAVE_OUTCOME_UNKNOWN.`, { details: { idempotencyKey, fileName, sentAt: error.sentAt } });
        throw saveOutcomeUnknown({ idempotencyKey, title: titleOf(composition), unknown, reason: error.reason, earlier: false });
      }
      await this.store.release(scopedKey).catch((releaseError: unknown) => this.logger?.warn('Failed to release idempotency claim', { error: (releaseError as Error).message }));
      throw error;
    }
    await this.fromStore(() => this.store.set(scopedKey, { uid, contentKey }));
    return { uid, contentKey, created: true };
  }

  private keyReused(idempotencyKey: string, how: string): ComposerError {
    return new ComposerError('INVALID_INPUT', `The idempotency key ${JSON.stringify(idempotencyKey)} is a key ${how} a different composition.`, 'Use a new idempotency key for changed content, or omit it to key the save by content.');
  }

  /** Runs a store call; a failure of the store itself becomes an UPSTREAM_ERROR ComposerError naming it. */
  private async fromStore<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      if (error instanceof ComposerError) throw error;
      if (error instanceof IdempotencyStoreFullError) throw idempotencyStoreFull(error);
      this.logger?.warn('Failed idempotency store call', { error: (error as Error).message });
      throw new ComposerError('UPSTREAM_ERROR', `The idempotency store failed: ${(error as Error).message}`, 'Retry the save with the same idempotency key (it stays exactly-once). If it keeps failing, check that the server may create, get, update and delete ConfigMaps in its namespace (the chart\'s server Role).', { cause: error });
    }
  }

  /** Reads the composition `uid` back; NOT_FOUND when the storage does not know it. */
  async read(uid: string, options: { signal?: AbortSignal } = {}): Promise<StoredComposition> {
    const text = await this.readWithRetries(uid, options.signal);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text.startsWith('\ufeff') ? text.slice(1) : text);
    } catch {
      throw notACompositionError(uid, 'not JSON');
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw notACompositionError(uid, jsonValueKind(parsed));
    return parsed as StoredComposition;
  }

  private remembered(uid: string, storedContentKey: string, contentKey: string, idempotencyKey: string): UploadResult & { idempotencyKey: string } {
    if (storedContentKey !== contentKey) {
      throw new ComposerError('INVALID_INPUT', `The idempotency key ${JSON.stringify(idempotencyKey)} was already used to save a different composition (uid ${uid}).`, 'Use a new idempotency key for changed content, or omit it to key the save by content.', { details: { uid } });
    }
    return { uid, editorUrl: editorUrl(this.settings.composerUrl, uid), created: false, idempotencyKey };
  }

  private headers(): Record<string, string> {
    return { Authorization: `Bearer ${this.settings.accessToken}`, 'Project-Key': this.settings.projectKey, 'Api-Env': this.settings.apiEnv, Accept: 'application/json' };
  }

  private backoff(attempt: number): number {
    const base = Math.min(this.maxRetryDelayMs, this.minRetryDelayMs * 2 ** (attempt - 1));
    return Math.round(base * (0.5 + Math.random() / 2));
  }

  private async pause(attempt: number, signal: AbortSignal | undefined, operation: 'upload' | 'read'): Promise<void> {
    try {
      await sleep(this.backoff(attempt), undefined, signal ? { signal } : {});
    } catch {
      throw cancelled(operation);
    }
  }

  /**
   * The upload under a claim: attempts while the platform refuses with a retryable status or the request never
   * left; resolves the uid; throws UnknownUpload the moment an attempt was sent and got no usable answer.
   */
  private async uploadUnderClaim(composition: StoredComposition, fileName: string, signal: AbortSignal | undefined): Promise<string> {
    const body = await multipartFile('file', fileName, this.fileMimeType, JSON.stringify(composition));
    const url = uploadUrl(this.settings.apiUrl, this.settings.connectorUid);
    const context = { connectorUid: this.settings.connectorUid };
    for (let attempt = 1; ; attempt++) {
      const sentAt = new Date().toISOString();
      let result: UploadAttempt;
      let response: SendResponse | undefined;
      try {
        response = await this.send({ url, method: 'POST', headers: this.headers(), body, timeoutMs: this.uploadTimeoutMs, signal });
        result = classifyUploadAnswer(response);
      } catch (error) {
        if (!(error instanceof SendError)) throw error;
        result = classifyUploadFailure(error);
        if (result.kind === 'refused' && error.reason === 'cancelled') throw cancelled('upload');
        if (result.kind === 'refused' && attempt > this.retries) {
          throw error.reason === 'timeout' ? storageTimeoutError('upload', this.uploadTimeoutMs, attempt) : storageNetworkError('upload', error, attempt);
        }
      }
      if (result.kind === 'stored') return result.uid;
      if (result.kind === 'unknown') throw new UnknownUpload(result.reason, sentAt);
      if (result.redirect !== undefined) throw redirected('upload', result.status ?? 0, result.redirect, this.settings.apiUrl);
      if (!result.retry || attempt > this.retries) {
        if (response) throw storageStatusError('upload', response.status, response.body, { ...context, attempts: attempt });
        throw storageNetworkError('upload', new Error(result.reason), attempt);
      }
      this.logger?.warn('Retried storage request', { operation: 'upload', attempt, retriesLeft: this.retries - attempt + 1, reason: result.reason, status: result.status });
      await this.pause(attempt, signal, 'upload');
    }
  }

  /** A read with timeouts and retries (5xx, timeouts, network errors); resolves the body of a 2xx answer. */
  private async readWithRetries(uid: string, signal: AbortSignal | undefined): Promise<string> {
    const url = readUrl(this.settings.apiUrl, uid);
    for (let attempt = 1; ; attempt++) {
      let response: SendResponse;
      try {
        response = await this.send({ url, method: 'GET', headers: this.headers(), timeoutMs: this.timeoutMs, signal });
      } catch (error) {
        if (!(error instanceof SendError)) throw error;
        if (error.reason === 'cancelled') throw cancelled('read');
        if (attempt > this.retries) throw error.reason === 'timeout' ? storageTimeoutError('read', this.timeoutMs, attempt) : storageNetworkError('read', error, attempt);
        this.logger?.warn('Retried storage request', { operation: 'read', attempt, retriesLeft: this.retries - attempt + 1, reason: error.reason });
        await this.pause(attempt, signal, 'read');
        continue;
      }
      if (response.status >= 200 && response.status <= 299) return response.body;
      if (response.status >= 300 && response.status <= 399) throw redirected('read', response.status, response.location, this.settings.apiUrl);
      if (!isRetryableStatus(response.status) || attempt > this.retries) throw storageStatusError('read', response.status, response.body, { uid, attempts: attempt });
      this.logger?.warn('Retried storage request', { operation: 'read', attempt, retriesLeft: this.retries - attempt + 1, reason: 'status', status: response.status });
      await this.pause(attempt, signal, 'read');
    }
  }
}

/** The error for a redirect answer: never followed, since the request carries the token and Project-Key. */
function redirected(operation: 'upload' | 'read', status: number, location: string | undefined, apiUrl: string): ComposerError {
  const target = redirectOrigin(location, apiUrl);
  return new ComposerError(
    'UPSTREAM_ERROR',
    `The Composer storage API answered the ${operation} with a redirect (HTTP ${status}) to ${target}. Redirects are not followed: the request carries the access token and Project-Key, which must not go anywhere but the configured API.${operation === 'upload' ? ' The composition was not stored by this call.' : ''}`,
    `Set ${SETTING_ENV.apiUrl} to the URL the storage API really answers on (check the redirect target yourself before trusting it).`,
    { details: { status, operation, redirectOrigin: target } },
  );
}

function cancelled(operation: 'upload' | 'read'): ComposerError {
  return new ComposerError('CANCELLED', `The ${operation} was cancelled${operation === 'upload' ? ' before it was sent' : ''}.`, 'Call the tool again if you still want it; a repeated save is idempotent.');
}
