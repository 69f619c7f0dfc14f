import type { BrowserContext, CDPSession, Page } from 'playwright-core';
import type { ReservedLookAlikes } from '../broker/reserved-look-alikes.ts';
import { probeWorld } from './readiness-probe.ts';

/**
 * The server's own CDP session of a lease's page, for the whole call: the readiness probe, the asset cache and the
 * capture go through it (one session, no new one per step). It also remembers the probe's isolated world in the
 * current document, found while the app loads, so the capture does not look for it again.
 */
export class PageSession {
  readonly cdp: CDPSession;
  /**
   * The sign-in seed this session installed in the page before its lease (page-preparation.ts): the localStorage
   * entries, with the look-alikes reserved for them on the browser's broker. Undefined: the lease seeds the page.
   */
  seeded: { entries: Record<string, string>; lookAlikes: ReservedLookAlikes } | undefined;
  private knownWorld: Promise<number> | undefined;
  private preparing: Promise<void> | undefined;

  private constructor(cdp: CDPSession) {
    this.cdp = cdp;
  }

  /** A new session of `page`. */
  static async attach(context: BrowserContext, page: Page): Promise<PageSession> {
    return new PageSession(await context.newCDPSession(page));
  }

  /**
   * Runs `work` (what every page needs before the app's first script, whichever lease: page-preparation.ts) once
   * for this session; later calls wait for the same run. A failed run is tried again by the next call.
   */
  prepare(work: (cdp: CDPSession) => Promise<void>): Promise<void> {
    if (this.preparing === undefined) {
      const running = work(this.cdp);
      this.preparing = running;
      running.catch(() => {
        if (this.preparing === running) this.preparing = undefined;
      });
    }
    return this.preparing;
  }

  /** Notes the probe's world of the current document, as soon as it is being looked for. */
  noteWorld(world: Promise<number>): void {
    world.catch(() => undefined);
    this.knownWorld = world;
  }

  /** The probe's world of the current document: the one noted, or found now (`fresh`: the noted one went away). */
  world(fresh = false): Promise<number> {
    if (fresh || this.knownWorld === undefined) this.noteWorld(probeWorld(this.cdp));
    return this.knownWorld!;
  }

  /** Ends the session (never throws; the page may be gone). */
  detach(): void {
    void this.cdp.detach().catch(() => undefined);
  }
}
