import type { CDPSession, Request, Response } from 'playwright-core';
import { ComposerError } from '../composer-error.ts';
import type { BlockedNavigationLike, BrowserLease } from '../ports/browser-leaser.ts';
import type { ComposerSettings } from '../ports/composer-settings.ts';
import { editorUrl, embedUrl, isReadOf, isUserMe } from '../storage/composer-urls.ts';
import { SETTING_ENV } from '../storage/upstream-errors.ts';
import { EGRESS_REFUSAL_HEADER, EGRESS_REFUSAL_VALUE } from '#browser/egress/egress-policy.ts';
import type { ComposerPageSettings } from './page-settings.ts';
import { processAssetCache, type SharedAssetCache } from './asset-cache.ts';
import { PageWatcher, safeUrl, type FailedRequest, type PageDiagnosticTotals } from './page-diagnostics.ts';
import { awaitContentSeen, awaitRendered, ProbeLostError, probeWorld, type ProbeResult, type ProbeSpec } from './readiness-probe.ts';
import { readinessOf, reportedWidget, type ReadinessEvidence, type WidgetRef } from './readiness-report.ts';
import { MAX_CHECKED_WIDGETS, renderExpectationOf, type RenderExpectation } from './render-evidence.ts';
import { PageSession } from './page-session.ts';
import { prepareSession } from './page-preparation.ts';
import { installComposerSession, seedNeeded, sessionEntries } from './session-seed.ts';
import type { VisitPhases } from './visit-phases.ts';

export type { WidgetRef } from './readiness-report.ts';

/** Which view of a composition to open: the editor, or the embedded learner view. */
export type CompositionView = 'editor' | 'embed';

/** What opening a composition in the Composer showed. */
export interface CompositionVisit {
  url: string;
  view: CompositionView;
  /**
   * True only when the composition was seen rendered: its title and every widget's own text or media visible on
   * the page (or, with a widget selector configured, every widget's element), the DOM quiet for the configured
   * window, fonts and images loaded or failed — before the deadline.
   */
  ready: boolean;
  /** What was looked for and not seen when `ready` is false (empty when ready). */
  notSeen: string[];
  /** Status of the app's own read of the composition. */
  readStatus: number;
  /** Widgets of the document the app received, in page order. */
  documentWidgets: WidgetRef[];
  /** Widgets seen rendered (by their content, or by the configured selector), in page order. */
  renderedWidgets: WidgetRef[];
  /** Document widgets that were looked for and not seen. */
  missingWidgetIds: string[];
  /** Document widgets with nothing to look for (no text or media; no id with an id attribute configured). */
  unverifiedWidgetIds: string[];
  evidence: ReadinessEvidence;
  consoleErrors: string[];
  pageErrors: string[];
  failedRequests: FailedRequest[];
  blockedNavigations: BlockedNavigationLike[];
  /** How many of each the visit saw: the lists above keep only the first ones. */
  totals: VisitTotals;
  /** readMs: navigation → the app's read answered; readyMs: navigation → readiness decided; readyAt: that moment (epoch ms). */
  timings: { readMs: number; readyMs: number; readyAt: number };
}

/**
 * How many of each thing a visit saw. The lists of a visit are bounded (widgets by {@link DOM_READ_LIMITS}, page
 * errors and requests to the first 50), so their lengths are not the counts.
 */
export interface VisitTotals extends PageDiagnosticTotals {
  /** Widgets the document lists in its structure. */
  documentWidgets: number;
  blockedNavigations: number;
}

/** Widgets a composition lists in its `structure` (0 for anything else), however many are reported. */
export function documentWidgetCount(document: unknown): number {
  const structure = (document as { structure?: unknown } | null)?.structure;
  return Array.isArray(structure) ? structure.length : 0;
}

/** Options of one visit. */
export interface VisitOptions {
  settings: ComposerSettings;
  page: ComposerPageSettings;
  uid: string;
  view: CompositionView;
  signal?: AbortSignal;
  /** The asset cache to serve the app's assets from (default: the process's, when composer.page.assetCacheBytes > 0). */
  assetCache?: SharedAssetCache;
  /** Where the visit's time goes (marked when given). */
  phases?: VisitPhases;
  /** The caller's CDP session of the page, kept open after the visit for the capture (default: one of the visit's own). */
  session?: PageSession;
  /**
   * The body of the read as it was served to the page, when the caller served it (the credential broker): the
   * document is then taken from here instead of asked of the page (a round trip). Default: asked of the page.
   */
  servedDocument?: () => string | undefined;
  /**
   * Called at most once, when everything but the quiet window holds (the content visible, fonts and images settled),
   * for a capture to run during the window. `showsReady` resolves when readiness is decided: true only when the visit
   * is ready and the page did not change its DOM (nor load a font, image or frame) from before this call until then,
   * so a capture started by this call shows the page as it was at ready; false otherwise (the visit failed too).
   */
  captureEarly?: (showsReady: Promise<boolean>) => void;
}

