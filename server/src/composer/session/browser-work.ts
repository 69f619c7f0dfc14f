import type { Page } from 'playwright-core';
import { BrowserBusyError, BrowserFailedError, BrowserUnavailableError, LeaseDeadlineError } from '#server/browsers/errors.ts';
import { ToolError, type ProgressReporter } from '#server/tools/tool-definition.ts';
import type { BrowserLease, BrowserLeaser, ComposerServices, ComposerSettings } from '#server/tools/services.ts';
import { BrowserCredentialBroker, type BrokeredLease } from '../broker/browser-broker.ts';
import type { RefusedApiCall } from '../broker/lease-credentials.ts';
import { pageAccessRules, resolvePageAccess } from '../broker/page-access-settings.ts';
import { sanitizeCompositionJsonForView } from '../html/sanitize-composition.ts';
import { SETTING_ENV } from '../storage/upstream-errors.ts';
import { resolveCaptureLimits, type CaptureLimits } from './page-capture.ts';
import { guardAgainstFloods } from './page-flood-guard.ts';
import { resolvePageSettings, type ComposerPageSettings } from './page-settings.ts';
import { reportedUrl } from './reported-url.ts';
import { visitComposition, type CompositionView, type CompositionVisit } from './visit-composition.ts';

/** The environment variable that chooses where browsers come from. */
export const BROWSERS_SOURCE_ENV = 'COMPOSER_MCP_BROWSERS__SOURCE';

/** The page settings of `settings` (`composer.page.*` in configuration) over the defaults. */
export function pageSettingsOf(settings: ComposerSettings): ComposerPageSettings {
  return resolvePageSettings(settings.page);
}

/** The capture limits of `settings` (an optional `capture` object in the Composer configuration) over the defaults. */
export function captureLimitsOf(settings: ComposerSettings): CaptureLimits {
  return resolveCaptureLimits(settings.capture);
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
  if (error instanceof LeaseDeadlineError) {
    return new ToolError('UPSTREAM_TIMEOUT', `The browser work passed its deadline of ${error.deadlineMs} ms and was stopped: its page was closed and its browser slot freed.`, 'The page kept running (a script that never ends, or content too heavy to render in time). Check the composition; if the Composer is only slow, raise browsers.leaseDeadlineMs.', { cause: error, details: { deadlineMs: error.deadlineMs } });
  }
  if (isTargetCrash(error)) return pageCrashed(error);
  if (error instanceof Error && error.name === 'AbortError') {
    return new ToolError('CANCELLED', 'The call was cancelled before the composition was opened.', 'Call the tool again if you still need it.', { cause: error });
  }
  if (error instanceof Error && error.name === 'TimeoutError') {
    return new ToolError('UPSTREAM_TIMEOUT', `The browser work timed out: ${error.message.split('\n')[0]}`, 'Try again; if it persists, the Composer is slow or down.', { cause: error });
  }
  return error;
}

/** True for Playwright's error when the page's renderer process is gone (crashed or killed). */
function isTargetCrash(error: unknown): boolean {
  return error instanceof Error && /Target crashed|Page crashed/i.test(error.message);
}

/** The BROWSER_FAILED error for a page whose renderer crashed. */
function pageCrashed(cause?: unknown): ToolError {
  return new ToolError('BROWSER_FAILED', 'The page\'s renderer crashed while the composition was open (it ran out of memory or was killed); nothing was captured.', 'Call the tool again to retry on a fresh page; if it crashes again, the composition is too heavy to render (very large media, or a script that allocates without end): check its content.', { cause });
}

/**
 * Rejects with the BROWSER_FAILED ToolError when `page`'s renderer crashes (Playwright calls on a crashed page
 * may otherwise wait for a timeout); `dispose` stops watching.
 */
function watchForCrash(page: Page): { crashed: Promise<never>; dispose: () => void } {
  let onCrash = (): void => undefined;
  const crashed = new Promise<never>((_resolve, reject) => {
    onCrash = () => reject(pageCrashed());
    page.once('crash', onCrash);
  });
  crashed.catch(() => undefined);
  return { crashed, dispose: () => page.off('crash', onCrash) };
}

/**
 * Starts the server's side of a read-only lease on `lease`'s browser: look-alike credentials for the page, the
 * real ones put on its allowed API calls by the browser's credential broker.
 */
