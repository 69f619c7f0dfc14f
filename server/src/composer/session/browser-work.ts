import type { Page } from 'playwright-core';
import { createLogger } from '#common/logger.ts';
import { ComposerError } from '../composer-error.ts';
import type { BrowserLease, BrowserLeaser } from '../ports/browser-leaser.ts';
import type { ComposerSettings } from '../ports/composer-settings.ts';
import type { ProgressReporter } from '../ports/progress.ts';
import { BrowserCredentialBroker, type BrokeredLease } from '../broker/browser-broker.ts';
import type { FailedApiRelay, LeaseCredentials, RefusedApiCall } from '../broker/lease-credentials.ts';
import type { ReservedLookAlikes } from '../broker/reserved-look-alikes.ts';
import { pageAccessRules, resolvePageAccess } from '../broker/page-access-settings.ts';
import { sanitizeCompositionJsonForView } from '../html/sanitize-composition.ts';
import { notACompositionError } from '../storage/stored-content.ts';
import { SETTING_ENV } from '../storage/upstream-errors.ts';
import { resolveCaptureLimits, type CaptureLimits } from './page-capture.ts';
import { guardAgainstFloods } from './page-flood-guard.ts';
import { resolvePageSettings, type ComposerPageSettings } from './page-settings.ts';
import { PageSession } from './page-session.ts';
import { takePreparedSession } from './page-preparation.ts';
import { reportedUrl } from './reported-url.ts';
import { visitComposition, type CompositionView, type CompositionVisit, type VisitTotals } from './visit-composition.ts';
import { VisitPhases } from './visit-phases.ts';

const logger = createLogger({ component: 'browser-work' });

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

/** What browser work needs of the services: the settings and the browser pool (undefined: none configured). */
export interface BrowserWorkServices {
  settings: ComposerSettings;
  browsers: BrowserLeaser | undefined;
}

/** The leaser, or NOT_CONFIGURED naming the settings that are missing for browser work. */
export function requireBrowserWork(services: BrowserWorkServices): BrowserLeaser {
  if (!services.settings.accessToken) {
    throw new ComposerError('NOT_CONFIGURED', `Opening a composition signs the browser in with the Composer access token, and ${SETTING_ENV.accessToken} is not set.`, `Set ${SETTING_ENV.accessToken} in the server's environment (or composer.accessToken / composer.accessTokenFile in its config file) and restart it. Tokens are never accepted as tool arguments.`, { details: { missing: [SETTING_ENV.accessToken] } });
  }
  if (!services.browsers) {
    throw new ComposerError('NOT_CONFIGURED', 'No browser pool is configured, and opening or previewing a composition needs a browser.', `Set ${BROWSERS_SOURCE_ENV} to "local" (browsers started by the server), "static" or "kubernetes", then restart the server.`, { details: { missing: [BROWSERS_SOURCE_ENV] } });
  }
  return services.browsers;
}

/**
 * The ComposerError of a failure of the browser work itself — the page's renderer crashed, the call was cancelled, a
 * Playwright timeout — or undefined for anything else. The browser pool's own errors (busy, unavailable, a browser
 * that died, the lease deadline) are not the domain's: they pass through unchanged and the tools layer maps them.
 */
export function browserWorkFailure(error: unknown): ComposerError | undefined {
  if (error instanceof ComposerError) return error;
  if (isTargetCrash(error)) return pageCrashed(error);
  if (error instanceof Error && error.name === 'AbortError') {
    return new ComposerError('CANCELLED', 'The call was cancelled before the composition was opened.', 'Call the tool again if you still need it.', { cause: error });
  }
  if (error instanceof Error && error.name === 'TimeoutError') {
    return new ComposerError('UPSTREAM_TIMEOUT', `The browser work timed out: ${error.message.split('\n')[0]}`, 'Try again; if it persists, the Composer is slow or down.', { cause: error });
  }
  return undefined;
}

/**
 * True for Playwright's error when the page's renderer process is gone (crashed or killed). The browser pool's own
 * errors carry a stable `code` (BROWSER_FAILED…) whatever their message quotes: they are not this.
 */
function isTargetCrash(error: unknown): boolean {
  return error instanceof Error && typeof (error as { code?: unknown }).code !== 'string' && /Target crashed|Page crashed/i.test(error.message);
}

/** The BROWSER_FAILED error for a page whose renderer crashed. */
function pageCrashed(cause?: unknown): ComposerError {
  return new ComposerError('BROWSER_FAILED', 'The page\'s renderer crashed while the composition was open (it ran out of memory or was killed); nothing was captured.', 'Call the tool again to retry on a fresh page; if it crashes again, the composition is too heavy to render (very large media, or a script that allocates without end): check its content.', { cause });
}

