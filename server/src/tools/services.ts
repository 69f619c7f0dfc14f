import type { ComposerSettings } from '#server/composer/ports/composer-settings.ts';
import type { BrowserLeaser } from '#server/composer/ports/browser-leaser.ts';
import type { StorageClient } from '#server/composer/ports/storage.ts';
import type { ValidationLimits } from '#server/composer/validator/limits.ts';

// The domain's ports, as the tools (and the composition root) name them.
export type { ComposerSettings } from '#server/composer/ports/composer-settings.ts';
export type { BlockedNavigationLike, BrowserLease, BrowserLeaser, BrowserPoolStats } from '#server/composer/ports/browser-leaser.ts';
export type { StorageClient, StoredComposition, UploadResult } from '#server/composer/ports/storage.ts';
export type { ValidationLimits } from '#server/composer/validator/limits.ts';

/**
 * Everything the Composer tools need, built once by the server from configuration (`server/src/services-factory.ts`).
 * `storage` and `browsers` are undefined when not configured (offline mode: catalog, guidance, build and validate
 * still work).
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
