import { BrowserBusyError, BrowserFailedError, BrowserUnavailableError } from '#server/browsers/errors.ts';
import { ToolError, type ProgressReporter } from '#server/tools/tool-definition.ts';
import type { BrowserLease, BrowserLeaser, ComposerServices, ComposerSettings } from '#server/tools/services.ts';
import { SETTING_ENV } from '../storage/upstream-errors.ts';
import { resolvePageSettings, type ComposerPageSettings } from './page-settings.ts';
import { visitComposition, type CompositionView, type CompositionVisit } from './visit-composition.ts';

/** The environment variable that chooses where browsers come from. */
export const BROWSERS_SOURCE_ENV = 'COMPOSER_MCP_BROWSERS__SOURCE';

/** The page settings of `settings` (`composer.page.*` in configuration) over the defaults. */
export function pageSettingsOf(settings: ComposerSettings): ComposerPageSettings {
  return resolvePageSettings(settings.page);
}

/** The origins a Composer lease may load: the app's and the API's. */
export function composerOrigins(settings: ComposerSettings): string[] {
  return [...new Set([new URL(settings.composerUrl).origin, new URL(settings.apiUrl).origin])];
}

/** The leaser, or NOT_CONFIGURED naming the settings that are missing for browser work. */
export function requireBrowserWork(services: ComposerServices): BrowserLeaser {
  if (!services.settings.accessToken) {
    throw new ToolError('NOT_CONFIGURED', `Opening a composition signs the browser in with the Composer access token, and ${SETTING_ENV.accessToken} is not set.`, `Set ${SETTING_ENV.accessToken} in the server's environment (or composer.accessToken / composer.accessTokenFile in its config file) and restart it. Tokens are never accepted as tool arguments.`, { details: { missing: [SETTING_ENV.accessToken] } });
  }
  if (!services.browsers) {
    throw new ToolError('NOT_CONFIGURED', 'No browser pool is configured, and opening or previewing a composition needs a browser.', `Set ${BROWSERS_SOURCE_ENV} to "local" (browsers started by the server), "static" or "kubernetes", then restart the server.`, { details: { missing: [BROWSERS_SOURCE_ENV] } });
  }
  return services.browsers;
}

/** Turns the router's errors and Playwright timeouts into ToolErrors; anything else is returned unchanged. */
export function browserErrorToToolError(error: unknown): unknown {
  if (error instanceof ToolError) return error;
  if (error instanceof BrowserBusyError) {
    return new ToolError('BROWSER_BUSY', error.message, `Every browser is busy; call again in about ${error.retryAfterSeconds} s.`, { retryAfterSeconds: error.retryAfterSeconds });
  }
  if (error instanceof BrowserUnavailableError) {
    return new ToolError('BROWSER_FAILED', error.message, 'No healthy browser is available; check the browser pool (composer_status shows it) and try again.', { cause: error });
  }
  if (error instanceof BrowserFailedError) {
    return new ToolError('BROWSER_FAILED', error.message, 'The browser died during the call; call the tool again (another browser will take it).', { cause: error });
  }
  if (error instanceof Error && error.name === 'AbortError') {
    return new ToolError('CANCELLED', 'The call was cancelled before the composition was opened.', 'Call the tool again if you still need it.', { cause: error });
  }
  if (error instanceof Error && error.name === 'TimeoutError') {
    return new ToolError('UPSTREAM_TIMEOUT', `The browser work timed out: ${error.message.split('\n')[0]}`, 'Try again; if it persists, the Composer is slow or down.', { cause: error });
  }
  return error;
}

/** What `withComposerPage` hands to the capture step. */
export interface ComposerPageWork<T> {
  (lease: BrowserLease, visit: CompositionVisit): Promise<T>;
}

/**
 * Leases a browser, opens `uid` in the given view (signed in, ready per composer.md), runs `capture` on the open
 * page, and returns its result with the visit and the browser id. Reports progress in 3 steps; maps pool and
 * browser failures to ToolErrors. The lease (and with it the token in the browser) ends when this returns.
 */
export async function withComposerPage<T>(
  services: ComposerServices,
  options: { uid: string; view: CompositionView; signal: AbortSignal; reportProgress: ProgressReporter; capture: ComposerPageWork<T> },
): Promise<{ visit: CompositionVisit; captured: T; browserId: string }> {
  const browsers = requireBrowserWork(services);
  const page = pageSettingsOf(services.settings);
  await options.reportProgress(0, 3, 'Waiting for a browser');
  try {
    return await browsers.withLease(
      async (lease) => {
        await options.reportProgress(1, 3, `Opening the composition in the ${options.view === 'editor' ? 'editor' : 'learner view'}`);
        const visit = await visitComposition(lease, { settings: services.settings, page, uid: options.uid, view: options.view, signal: options.signal });
        await options.reportProgress(2, 3, 'Capturing the page');
        const captured = await options.capture(lease, visit);
        await options.reportProgress(3, 3, 'Done');
        return { visit, captured, browserId: lease.browserId };
      },
      { idempotent: true, signal: options.signal, allowedOrigins: composerOrigins(services.settings) },
    );
  } catch (error) {
    throw browserErrorToToolError(error);
  }
}