/**
 * Rejects with the BROWSER_FAILED ComposerError when `page`'s renderer crashes (Playwright calls on a crashed page
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
async function openReadOnlyLease(lease: BrowserLease, settings: ComposerSettings, uid: string, phases: VisitPhases, reserved: ReservedLookAlikes | undefined): Promise<BrokeredLease> {
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
    appOrigin: new URL(settings.composerUrl).origin,
    phases,
    reserved,
  });
}

/**
 * `details` of a visit failure with every page-made URL reduced to origin and path, the API calls the server refused
 * and those it could not complete, and their totals.
 */
function reportedDetails(details: Record<string, unknown> | undefined, credentials: LeaseCredentials): Record<string, unknown> {
  const out: Record<string, unknown> = { ...details, refusedApiCalls: [...credentials.refused], failedApiRelays: [...credentials.failedRelays] };
  if (Array.isArray(out['blockedNavigations'])) out['blockedNavigations'] = out['blockedNavigations'].map(reportedBlock);
  const totals = typeof out['totals'] === 'object' && out['totals'] !== null ? out['totals'] : {};
  out['totals'] = { ...totals, refusedApiCalls: credentials.refusedTotal, failedApiRelays: credentials.failedRelayTotal };
  return out;
}

/** A blocked request as reported: origin and path, method and type. */
function reportedBlock(blocked: unknown): { url: string } {
  const b = blocked as { url?: unknown; method?: unknown; resourceType?: unknown };
  return { url: reportedUrl(String(b.url ?? '')), ...(typeof b.method === 'string' ? { method: b.method.slice(0, 16) } : {}), ...(typeof b.resourceType === 'string' ? { resourceType: b.resourceType } : {}) };
}

/** The capture step of `withComposerPage`: the open page and the call's CDP session of it. */
export interface ComposerPageWork<T> {
  (lease: BrowserLease, session: PageSession): Promise<T>;
}

/** A capture started during the quiet window, and whether it shows the page at ready (decided with readiness). */
interface EarlyCapture<T> {
  captured: Promise<{ value: T } | { error: unknown }>;
  showsReady: Promise<boolean>;
}

/** `work`'s outcome as a value (an early capture's failure is not the call's: the page is captured again). */
function settledOf<T>(work: Promise<T>): Promise<{ value: T } | { error: unknown }> {
  return work.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
}

/** The early capture's picture when it shows the page at ready (pure decision in visit-composition.ts); else undefined. */
async function earlyResult<T>(early: EarlyCapture<T>): Promise<{ value: T } | undefined> {
  const [showsReady, captured] = await Promise.all([early.showsReady, early.captured]);
  return showsReady && 'value' in captured ? captured : undefined;
}

/**
 * A visit as tools report it: page-made URLs reduced to origin and path, the API calls the server refused, the
 * allowed ones it could not complete, the values of the composition the view sanitiser changed before the app got
 * it, and how many of each there were (the lists are bounded).
 */
export type ReportedVisit = Omit<CompositionVisit, 'totals'> & {
  refusedApiCalls: RefusedApiCall[];
  failedApiRelays: FailedApiRelay[];
  sanitizedFields: string[];
  totals: VisitTotals & { refusedApiCalls: number; failedApiRelays: number };
};

/**
 * Leases a browser, opens `uid` in the given view (signed in with look-alike credentials, ready per composer.md),
 * runs `capture` on the open page, and returns its result with the visit and the browser id. The lease is
 * read-only: the browser's credential broker puts the real credentials only on the sign-in check and the read of
 * `uid`, and refuses (and reports) every other API call of the page. Reports progress in 3 steps; a renderer crash,
 * a cancellation or a Playwright timeout becomes a ComposerError, the browser pool's own failures pass through (the
 * tools layer maps them). A result is returned as soon as it is captured, and the lease's context is closed right
 * after (the router holds the slot until then); a failure is thrown once the lease has ended.
 */
