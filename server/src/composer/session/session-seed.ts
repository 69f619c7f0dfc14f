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

/**
 * Whether a page seeded ahead with `seeded` still needs the lease's seed for `entries` (pure): unless it holds exactly
 * these entries (its pre-minted look-alikes were bound to the lease). A second seed runs after the first in every
 * document, so it replaces the entries.
 */
export function seedNeeded(seeded: Record<string, string> | undefined, entries: Record<string, string>): boolean {
  if (seeded === undefined) return true;
  const keys = Object.keys(entries);
  return keys.length !== Object.keys(seeded).length || keys.some((key) => seeded[key] !== entries[key]);
}

/** Runs in the page, in every document before its own scripts: the entries go into the Composer origin's localStorage only. */
function seed(arg: { origin: string; entries: Record<string, string> }): void {
  if (globalThis.location.origin !== arg.origin) return;
  for (const [key, value] of Object.entries(arg.entries)) globalThis.localStorage.setItem(key, value);
}

/**
 * Puts the session into the Composer origin's localStorage before any of its scripts run, on every navigation of
 * the page (other origins get nothing), through the call's CDP session: one round trip, alongside the probe's. Only
 * look-alikes are ever seeded: those a warm page gets at its preparation (reserved, bound when a lease takes it), or
 * the lease's own. They live only in this page's context, which the lease closes after the call.
 */
export async function installComposerSession(cdp: CDPSession, composerUrl: string, entries: Record<string, string>): Promise<void> {
  const origin = new URL(composerUrl).origin;
  // Scripts for new documents run only for a session with the Page domain enabled (a session answers in order).
  await Promise.all([cdp.send('Page.enable'), cdp.send('Page.addScriptToEvaluateOnNewDocument', { source: `(${seed.toString()})(${JSON.stringify({ origin, entries })});` })]);
}
