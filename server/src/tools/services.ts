import type { BrowserContext, Page } from 'playwright-core';
import type { PageAccessSettings } from '#server/composer/broker/page-access-settings.ts';
import type { CaptureLimits } from '#server/composer/session/page-capture.ts';
import type { ValidationLimits } from '#server/composer/validator/limits.ts';
import type { ComposerPageSettings } from '#server/composer/session/page-settings.ts';
import type { RouterStats } from '#server/browsers/router.ts';

export type { ValidationLimits } from '#server/composer/validator/limits.ts';

/**
 * Where the Composer and its storage API live, and the credentials the server uses for them. Every value comes from
 * configuration (never from a tool argument). Credentials are optional: tools that need one answer NOT_CONFIGURED
 * naming the missing setting.
 */
export interface ComposerSettings {
  /** Base URL of the Composer web app, e.g. `https://composer.euconquisto.com`. */
  composerUrl: string;
  /** Base URL of the DigitalPages platform API, e.g. `https://api.digitalpages.com.br`. */
  apiUrl: string;
  /** The Composer access token (a JWT); a secret. */
  accessToken?: string;
  /** The `Project-Key` header value; a secret. */
  projectKey?: string;
  /** The connector uid used in the upload route. */
  connectorUid?: string;
  /** The `Api-Env` header value; `'prd'` by default. */
  apiEnv: string;
  /** How the browser tools recognise a rendered composition (`composer.page.*`; defaults in page-settings.ts). */
  page?: Partial<ComposerPageSettings>;
  /** What a page may ask of the API through the server (defaults when absent). */
  pageAccess?: Partial<PageAccessSettings>;
  /** Bounds of screenshots, PDFs and DOM reads (defaults when absent). */
  capture?: Partial<CaptureLimits>;
}

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
 * The storage API client (implemented in `server/src/composer/storage-client.ts`). Upload is exactly-once per
 * idempotency key (a content hash when the caller gives none).
 */
export interface StorageClient {
  /**
   * Throws SAVE_OUTCOME_UNKNOWN when the upload (or an earlier one under the same key) was sent and got no answer;
   * `retryUnknown` uploads such a key again (the caller checked that it is not stored).
   */
  upload(composition: StoredComposition, options?: { idempotencyKey?: string; signal?: AbortSignal; retryUnknown?: boolean }): Promise<UploadResult>;
  read(uid: string, options?: { signal?: AbortSignal }): Promise<StoredComposition>;
}

/** A navigation a lease aborted because its origin was not allowed. */
export interface BlockedNavigationLike {
  url: string;
}

/**
 * What a tool gets for the duration of browser work: an isolated context and page on one browser. Structurally a
 * subset of the router's `Lease` (`server/src/browsers/router.ts`), so the router satisfies `BrowserLeaser`.
 */
export interface BrowserLease {
  browserId: string;
  context: BrowserContext;
  page: Page;
  /** Requests aborted because they went outside the allowed origins. */
  blocked: BlockedNavigationLike[];
}

/** Pool figures tools report: the router's own snapshot type. */
export type BrowserStatsLike = RouterStats;

/** The subset of `BrowserRouter` the tools use: leases (context closed in finally by the router) and stats. */
export interface BrowserLeaser {
  withLease<T>(work: (lease: BrowserLease) => Promise<T>, options?: { idempotent?: boolean; signal?: AbortSignal; allowedOrigins?: string[] }): Promise<T>;
  stats(): BrowserStatsLike;
}

/**
 * Everything the Composer tools need, built once by the server from configuration. `storage` and `browsers` are
 * undefined when not configured (offline mode: catalog, guidance, build and validate still work).
 */
export interface ComposerServices {
  /** Server version (package version), reported by composer_status. */
  version: string;
  settings: ComposerSettings;
  storage: StorageClient | undefined;
  browsers: BrowserLeaser | undefined;
  /** Limits the validator applies (quiz and flashcard counts, document size). */
  limits: ValidationLimits;
}