export async function withComposerPage<T>(
  services: BrowserWorkServices,
  options: {
    uid: string;
    view: CompositionView;
    signal: AbortSignal;
    reportProgress: ProgressReporter;
    capture: ComposerPageWork<T>;
    /**
     * Start the capture during the quiet window (once all else of readiness holds), and use it only if the page did
     * not change from before it started until ready; otherwise it is dropped and the page captured again after ready.
     */
    captureEarly?: boolean;
  },
): Promise<{ visit: ReportedVisit; captured: T; browserId: string }> {
  const browsers = requireBrowserWork(services);
  const page = pageSettingsOf(services.settings);
  const phases = new VisitPhases();
  await options.reportProgress(0, 3, 'Waiting for a browser');
  // The result is answered once captured: closing the context (10-20 ms of Chromium's work) happens after, while
  // the router still counts the slot as taken, so the browser's cap holds. A failure still waits for the lease's end.
  const { promise: answered, resolve: answer } = Promise.withResolvers<{ visit: ReportedVisit; captured: T; browserId: string }>();
  let answeredAlready = false;
  try {
    const leased = browsers.withLease(
      async (lease) => {
        // A retry the router starts after the answer was given (a browser that failed as the work ended) has nothing to do.
        if (answeredAlready) throw new Error('this call was already answered');
        phases.mark('lease.handed-over');
        const crash = watchForCrash(lease.page);
        const flood = guardAgainstFloods(lease.page);
        // The broker's side of the lease and the call's CDP session of the page, at once; neither outlives a failure of the other.
        // The page's session made and prepared ahead by the pool (page-preparation.ts), or one of its own; the broker
        // binds the look-alikes a warm page was signed in with ahead, when it can (else the visit seeds new ones).
        const prepared = takePreparedSession(lease.page);
        const [brokerOpened, sessionOpened] = await Promise.allSettled([
          prepared.then((ahead) => openReadOnlyLease(lease, services.settings, options.uid, phases, ahead?.seeded?.lookAlikes)),
          prepared.then((ahead) => ahead ?? PageSession.attach(lease.context, lease.page)),
        ]);
        if (brokerOpened.status === 'rejected' || sessionOpened.status === 'rejected') {
          if (brokerOpened.status === 'fulfilled') brokerOpened.value.release();
          if (sessionOpened.status === 'fulfilled') sessionOpened.value.detach();
          crash.dispose();
          flood.dispose();
          throw brokerOpened.status === 'rejected' ? brokerOpened.reason : (sessionOpened as PromiseRejectedResult).reason;
        }
        const brokered = brokerOpened.value;
        const session = sessionOpened.value;
        phases.mark('broker.opened');
        const { credentials } = brokered;
        try {
          await options.reportProgress(1, 3, `Opening the composition in the ${options.view === 'editor' ? 'editor' : 'learner view'}`);
          // The page is signed in with the look-alikes; the real credentials never enter the browser.
          const pageSettings: ComposerSettings = { ...services.settings, accessToken: credentials.token, projectKey: credentials.projectKey };
          let early: EarlyCapture<T> | undefined;
          const captureEarly = options.captureEarly
            ? (showsReady: Promise<boolean>) => {
                phases.mark('capture.early-start');
                early = { captured: settledOf(options.capture(lease, session)), showsReady };
              }
            : undefined;
          const visit = await Promise.race([visitComposition(lease, { settings: pageSettings, page, uid: options.uid, view: options.view, signal: options.signal, phases, session, servedDocument: () => credentials.servedDocument, captureEarly }), crash.crashed, flood.flooded]);
          await options.reportProgress(2, 3, 'Capturing the page');
          phases.mark('capture.start');
          // The early capture is the picture at ready only if the probe saw no change after it began; else captured again.
          const fromEarly = early === undefined ? undefined : await Promise.race([earlyResult(early), crash.crashed, flood.flooded]);
          phases.mark(early === undefined ? 'capture.late' : fromEarly === undefined ? 'capture.early-dropped' : 'capture.early-used');
          const captured = fromEarly !== undefined ? fromEarly.value : await Promise.race([options.capture(lease, session), crash.crashed, flood.flooded]);
          phases.mark('capture.done');
          await options.reportProgress(3, 3, 'Done');
          const reported: ReportedVisit = {
            ...visit,
            blockedNavigations: visit.blockedNavigations.map(reportedBlock),
            refusedApiCalls: [...credentials.refused],
            failedApiRelays: [...credentials.failedRelays],
            sanitizedFields: [...credentials.sanitizedFields],
            totals: { ...visit.totals, refusedApiCalls: credentials.refusedTotal, failedApiRelays: credentials.failedRelayTotal },
          };
          const result = { visit: reported, captured, browserId: lease.browserId };
          answeredAlready = true;
          answer(result);
          return result;
        } catch (error) {
          // The app's read was answered 502 because what is stored is not a composition: say that, not "platform trouble".
          if (credentials.notAComposition !== undefined && error instanceof ComposerError && error.code !== 'CANCELLED') {
            throw notACompositionError(options.uid, credentials.notAComposition, reportedDetails(error.details, credentials));
          }
          if (error instanceof ComposerError && error.code !== 'CANCELLED') throw error.withDetails(reportedDetails(error.details, credentials));
          throw error;
        } finally {
          brokered.release();
          session.detach();
          crash.dispose();
          flood.dispose();
        }
      },
      { idempotent: true, signal: options.signal, allowedOrigins: composerOrigins(services.settings) },
    );
    void leased.then(
      () => phases.mark('lease.closed'),
      () => phases.mark('lease.failed'),
    ).finally(() => logger.debug('Visit phases', { view: options.view, ...phases.toJSON() }));
    const done = await Promise.race([answered, leased]);
    phases.mark('answered');
    return done;
  } catch (error) {
    throw browserWorkFailure(error) ?? error;
  }
}
