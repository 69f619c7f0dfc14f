import type { Page, Request, Response } from 'playwright-core';
import { ToolError } from '#server/tools/tool-definition.ts';
import type { BlockedNavigationLike, BrowserLease, ComposerSettings } from '#server/tools/services.ts';
import { editorUrl, embedUrl, isReadOf, isUserMe } from '../storage/composer-urls.ts';
import { SETTING_ENV } from '../storage/upstream-errors.ts';
import type { ComposerPageSettings } from './page-settings.ts';
import { PageWatcher, safeUrl, type FailedRequest } from './page-diagnostics.ts';
import { installComposerSession, sessionEntries } from './session-seed.ts';

/** Which view of a composition to open: the editor, or the embedded learner view. */
export type CompositionView = 'editor' | 'embed';

/** A widget: its type and id (from the document, or read from the rendered page). */
export interface WidgetRef {
  type: string;
  id: string | null;
}

/** What opening a composition in the Composer showed. */
export interface CompositionVisit {
  url: string;
  view: CompositionView;
  /** True when the read answered 200, the network went idle, no uncaught error happened (and the ready selector, if configured, appeared). */
  ready: boolean;
  /** Status of the app's own read of the composition. */
  readStatus: number;
  /** Widgets of the document the app received, in page order. */
  documentWidgets: WidgetRef[];
  /** Widgets found in the DOM with the configured selector (empty when no selector is configured). */
  renderedWidgets: WidgetRef[];
  /** Document widget ids with no rendered element (only when a widget selector is configured). */
  missingWidgetIds: string[];
  consoleErrors: string[];
  pageErrors: string[];
  failedRequests: FailedRequest[];
  blockedNavigations: BlockedNavigationLike[];
  timings: { readMs: number; readyMs: number };
}

/** Options of one visit. */
export interface VisitOptions {
  settings: ComposerSettings;
  page: ComposerPageSettings;
  uid: string;
  view: CompositionView;
  signal?: AbortSignal;
}

type Outcome =
  | { kind: 'read'; response: Response }
  | { kind: 'me-failed'; status: number }
  | { kind: 'request-failed'; url: string; failure: string }
  | { kind: 'navigation-failed'; error: Error }
  | { kind: 'timeout' }
  | { kind: 'cancelled' };

/** The widgets listed in a composition's `structure` (anything else yields none). */
export function widgetsOf(document: unknown): WidgetRef[] {
  const structure = (document as { structure?: unknown } | null)?.structure;
  if (!Array.isArray(structure)) return [];
  return structure.map((w: unknown) => {
    const widget = (w ?? {}) as { type?: unknown; id?: unknown };
    return { type: typeof widget.type === 'string' ? widget.type : 'unknown', id: typeof widget.id === 'string' ? widget.id : null };
  });
}

/** The ToolError for an app-side failure of the sign-in check or the read. */
export function visitFailure(outcome: Exclude<Outcome, { kind: 'read' } | { kind: 'cancelled' } | { kind: 'navigation-failed' }> | { kind: 'read-status'; status: number }, uid: string, timeoutMs: number, details: Record<string, unknown>): ToolError {
  switch (outcome.kind) {
    case 'me-failed':
      return outcome.status === 401 || outcome.status === 403
        ? new ToolError('UNAUTHORIZED', `The Composer refused the configured access token (its sign-in check answered HTTP ${outcome.status}), so the app stays blank.`, `Set a valid, unexpired Composer access token in ${SETTING_ENV.accessToken} and restart the server.`, { details })
        : new ToolError('UPSTREAM_ERROR', `The Composer's sign-in check failed with HTTP ${outcome.status}.`, 'The platform is having trouble; try again in a minute.', { details });
    case 'read-status':
      if (outcome.status === 401 || outcome.status === 403) return new ToolError('UNAUTHORIZED', `The Composer could not read the composition: the storage API refused the token (HTTP ${outcome.status}).`, `Set a valid access token in ${SETTING_ENV.accessToken} and the matching ${SETTING_ENV.projectKey}.`, { details });
      if (outcome.status === 404) return new ToolError('NOT_FOUND', `No composition with uid ${JSON.stringify(uid)} exists in the Composer storage.`, 'Check the uid: use the exact uid composer_save_composition returned.', { details });
      return new ToolError('UPSTREAM_ERROR', `The Composer's read of the composition failed with HTTP ${outcome.status}.`, 'The platform is having trouble; try again in a minute.', { details });
    case 'request-failed':
      return /BLOCKED_BY_CLIENT/i.test(outcome.failure)
        ? new ToolError('NAVIGATION_BLOCKED', `The browser blocked the Composer's request to ${safeUrl(outcome.url)}: its origin is not allowed.`, `Make sure ${SETTING_ENV.apiUrl} and ${SETTING_ENV.composerUrl} are the origins the app really uses.`, { details })
        : new ToolError('UPSTREAM_ERROR', `The Composer's request to ${safeUrl(outcome.url)} failed (${outcome.failure}).`, `Check that ${SETTING_ENV.apiUrl} is reachable from the browsers.`, { details });
    case 'timeout':
      return new ToolError('UPSTREAM_TIMEOUT', `The Composer did not load the composition within ${timeoutMs} ms.`, 'Try again; if it persists, the Composer or its API is slow or down (see details for the errors the page showed).', { details });
  }
}

