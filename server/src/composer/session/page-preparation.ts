import type { BrowserContext, Page } from 'playwright-core';
import { BrowserCredentialBroker } from '../broker/browser-broker.ts';
import type { ComposerSettings } from '../ports/composer-settings.ts';
import type { SharedAssetCache } from './asset-cache.ts';
import { PageSession } from './page-session.ts';
import { installReadinessProbe } from './readiness-probe.ts';
import { installComposerSession, sessionEntries } from './session-seed.ts';

/**
 * What every page needs before the app's first script, whichever lease takes it: the call's CDP session, the
 * readiness probe (with the Page domain it needs) and the shared asset cache's interception. The router's pool does
 * it for each page when it makes the page (ahead of demand for a warm page: `pagePreparer`, wired by the composition
 * root), so a lease starts with the page ready to navigate; a page not prepared ahead is prepared by its lease
 * (`prepareSession`). A warm page is also signed in ahead with look-alikes its browser's credential broker reserves
 * for it (`seedAhead`), which the broker binds to the lease that takes the page; a page made for a waiting lease, or
 * one whose look-alikes cannot be bound, is seeded by its lease with its own.
 */

/** Where a page is prepared for. */
export interface PagePreparation {
  composerUrl: string;
  apiUrl: string;
  /** The asset cache the page's app assets come from (none: no interception). */
  assetCache: SharedAssetCache | undefined;
  /**
   * The configured credentials and connector (process configuration), whose shape a warm page's look-alikes are
   * minted from: the real values never reach the page. None: warm pages are not signed in ahead.
   */
  signIn?: Pick<ComposerSettings, 'accessToken' | 'projectKey' | 'connectorUid'>;
}

/** Sessions of pages prepared ahead, by page (gone with the page). */
const prepared = new WeakMap<Page, Promise<PageSession>>();

/** Installs what every page needs on `session` (once per session: a prepared session costs nothing more). */
export function prepareSession(session: PageSession, preparation: PagePreparation): Promise<void> {
  return session.prepare(async (cdp) => {
    await Promise.all([installReadinessProbe(cdp), preparation.assetCache?.attach(cdp, new URL(preparation.composerUrl).origin, preparation.apiUrl)]);
  });
}

/**
 * Signs a warm page in ahead of its lease (ADR 35): look-alikes of the configured credentials reserved on its
 * browser's broker, seeded as the lease would seed its own. They name no lease until `BrowserCredentialBroker.open`
 * binds them to the one that takes the page (pages are never reused across leases: the context closes with its
 * lease); they are discarded when the page closes unleased. Off the lease's path: the seed's round trips were 5–9 ms
 * of the call at p50 and 20–75 ms at p95 on a loaded machine.
 */
async function seedAhead(context: BrowserContext, page: Page, session: PageSession, preparation: PagePreparation): Promise<void> {
  const signIn = preparation.signIn;
  const browser = context.browser();
  if (!signIn?.accessToken || browser === null) return;
  const broker = await BrowserCredentialBroker.forBrowser(browser);
  const lookAlikes = broker.reserve({ accessToken: signIn.accessToken, projectKey: signIn.projectKey });
  page.once('close', () => lookAlikes.discard());
  const entries = sessionEntries({ accessToken: lookAlikes.token, projectKey: lookAlikes.projectKey, connectorUid: signIn.connectorUid });
  try {
    await installComposerSession(session.cdp, preparation.composerUrl, entries);
  } catch (error) {
    lookAlikes.discard();
    throw error;
  }
  session.seeded = { entries, lookAlikes };
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
      await Promise.all([prepareSession(session, preparation), purpose === 'warm' ? seedAhead(context, page, session, preparation).catch(() => undefined) : undefined]);
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
