/**
 * How the server recognises that the Composer has rendered a composition. composer.md knows no stable selector, so
 * by default readiness rests on the document itself — its title and the text or media of every widget found
 * visible in whatever DOM the app builds — a quiet DOM, and loaded fonts and images. Every DOM-specific signal here
 * is optional configuration (`composer.page.*`), empty by default.
 */
export interface ComposerPageSettings {
  /** Longest wait, from navigation until the composition is rendered, in milliseconds. */
  readyTimeoutMs: number;
  /** The DOM must not have changed for this long before the page counts as rendered, in milliseconds. */
  domQuietMs: number;
  /** A partial render (some widgets seen, others not) is reported once the DOM has not changed for this long. */
  partialRenderSettleMs: number;
  /** Require the document's title to be seen on the page (turn off for an app view that does not show it). */
  requireTitle: boolean;
  /** Optional selector that must be visible before the page counts as ready (empty = none). */
  readySelector: string;
  /** Optional selector of the app's loading placeholder; while one is visible the page is not ready (empty = none). */
  loadingSelector: string;
  /** Optional selector of one rendered widget; empty = find widgets by their content. */
  widgetSelector: string;
  /** Attribute of a widget element holding its type (with widgetSelector; empty = take it from the document). */
  widgetTypeAttribute: string;
  /** Attribute of a widget element holding its id (with widgetSelector; empty = match widgets by page order). */
  widgetIdAttribute: string;
  /** Bytes of the Composer's immutable app assets kept in memory and served to every lease (0 = off). */
  assetCacheBytes: number;
  /** Viewport of screenshots. */
  viewport: { width: number; height: number };
}

/** The defaults: nothing DOM-specific, so they hold for a Composer we did not write. */
export const DEFAULT_PAGE_SETTINGS: Readonly<ComposerPageSettings> = Object.freeze({
  readyTimeoutMs: 30_000,
  domQuietMs: 30,
  partialRenderSettleMs: 3_000,
  requireTitle: true,
  readySelector: '',
  loadingSelector: '',
  widgetSelector: '',
  widgetTypeAttribute: '',
  widgetIdAttribute: '',
  assetCacheBytes: 64 * 1024 * 1024,
  viewport: Object.freeze({ width: 1280, height: 800 }),
});

/** The page settings in effect: `overrides` (e.g. `settings.page` from configuration) over the defaults. */
export function resolvePageSettings(overrides: Partial<ComposerPageSettings> | undefined): ComposerPageSettings {
  return { ...DEFAULT_PAGE_SETTINGS, ...overrides, viewport: { ...DEFAULT_PAGE_SETTINGS.viewport, ...overrides?.viewport } };
}