type Outcome =
  | { kind: 'read'; response: Response }
  | { kind: 'egress-refused'; url: string; certain: boolean; what: 'page' | 'sign-in' | 'read' }
  | { kind: 'me-failed'; status: number }
  | { kind: 'request-failed'; url: string; failure: string }
  | { kind: 'navigation-failed'; error: Error }
  | { kind: 'timeout' }
  | { kind: 'cancelled' };

/**
 * Most widgets read from a page or listed from a document, and longest attribute value kept (a hostile page can make
 * millions): as many as readiness looks for (MAX_CHECKED_WIDGETS), so every widget a visit lists was looked for.
 */
export const DOM_READ_LIMITS = { elements: MAX_CHECKED_WIDGETS, attributeChars: 200 } as const;

/**
 * The widgets listed in a composition's `structure` (anything else yields none), read within the DOM read limits:
 * a stored document is hostile too (a 10 MB read can list 300 000 widgets with long types, which went whole into
 * the result), so at most {@link DOM_READ_LIMITS}.elements, each type and id cut to its attributeChars, without
 * control or format characters (reportedWidget).
 */
export function widgetsOf(document: unknown): WidgetRef[] {
  const structure = (document as { structure?: unknown } | null)?.structure;
  if (!Array.isArray(structure)) return [];
  return structure.slice(0, DOM_READ_LIMITS.elements).map((w: unknown) => {
    const widget = (w ?? {}) as { type?: unknown; id?: unknown };
    return reportedWidget({ type: typeof widget.type === 'string' ? widget.type.slice(0, DOM_READ_LIMITS.attributeChars) : 'unknown', id: typeof widget.id === 'string' ? widget.id.slice(0, DOM_READ_LIMITS.attributeChars) : null });
  });
}

/** Chromium's error for a CONNECT the browser pool's egress proxy refused, or could not connect upstream (both look alike). */
const TUNNEL_FAILURE = /ERR_TUNNEL_CONNECTION_FAILED/;

/**
 * Whether a request the page made was refused by the browser pool's egress proxy (pure): an HTTP answer marked with
 * its refusal header is certain; a tunnel failure (https, WebSockets) is a refusal or a connection failure behind the
 * proxy, which Chromium does not tell apart. Undefined when it is neither.
 */
export function egressRefusal(evidence: { status?: number; headers?: Record<string, string>; failure?: string }): { certain: boolean } | undefined {
  if (evidence.status !== undefined && evidence.status >= 400 && evidence.headers?.[EGRESS_REFUSAL_HEADER] === EGRESS_REFUSAL_VALUE) return { certain: true };
  if (evidence.failure !== undefined && TUNNEL_FAILURE.test(evidence.failure)) return { certain: false };
  return undefined;
}

