import type { BrowserContext, Page } from 'playwright-core';
import type { SharedAssetCache } from './asset-cache.ts';
import { PageSession } from './page-session.ts';
import { installReadinessProbe } from './readiness-probe.ts';

/**
 * What every page needs before the app's first script, whichever lease takes it: the call's CDP session, the
 * readiness probe (with the Page domain it needs) and the shared asset cache's interception. The router's pool does
 * it for each page when it makes the page (ahead of demand for a warm page: `pagePreparer`, wired by the composition
 * root), so a lease starts with the page ready to navigate; a page not prepared ahead is prepared by its lease
 * (`prepareSession`). Only the sign-in seed, which carries the lease's own look-alike credentials, is left to the lease.
 */

/** Where a page is prepared for. */
export interface PagePreparation {
  composerUrl: string;
  apiUrl: string;
  /** The asset cache the page's app assets come from (none: no interception). */
  assetCache: SharedAssetCache | undefined;
}

/** Sessions of pages prepared ahead, by page (gone with the page). */
const prepared = new WeakMap<Page, Promise<PageSession>>();

/** Installs what every page needs on `session` (once per session: a prepared session costs nothing more). */
export function prepareSession(session: PageSession, preparation: PagePreparation): Promise<void> {
  return session.prepare(async (cdp) => {
    await Promise.all([installReadinessProbe(cdp), preparation.assetCache?.attach(cdp, new URL(preparation.composerUrl).origin, preparation.apiUrl)]);
  });
}

/** Longest a warm page's priming may take (asset-cache.ts); the lease's navigation replaces an unfinished one. */
const PRIMING_TIMEOUT_MS = 5_000;

/**
 * The router's hook that prepares each page it makes (`RouterOptions.preparePage`). A page made ahead of demand is
 * also primed with the app's cached scripts and stylesheets (asset-cache.ts `prime`), off any call's path. Never
 * throws: a page that could not be prepared is prepared by its lease.
 */
export function pagePreparer(preparation: PagePreparation): (context: BrowserContext, page: Page, purpose?: 'warm' | 'lease') => Promise<void> {
  return async (context, page, purpose) => {
    const preparing = PageSession.attach(context, page).then(async (session) => {
      await prepareSession(session, preparation);
      if (purpose === 'warm') await preparation.assetCache?.prime(session.cdp, { timeoutMs: PRIMING_TIMEOUT_MS }).catch(() => 0);
      return session;
    });
    prepared.set(page, preparing);
    await preparing.catch(() => {
      prepared.delete(page);
    });
  };
}

/** The session `page` was prepared with ahead of its lease, taken once; undefined when it was not (or failed). */
export async function takePreparedSession(page: Page): Promise<PageSession | undefined> {
  const preparing = prepared.get(page);
  prepared.delete(page);
  return preparing?.catch(() => undefined);
}
