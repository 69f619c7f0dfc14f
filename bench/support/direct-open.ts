import type { Browser, BrowserContext } from 'playwright-core';
import { normaliseOrigins, watchBlockedRequests } from '#server/browsers/blocked-requests.ts';
import { capturePng, DEFAULT_CAPTURE_LIMITS, pngSize } from '#server/composer/session/page-capture.ts';
import type { ComposerPageSettings } from '#server/composer/session/page-settings.ts';
import { PageSession } from '#server/composer/session/page-session.ts';
import { visitComposition, type CompositionVisit } from '#server/composer/session/visit-composition.ts';
import type { ComposerSettings } from '#server/composer/ports/composer-settings.ts';

/** What one direct open measured. */
export interface DirectOpen {
  /** New context → signed in, ready, screenshot taken, context closed (ms). */
  totalMs: number;
  /** Phases of `totalMs`: new context + page, the visit (sign-in → ready), screenshot, context close (ms). */
  phases: { contextMs: number; visitMs: number; screenshotMs: number; closeMs: number };
  visit: CompositionVisit;
  screenshot: { width: number; height: number; bytes: number };
}

/**
 * The baseline of the open-composition benchmark: the page work of `composer_open_composition` done by a direct
 * Playwright script on an already connected `browser`, with no MCP server, router or lease — a new context and
 * page, the same sign-in init script, editor URL and readiness waits (the server's own `visitComposition`), the
 * same viewport PNG screenshot (`capturePng`), then the context closed. Throws the ComposerError the server would
 * return when the page does not load. With `allowedOrigins`, the context also gets the router's watch for requests
 * the egress proxy refused (response and requestfailed listeners), as a pooled context has — to measure what that
 * costs. With `refillAlongside`, another context and page (watched when given) are created while the page loads, as
 * the router's pre-warm refill does when a lease takes the warm page; it is closed after the timed part.
 */
export async function openDirectly(
  browser: Browser,
  options: { settings: ComposerSettings; page: ComposerPageSettings; uid: string; allowedOrigins?: readonly string[]; refillAlongside?: boolean },
): Promise<DirectOpen> {
  const started = performance.now();
  const marks = [started];
  const newContext = async () => {
    const created = await browser.newContext();
    if (options.allowedOrigins) watchBlockedRequests(created, { allowedOrigins: normaliseOrigins(options.allowedOrigins), blocked: [], blockedTotal: 0 });
    return created;
  };
  const context = await newContext();
  let ended = Number.NaN;
  let refill: Promise<BrowserContext | undefined> | undefined;
  let visit: CompositionVisit;
  let png: Buffer;
  try {
    const page = await context.newPage();
    if (options.refillAlongside) {
      refill = newContext().then(async (warm) => {
        await warm.newPage();
        return warm;
      }, () => undefined);
    }
    marks.push(performance.now());
    const session = await PageSession.attach(context, page);
    visit = await visitComposition({ browserId: 'direct', context, page, blocked: [], blockedTotal: 0 }, { settings: options.settings, page: options.page, uid: options.uid, view: 'editor', session });
    marks.push(performance.now());
    png = (await capturePng(page, { fullPage: false, limits: DEFAULT_CAPTURE_LIMITS, session })).bytes;
    marks.push(performance.now());
  } finally {
    await context.close();
    ended = performance.now();
    if (refill) await (await refill)?.close();
  }
  const size = pngSize(png) ?? { width: 0, height: 0 };
  const [t0, t1, t2, t3] = marks as [number, number, number, number];
  return {
    totalMs: ended - started,
    phases: { contextMs: t1 - t0, visitMs: t2 - t1, screenshotMs: t3 - t2, closeMs: ended - t3 },
    visit,
    screenshot: { ...size, bytes: png.length },
  };
}