/** The ComposerError for an app-side failure of the sign-in check or the read, or a refusal of the browsers' egress proxy. */
export function visitFailure(outcome: Exclude<Outcome, { kind: 'read' } | { kind: 'cancelled' } | { kind: 'navigation-failed' }> | { kind: 'read-status'; status: number }, uid: string, timeoutMs: number, details: Record<string, unknown>): ComposerError {
  switch (outcome.kind) {
    case 'egress-refused': {
      const origin = safeOrigin(outcome.url);
      const what = outcome.what === 'page' ? 'the Composer app' : outcome.what === 'sign-in' ? 'the Composer\'s sign-in check' : 'the Composer\'s read of the composition';
      const setting = outcome.what === 'page' ? SETTING_ENV.composerUrl : SETTING_ENV.apiUrl;
      const why = outcome.certain ? 'refused it: that origin is not among the origins the browsers may reach' : 'could not open a connection to it (ERR_TUNNEL_CONNECTION_FAILED): the origin is not among the origins the browsers may reach, or it is unreachable from the browsers';
      return new ComposerError(
        'NAVIGATION_BLOCKED',
        `The browser pool's egress proxy ${why}, so ${what} at ${origin} could not load.`,
        `Add ${origin} to the browser pool's allowed origins (BrowserPool spec.egress.allowedOrigins, or the browser gateway's allowedOrigins) if it is right, or correct ${setting} if the browsers should not go there${outcome.certain ? '' : '; if it is already allowed, check that the browsers can reach it'}.`,
        { details: { ...details, refusedOrigin: origin } },
      );
    }
    case 'me-failed':
      return outcome.status === 401 || outcome.status === 403
        ? new ComposerError('UNAUTHORIZED', `The Composer refused the configured access token (its sign-in check answered HTTP ${outcome.status}), so the app stays blank.`, `Set a valid, unexpired Composer access token in ${SETTING_ENV.accessToken} and restart the server.`, { details })
        : new ComposerError('UPSTREAM_ERROR', `The Composer's sign-in check failed with HTTP ${outcome.status}.`, 'The platform is having trouble; try again in a minute.', { details });
    case 'read-status':
      if (outcome.status === 401 || outcome.status === 403) return new ComposerError('UNAUTHORIZED', `The Composer could not read the composition: the storage API refused the token (HTTP ${outcome.status}).`, `Set a valid access token in ${SETTING_ENV.accessToken} and the matching ${SETTING_ENV.projectKey}.`, { details });
      if (outcome.status === 404) return new ComposerError('NOT_FOUND', `No composition with uid ${JSON.stringify(uid)} exists in the Composer storage.`, 'Check the uid: use the exact uid composer_save_composition returned.', { details });
      return new ComposerError('UPSTREAM_ERROR', `The Composer's read of the composition failed with HTTP ${outcome.status}.`, 'The platform is having trouble; try again in a minute.', { details });
    case 'request-failed':
      return new ComposerError('UPSTREAM_ERROR', `The Composer's request to ${safeUrl(outcome.url)} failed (${outcome.failure}).`, `Check that ${SETTING_ENV.apiUrl} is reachable from the browsers.`, { details });
    case 'timeout':
      return new ComposerError('UPSTREAM_TIMEOUT', `The Composer did not load the composition within ${timeoutMs} ms.`, 'Try again; if it persists, the Composer or its API is slow or down (see details for the errors the page showed).', { details });
  }
}

/** The origin of a URL as it may be reported, or the reported URL when it has none. */
function safeOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return safeUrl(url);
  }
}

/** The probe's instructions for one visit (pure). */
export function probeSpecOf(expectation: RenderExpectation, page: ComposerPageSettings, timeoutMs: number): ProbeSpec {
  const nothingToSee = expectation.widgets.length === 0 && (expectation.title === null || !page.requireTitle);
  return {
    expectation,
    requireTitle: page.requireTitle,
    quietMs: page.domQuietMs,
    settleMs: page.partialRenderSettleMs,
    // With nothing to look for, waiting for the deadline would prove nothing: stop after a settle window.
    timeoutMs: nothingToSee ? Math.min(timeoutMs, page.domQuietMs + page.partialRenderSettleMs) : timeoutMs,
    selectors: { widget: page.widgetSelector, typeAttribute: page.widgetTypeAttribute, idAttribute: page.widgetIdAttribute, ready: page.readySelector, loading: page.loadingSelector },
    readLimits: DOM_READ_LIMITS,
  };
}

