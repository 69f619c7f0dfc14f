import type { PageAccessSettings } from '../broker/page-access-settings.ts';
import type { CaptureLimits } from '../session/page-capture.ts';
import type { ComposerPageSettings } from '../session/page-settings.ts';

/**
 * Where the Composer and its storage API live, and the credentials the server uses for them. Every value comes from
 * configuration (never from a tool argument). Credentials are optional: work that needs one fails with NOT_CONFIGURED
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
  /** How the browser work recognises a rendered composition (`composer.page.*`; defaults in page-settings.ts). */
  page?: Partial<ComposerPageSettings>;
  /** What a page may ask of the API through the server (defaults when absent). */
  pageAccess?: Partial<PageAccessSettings>;
  /** Bounds of screenshots, PDFs and DOM reads (defaults when absent). */
  capture?: Partial<CaptureLimits>;
}