async function openReadOnlyLease(lease: BrowserLease, settings: ComposerSettings, uid: string): Promise<BrokeredLease> {
  const browser = lease.context.browser();
  if (browser === null) throw new Error('the lease\'s context has no browser to broker credentials on');
  const access = resolvePageAccess(settings.pageAccess);
  const broker = await BrowserCredentialBroker.forBrowser(browser);
  return broker.open({
    uid,
    apiUrl: settings.apiUrl,
    apiEnv: settings.apiEnv,
    accessToken: settings.accessToken ?? '',
    projectKey: settings.projectKey,
    rules: pageAccessRules(access),
    upstreamTimeoutMs: access.upstreamTimeoutMs,
    maxResponseBytes: access.maxResponseBytes,
    maxRelayedCalls: access.maxApiCallsPerLease,
    // The document is hostile whoever saved it: the app gets it sanitised, so its HTML cannot run script.
    viewDocument: sanitizeCompositionJsonForView,
  });
}

/** `details` of a visit failure with every page-made URL reduced to origin and path, and the refused API calls. */
function reportedDetails(details: Record<string, unknown> | undefined, refusedApiCalls: RefusedApiCall[]): Record<string, unknown> {
  const out: Record<string, unknown> = { ...details, refusedApiCalls };
  if (Array.isArray(out['blockedNavigations'])) out['blockedNavigations'] = out['blockedNavigations'].map(reportedBlock);
  return out;
}

/** A blocked request as reported: origin and path, method and type. */
function reportedBlock(blocked: unknown): { url: string } {
  const b = blocked as { url?: unknown; method?: unknown; resourceType?: unknown };
  return { url: reportedUrl(String(b.url ?? '')), ...(typeof b.method === 'string' ? { method: b.method.slice(0, 16) } : {}), ...(typeof b.resourceType === 'string' ? { resourceType: b.resourceType } : {}) };
}

/** What `withComposerPage` hands to the capture step. */
export interface ComposerPageWork<T> {
  (lease: BrowserLease, visit: CompositionVisit): Promise<T>;
}

/**
 * A visit as tools report it: page-made URLs reduced to origin and path, the API calls the server refused, and
 * the values of the composition the view sanitiser changed before the app got it.
 */
export type ReportedVisit = CompositionVisit & { refusedApiCalls: RefusedApiCall[]; sanitizedFields: string[] };

/**
 * Leases a browser, opens `uid` in the given view (signed in with look-alike credentials, ready per composer.md),
 * runs `capture` on the open page, and returns its result with the visit and the browser id. The lease is
 * read-only: the browser's credential broker puts the real credentials only on the sign-in check and the read of
 * `uid`, and refuses (and reports) every other API call of the page. Reports progress in 3 steps; maps pool,
 * browser, deadline and renderer-crash failures to ToolErrors. The lease ends when this returns.
 */
export async function withComposerPage<T>(
  services: ComposerServices,
  options: { uid: string; view: CompositionView; signal: AbortSignal; reportProgress: ProgressReporter; capture: ComposerPageWork<T> },
): Promise<{ visit: ReportedVisit; captured: T; browserId: string }> {
  const browsers = requireBrowserWork(services);
  const page = pageSettingsOf(services.settings);
  await options.reportProgress(0, 3, 'Waiting for a browser');
  try {
    return await browsers.withLease(
      async (lease) => {
        const crash = watchForCrash(lease.page);
        const flood = guardAgainstFloods(lease.page);
        const brokered = await openReadOnlyLease(lease, services.settings, options.uid);
        const { credentials } = brokered;
        try {
          await options.reportProgress(1, 3, `Opening the composition in the ${options.view === 'editor' ? 'editor' : 'learner view'}`);
          // The page is signed in with the look-alikes; the real credentials never enter the browser.
          const pageSettings: ComposerSettings = { ...services.settings, accessToken: credentials.token, projectKey: credentials.projectKey };
          const visit = await Promise.race([visitComposition(lease, { settings: pageSettings, page, uid: options.uid, view: options.view, signal: options.signal }), crash.crashed, flood.flooded]);
          await options.reportProgress(2, 3, 'Capturing the page');
          const captured = await Promise.race([options.capture(lease, visit), crash.crashed, flood.flooded]);
          await options.reportProgress(3, 3, 'Done');
          const reported: ReportedVisit = { ...visit, blockedNavigations: visit.blockedNavigations.map(reportedBlock), refusedApiCalls: [...credentials.refused], sanitizedFields: [...credentials.sanitizedFields] };
          return { visit: reported, captured, browserId: lease.browserId };
        } catch (error) {
          if (error instanceof ToolError && error.code !== 'CANCELLED') {
            throw new ToolError(error.code, error.message, error.fix, { details: reportedDetails(error.details, credentials.refused), ...(error.retryAfterSeconds !== undefined ? { retryAfterSeconds: error.retryAfterSeconds } : {}), cause: error.cause });
          }
          throw error;
        } finally {
          brokered.release();
          crash.dispose();
          flood.dispose();
        }
      },
      { idempotent: true, signal: options.signal, allowedOrigins: composerOrigins(services.settings) },
    );
  } catch (error) {
    throw browserErrorToToolError(error);
  }
}
