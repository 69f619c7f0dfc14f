import { parseApiCallRule, type ApiCallRule } from './read-only-policy.ts';

/**
 * What a page in a pooled browser may ask of the storage API through the server (configuration
 * `composer.pageAccess`). Open and preview are read-only: the sign-in check and the read of the composition
 * being viewed always pass; `readOnlyApiCalls` adds the reads a real app needs to render.
 */
export interface PageAccessSettings {
  /** Extra calls, each `"GET /path/pattern"` relative to the API URL (`*` one segment, `**` anything). */
  readOnlyApiCalls: string[];
  /** Timeout of one call the server makes for a page. */
  upstreamTimeoutMs: number;
  /** Largest answer relayed to a page, in bytes. */
  maxResponseBytes: number;
  /** Most calls relayed for one open or preview. */
  maxApiCallsPerLease: number;
}

/** The defaults. */
export const DEFAULT_PAGE_ACCESS: Readonly<PageAccessSettings> = Object.freeze({
  readOnlyApiCalls: [],
  upstreamTimeoutMs: 15_000,
  maxResponseBytes: 10 * 1024 * 1024,
  maxApiCallsPerLease: 100,
});

/** The settings in effect: `overrides` over the defaults. */
export function resolvePageAccess(overrides: Partial<PageAccessSettings> | undefined): PageAccessSettings {
  return { ...DEFAULT_PAGE_ACCESS, readOnlyApiCalls: [...DEFAULT_PAGE_ACCESS.readOnlyApiCalls], ...overrides };
}

/** The configured extra calls, parsed; throws naming the bad entry. */
export function pageAccessRules(settings: PageAccessSettings): ApiCallRule[] {
  return settings.readOnlyApiCalls.map((text) => parseApiCallRule(text));
}