/** Most rendered widgets read from a page, and longest attribute value kept (a hostile page can make millions). */
export const DOM_READ_LIMITS = { elements: 2000, attributeChars: 200 } as const;

async function readWidgetsFromDom(page: Page, settings: ComposerPageSettings): Promise<WidgetRef[]> {
  if (!settings.widgetSelector) return [];
  return page.$$eval(
    settings.widgetSelector,
    (elements, attrs) => elements.slice(0, attrs.max).map((e) => ({ type: (e.getAttribute(attrs.type) ?? 'unknown').slice(0, attrs.chars), id: e.getAttribute(attrs.id)?.slice(0, attrs.chars) ?? null })),
    { type: settings.widgetTypeAttribute, id: settings.widgetIdAttribute, max: DOM_READ_LIMITS.elements, chars: DOM_READ_LIMITS.attributeChars },
  );
}

/**
 * Signs the lease's context in (localStorage seeded before the app loads), opens the editor or embed route of
 * `uid`, and waits for composer.md's readiness signals: the app's read of the uid answered, the network idle, no
 * uncaught error (plus the configured ready selector, if any). Throws a ToolError when the app cannot sign in or
 * read the composition, or does not within the timeout; otherwise reports what loaded. The page stays open for capture.
 */
export async function visitComposition(lease: BrowserLease, options: VisitOptions): Promise<CompositionVisit> {
  const { page } = lease;
  const { settings, uid } = options;
  const started = Date.now();
  const deadline = started + options.page.readyTimeoutMs;
  await installComposerSession(lease.context, settings.composerUrl, sessionEntries(settings));
  await page.setViewportSize(options.page.viewport);
  const watcher = new PageWatcher(page);
  const url = options.view === 'editor' ? editorUrl(settings.composerUrl, uid) : embedUrl(settings.composerUrl, uid);
  const { promise: outcome, resolve: settle } = Promise.withResolvers<Outcome>();
  const onResponse = (response: Response) => {
    const request = response.request();
    if (request.method() !== 'GET') return;
    if (isReadOf(response.url(), settings.apiUrl, uid)) settle({ kind: 'read', response });
    else if (isUserMe(response.url(), settings.apiUrl) && !response.ok()) settle({ kind: 'me-failed', status: response.status() });
  };
  const onRequestFailed = (request: Request) => {
    if (request.method() !== 'GET') return;
    if (isReadOf(request.url(), settings.apiUrl, uid) || isUserMe(request.url(), settings.apiUrl)) settle({ kind: 'request-failed', url: request.url(), failure: request.failure()?.errorText ?? 'failed' });
  };
  const onAbort = () => settle({ kind: 'cancelled' });
  page.on('response', onResponse);
  page.on('requestfailed', onRequestFailed);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const timer = setTimeout(() => settle({ kind: 'timeout' }), Math.max(0, deadline - Date.now()));
  const details = () => ({ url, ...watcher.diagnostics, blockedNavigations: [...lease.blocked] });
  try {
    if (options.signal?.aborted) settle({ kind: 'cancelled' });
    page.goto(url, { waitUntil: 'commit', timeout: options.page.readyTimeoutMs }).catch((error: unknown) => {
      settle({ kind: 'navigation-failed', error: error instanceof Error ? error : new Error(String(error)) });
    });
    const first = await outcome;
    if (first.kind === 'navigation-failed') {
      throw new ToolError('UPSTREAM_ERROR', `Could not open the Composer at ${safeUrl(url)}: ${first.error.message.split('\n')[0]}.`, `Check ${SETTING_ENV.composerUrl} and that the browsers can reach it.`, { details: details() });
    }
    if (first.kind === 'cancelled') throw new ToolError('CANCELLED', 'Opening the composition was cancelled.', 'Call the tool again if you still need it.');
    if (first.kind !== 'read') throw visitFailure(first, uid, options.page.readyTimeoutMs, details());
    const readStatus = first.response.status();
    if (readStatus < 200 || readStatus > 299) throw visitFailure({ kind: 'read-status', status: readStatus }, uid, options.page.readyTimeoutMs, details());
    const readMs = Date.now() - started;
    const document: unknown = await first.response.json().catch(() => undefined);
    let ready = await watcher.waitForNetworkIdle(options.page.networkIdleMs, deadline, options.signal);
    if (options.page.readySelector) {
      ready = (await page.locator(options.page.readySelector).first().waitFor({ state: 'visible', timeout: Math.max(1, deadline - Date.now()) }).then(() => true, () => false)) && ready;
    }
    if (options.signal?.aborted) throw new ToolError('CANCELLED', 'Opening the composition was cancelled.', 'Call the tool again if you still need it.');
    const documentWidgets = widgetsOf(document);
    const renderedWidgets = await readWidgetsFromDom(page, options.page);
    const renderedIds = new Set(renderedWidgets.map((w) => w.id));
    const missingWidgetIds = options.page.widgetSelector ? documentWidgets.flatMap((w) => (w.id !== null && !renderedIds.has(w.id) ? [w.id] : [])) : [];
    return {
      url,
      view: options.view,
      ready: ready && watcher.diagnostics.pageErrors.length === 0,
      readStatus,
      documentWidgets,
      renderedWidgets,
      missingWidgetIds,
      ...watcher.diagnostics,
      blockedNavigations: [...lease.blocked],
      timings: { readMs, readyMs: Date.now() - started },
    };
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
    page.off('response', onResponse);
    page.off('requestfailed', onRequestFailed);
    watcher.stop();
  }
}