/** The document the read answered: the body the caller served, or else asked of the page; undefined when not JSON. */
async function documentOf(response: Response, served: string | undefined): Promise<unknown> {
  if (served === undefined) return response.json().catch(() => undefined);
  try {
    return JSON.parse(served) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * Whether a capture started when the probe marked the content seen shows the page at ready (pure): only when the
 * visit is ready and the probe saw no change of the page after the mark (a document replaced since answers nothing
 * about the mark: no).
 */
export function earlyCaptureShowsReady(ready: boolean, result: Pick<ProbeResult, 'changedSince'>): boolean {
  return ready && result.changedSince === false;
}

/**
 * The probe's mark of the page's DOM changes when all but the quiet window held, or null (the window was over first,
 * or the document went away: readiness then proceeds as without it).
 */
async function contentSeenMark(cdp: CDPSession, spec: ProbeSpec, world: Promise<number> | undefined, signal: AbortSignal | undefined): Promise<number | null> {
  if (signal?.aborted) throw cancelledError();
  const { promise: aborted, reject } = Promise.withResolvers<never>();
  const onAbort = () => reject(cancelledError());
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    return (await Promise.race([awaitContentSeen(cdp, spec, world), aborted])).mark;
  } catch (error) {
    if (error instanceof ProbeLostError) return null;
    throw error;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

function cancelledError(): ComposerError {
  return new ComposerError('CANCELLED', 'Opening the composition was cancelled.', 'Call the tool again if you still need it.');
}

/**
 * Waits for the probe's verdict until `deadline`, asking again when the document was replaced; cancellable. Stops
 * asking once the page is closed (the lease ended, the renderer crashed).
 */
async function waitForRender(cdp: CDPSession, expectation: RenderExpectation, page: ComposerPageSettings, deadline: number, signal: AbortSignal | undefined, isClosed: () => boolean, world: Promise<number> | undefined, unchangedSince: number | null = null): Promise<ProbeResult> {
  let known = world;
  let since = unchangedSince;
  for (;;) {
    if (signal?.aborted) throw cancelledError();
    const spec = { ...probeSpecOf(expectation, page, Math.max(0, deadline - Date.now())), unchangedSince: since };
    since = null; // a mark counts the changes of one document: a replaced one's probe counts afresh
    const { promise: aborted, reject } = Promise.withResolvers<never>();
    const onAbort = () => reject(cancelledError());
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const asking = known;
      known = undefined; // a second attempt is for a replaced document: its world is found afresh
      return await Promise.race([awaitRendered(cdp, spec, asking), aborted]);
    } catch (error) {
      if (!(error instanceof ProbeLostError) || Date.now() >= deadline || isClosed()) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20));
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }
}

/**
 * Signs the lease's context in (localStorage seeded before the app loads), opens the editor or embed route of
 * `uid`, waits for the app's read of the uid to answer, then for the composition to be seen rendered (see
 * CompositionVisit.ready), bounded by the page's ready timeout. Throws a ComposerError when the app cannot sign in or
 * read the composition, or does not read it within the timeout; a read that answered but a lesson not seen in time
 * is reported with `ready: false` and what was not seen. The page stays open for capture.
 */
export async function visitComposition(lease: BrowserLease, options: VisitOptions): Promise<CompositionVisit> {
  const { page } = lease;
  const { settings, uid } = options;
  const started = Date.now();
  const deadline = started + options.page.readyTimeoutMs;
  // Independent set-up steps, at once: the session seed, the probe (both before the app's first script) and the viewport.
  const viewport = page.viewportSize();
  const sameViewport = viewport?.width === options.page.viewport.width && viewport.height === options.page.viewport.height;
  const phases = options.phases;
  phases?.mark('visit.start');
  const cache = options.assetCache ?? (options.page.assetCacheBytes > 0 ? processAssetCache(options.page.assetCacheBytes) : undefined);
  const [session] = await Promise.all([
    (options.session !== undefined ? Promise.resolve(options.session) : PageSession.attach(lease.context, page)).then(async (opened) => {
      phases?.mark('setup.cdp');
      // The probe and the asset cache, and the sign-in seed: already there on a page prepared ahead (the seed when its
      // pre-minted look-alikes are the lease's, bound by the broker), else installed now.
      const entries = sessionEntries(settings);
      await Promise.all([prepareSession(opened, { composerUrl: settings.composerUrl, apiUrl: settings.apiUrl, assetCache: cache }), seedNeeded(opened.seeded?.entries, entries) ? installComposerSession(opened.cdp, settings.composerUrl, entries) : undefined]);
      phases?.mark('setup.probe+seed+cache');
      return opened;
    }),
    sameViewport ? undefined : page.setViewportSize(options.page.viewport),
  ]);
  const { cdp } = session;
  phases?.mark('setup.done');
  const watcher = new PageWatcher(page);
  const url = options.view === 'editor' ? editorUrl(settings.composerUrl, uid) : embedUrl(settings.composerUrl, uid);
  const { promise: outcome, resolve: settle } = Promise.withResolvers<Outcome>();
  const onResponse = (response: Response) => {
    const request = response.request();
    if (request.method() !== 'GET') return;
    const what = isReadOf(response.url(), settings.apiUrl, uid) ? 'read' : isUserMe(response.url(), settings.apiUrl) ? 'sign-in' : undefined;
    if (what === undefined) return;
    phases?.mark(`page.${what}-response`);
    const refused = response.ok() ? undefined : egressRefusal({ status: response.status(), headers: response.headers() });
    if (refused) settle({ kind: 'egress-refused', url: response.url(), certain: refused.certain, what });
    else if (what === 'read') settle({ kind: 'read', response });
    else if (!response.ok()) settle({ kind: 'me-failed', status: response.status() });
  };
  const onRequestFailed = (request: Request) => {
    if (request.method() !== 'GET') return;
    const what = isReadOf(request.url(), settings.apiUrl, uid) ? 'read' : isUserMe(request.url(), settings.apiUrl) ? 'sign-in' : undefined;
    if (what === undefined) return;
    const failure = request.failure()?.errorText ?? 'failed';
    const refused = egressRefusal({ failure });
    settle(refused ? { kind: 'egress-refused', url: request.url(), certain: refused.certain, what } : { kind: 'request-failed', url: request.url(), failure });
  };
  const onAbort = () => settle({ kind: 'cancelled' });
  page.on('response', onResponse);
  page.on('requestfailed', onRequestFailed);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const timer = setTimeout(() => settle({ kind: 'timeout' }), Math.max(0, deadline - Date.now()));
  let shown: (showsReady: boolean) => void = () => undefined;
  const details = () => ({ url, ...watcher.diagnostics, blockedNavigations: [...lease.blocked], totals: { ...watcher.totals, blockedNavigations: lease.blockedTotal } });
  try {
    if (options.signal?.aborted) settle({ kind: 'cancelled' });
    phases?.mark('nav.start');
    const committed = page.goto(url, { waitUntil: 'commit', timeout: options.page.readyTimeoutMs });
    committed.then(
      (response) => {
        phases?.mark('nav.committed');
        // The app's own page refused by the browsers' egress proxy: no read will ever come.
        const refused = response === null || response.ok() ? undefined : egressRefusal({ status: response.status(), headers: response.headers() });
        if (refused) settle({ kind: 'egress-refused', url, certain: refused.certain, what: 'page' });
        return undefined;
      },
      (error: unknown) => {
        const failure = error instanceof Error ? error : new Error(String(error));
        const refused = egressRefusal({ failure: failure.message });
        settle(refused ? { kind: 'egress-refused', url, certain: refused.certain, what: 'page' } : { kind: 'navigation-failed', error: failure });
      },
    );
    // The probe's world in the new document, found while the app loads (off the path from the read to ready).
    const world = committed.then(() => probeWorld(cdp)).then((id) => {
      phases?.mark('probe.world');
      return id;
    });
    session.noteWorld(world);
    const first = await outcome;
    if (first.kind === 'navigation-failed') {
      throw new ComposerError('UPSTREAM_ERROR', `Could not open the Composer at ${safeUrl(url)}: ${first.error.message.split('\n')[0]}.`, `Check ${SETTING_ENV.composerUrl} and that the browsers can reach it.`, { details: details() });
    }
    if (first.kind === 'cancelled') throw cancelledError();
    if (first.kind !== 'read') throw visitFailure(first, uid, options.page.readyTimeoutMs, details());
    const readStatus = first.response.status();
    if (readStatus < 200 || readStatus > 299) throw visitFailure({ kind: 'read-status', status: readStatus }, uid, options.page.readyTimeoutMs, details());
    const readMs = Date.now() - started;
    const document: unknown = await documentOf(first.response, options.servedDocument?.());
    phases?.mark('read.body');
    const expectation = renderExpectationOf(document);
    // A capture may start once all but the quiet window holds; it shows the state at ready only if nothing changed after.
    const mark = options.captureEarly === undefined ? null : await contentSeenMark(cdp, probeSpecOf(expectation, options.page, Math.max(0, deadline - Date.now())), world, options.signal);
    const rendered = waitForRender(cdp, expectation, options.page, deadline, options.signal, () => page.isClosed(), world, mark);
    if (mark !== null) {
      phases?.mark('probe.content-seen');
      const { promise: showsReady, resolve: decided } = Promise.withResolvers<boolean>();
      shown = decided;
      options.captureEarly?.(showsReady);
    }
    const result = await rendered;
    const readyAt = performance.timeOrigin + performance.now();
    phases?.mark('probe.ready');
    const readiness = readinessOf({ expectation, result, quietMs: options.page.domQuietMs, widgetSelector: options.page.widgetSelector, readySelector: options.page.readySelector, loadingSelector: options.page.loadingSelector });
    shown(earlyCaptureShowsReady(readiness.ready, result));
    return {
      url,
      view: options.view,
      ...readiness,
      readStatus,
      documentWidgets: widgetsOf(document),
      ...watcher.diagnostics,
      blockedNavigations: [...lease.blocked],
      totals: { documentWidgets: documentWidgetCount(document), ...watcher.totals, blockedNavigations: lease.blockedTotal },
      timings: { readMs, readyMs: Math.round(readyAt - started), readyAt },
    };
  } finally {
    shown(false);
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
    page.off('response', onResponse);
    page.off('requestfailed', onRequestFailed);
    watcher.stop();
    if (options.session === undefined) session.detach();
  }
}
