import type { Browser } from 'playwright-core';
import { capturePng, pngSize } from '#server/composer/session/page-capture.ts';
import type { ComposerPageSettings } from '#server/composer/session/page-settings.ts';
import { visitComposition, type CompositionVisit } from '#server/composer/session/visit-composition.ts';
import type { ComposerSettings } from '#server/tools/services.ts';

/** What one direct open measured. */
export interface DirectOpen {
  /** New context → signed in, ready, screenshot taken, context closed (ms). */
  totalMs: number;
  visit: CompositionVisit;
  screenshot: { width: number; height: number; bytes: number };
}

/**
 * The baseline of the open-composition benchmark: the page work of `composer_open_composition` done by a direct
 * Playwright script on an already connected `browser`, with no MCP server, router or lease — a new context and
 * page, the same sign-in init script, editor URL and readiness waits (the server's own `visitComposition`), the
 * same viewport PNG screenshot (`capturePng`), then the context closed. Throws the ToolError the server would
 * return when the page does not load.
 */
export async function openDirectly(browser: Browser, options: { settings: ComposerSettings; page: ComposerPageSettings; uid: string }): Promise<DirectOpen> {
  const started = performance.now();
  const context = await browser.newContext();
  let visit: CompositionVisit;
  let png: Buffer;
  try {
    const page = await context.newPage();
    visit = await visitComposition({ browserId: 'direct', context, page, blocked: [] }, { settings: options.settings, page: options.page, uid: options.uid, view: 'editor' });
    png = await capturePng(page, { fullPage: false, timeoutMs: 15_000 });
  } finally {
    await context.close();
  }
  const size = pngSize(png) ?? { width: 0, height: 0 };
  return { totalMs: performance.now() - started, visit, screenshot: { ...size, bytes: png.length } };
}
