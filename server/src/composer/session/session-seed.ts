import type { CDPSession } from 'playwright-core';
import type { ComposerSettings } from '../ports/composer-settings.ts';

/** localStorage key of the signed-in user (composer.md: `{ access_token, … }`). */
export const USER_DATA_KEY = 'rdp-composer-user-data';
/** localStorage key of the active project (composer.md: `{ uid, connectors: [{ uid, … }] }`). */
export const ACTIVE_PROJECT_KEY = 'rdp-composer-active-project';

/**
 * The localStorage entries that sign the app in, from configuration. Assumption (composer.md leaves it open): the
 * active project's `uid` is the configured project key.
 */
export function sessionEntries(settings: Pick<ComposerSettings, 'accessToken' | 'projectKey' | 'connectorUid'>): Record<string, string> {
  return {
    [USER_DATA_KEY]: JSON.stringify({ access_token: settings.accessToken ?? '' }),
    [ACTIVE_PROJECT_KEY]: JSON.stringify({ uid: settings.projectKey ?? '', connectors: settings.connectorUid ? [{ uid: settings.connectorUid }] : [] }),
  };
}

/** Runs in the page, in every document before its own scripts: the entries go into the Composer origin's localStorage only. */
function seed(arg: { origin: string; entries: Record<string, string> }): void {
  if (globalThis.location.origin !== arg.origin) return;
  for (const [key, value] of Object.entries(arg.entries)) globalThis.localStorage.setItem(key, value);
}

/**
 * Puts the session into the Composer origin's localStorage before any of its scripts run, on every navigation of
 * the lease's page (other origins get nothing), through the call's CDP session: one round trip, alongside the
 * probe's. The token lives only in this page's context, which the lease closes after the call.
 */
export async function installComposerSession(cdp: CDPSession, composerUrl: string, entries: Record<string, string>): Promise<void> {
  const origin = new URL(composerUrl).origin;
  // Scripts for new documents run only for a session with the Page domain enabled (a session answers in order).
  await Promise.all([cdp.send('Page.enable'), cdp.send('Page.addScriptToEvaluateOnNewDocument', { source: `(${seed.toString()})(${JSON.stringify({ origin, entries })});` })]);
}
