/**
 * How the server recognises that the Composer has rendered a composition. composer.md knows no stable selectors,
 * so readiness rests on signals that do not depend on the DOM (the read request answered, the network idle, no
 * uncaught error); every selector here is configuration with a default that suits the stand-in.
 */
export interface ComposerPageSettings {
  /** Longest wait, from navigation until the composition is ready, in milliseconds. */
  readyTimeoutMs: number;
  /** Quiet period with no request in flight that counts as "network idle", in milliseconds. */
  networkIdleMs: number;
  /** Optional extra selector that must be visible before the page counts as ready (empty = none). */
  readySelector: string;
  /** Selector of one rendered widget (empty = do not inspect the DOM). */
  widgetSelector: string;
  /** Attribute of a widget element holding its type. */
  widgetTypeAttribute: string;
  /** Attribute of a widget element holding its id. */
  widgetIdAttribute: string;
  /** Viewport of screenshots. */
  viewport: { width: number; height: number };
}

/** The defaults (they match the stand-in; override them in configuration for the real Composer's DOM). */
export const DEFAULT_PAGE_SETTINGS: Readonly<ComposerPageSettings> = Object.freeze({
  readyTimeoutMs: 30_000,
  networkIdleMs: 250,
  readySelector: '',
  widgetSelector: '[data-widget-type]',
  widgetTypeAttribute: 'data-widget-type',
  widgetIdAttribute: 'data-widget-id',
  viewport: Object.freeze({ width: 1280, height: 800 }),
});

/** The page settings in effect: `overrides` (e.g. `settings.page` from configuration) over the defaults. */
export function resolvePageSettings(overrides: Partial<ComposerPageSettings> | undefined): ComposerPageSettings {
  return { ...DEFAULT_PAGE_SETTINGS, viewport: { ...DEFAULT_PAGE_SETTINGS.viewport }, ...overrides };
}
