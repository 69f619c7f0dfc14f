import type { Page } from 'playwright-core';
import { ComposerError } from '../composer-error.ts';
import type { PageSession } from './page-session.ts';
import { withQuietlySource } from './readiness-probe.ts';

/** Width and height of a PNG, read from its IHDR chunk; undefined when `png` is not a PNG. */
export function pngSize(png: Uint8Array): { width: number; height: number } | undefined {
  const magic = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (png.length < 24 || magic.some((b, i) => png[i] !== b)) return undefined;
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

/**
 * Bounds of what a capture may cost and produce (configuration `composer.capture`). A page is hostile: a
 * validator-clean `<div style="height:30000000px">` would otherwise print tens of thousands of PDF pages.
 */
export interface CaptureLimits {
  /** Longest one capture (screenshot, PDF, DOM read) may take, in milliseconds. */
  timeoutMs: number;
  /** Tallest full-page screenshot, in CSS pixels; a taller page is captured down to this height and labelled truncated. */
  maxScreenshotHeightPx: number;
  /** Largest screenshot returned, in bytes. */
  maxScreenshotBytes: number;
  /** Most PDF pages printed; a longer document gets its first pages, labelled truncated. */
  maxPdfPages: number;
  /** Largest PDF returned, in bytes. */
  maxPdfBytes: number;
}

/** The defaults. */
export const DEFAULT_CAPTURE_LIMITS: Readonly<CaptureLimits> = Object.freeze({
  timeoutMs: 20_000,
  maxScreenshotHeightPx: 16_384,
  maxScreenshotBytes: 20 * 1024 * 1024,
  maxPdfPages: 50,
  maxPdfBytes: 20 * 1024 * 1024,
});

/** The limits in effect: `overrides` over the defaults. */
export function resolveCaptureLimits(overrides: Partial<CaptureLimits> | undefined): CaptureLimits {
  return { ...DEFAULT_CAPTURE_LIMITS, ...overrides };
}

/** A capture that was cut at a limit: which limit, and what was kept of how much. */
export interface CaptureTruncation {
  limit: 'maxScreenshotHeightPx' | 'maxPdfPages';
  /** Pixels (screenshot height) or pages (PDF) kept. */
  kept: number;
  /** Pixels of the whole page, or undefined when unknown (a PDF longer than the limit is not printed to the end). */
  total?: number;
}

/** A captured PNG or PDF, and the truncation when a limit cut it. */
export interface Captured {
  bytes: Buffer;
  truncated?: CaptureTruncation;
}

/** One line describing a truncation, for the text of a tool result. */
export function truncationNote(truncated: CaptureTruncation | undefined): string {
  if (!truncated) return '';
  return truncated.limit === 'maxPdfPages'
    ? ` TRUNCATED: only the first ${truncated.kept} pages were printed (composer.capture.maxPdfPages); the document has more.`
    : ` TRUNCATED: only the top ${truncated.kept} px of the ${truncated.total ?? '?'} px page were captured (composer.capture.maxScreenshotHeightPx).`;
}

/** Runs `work`, or throws the ComposerError of `what` taking longer than `timeoutMs` (the lease closes the page after). */
export async function withinCaptureTime<T>(what: string, timeoutMs: number, work: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const running = work();
  running.catch(() => undefined);
  try {
    return await Promise.race([
      running,
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new ComposerError('UPSTREAM_TIMEOUT', `Capturing the ${what} took longer than ${timeoutMs} ms and was stopped.`, 'The page is too heavy to capture (very long content, a script that keeps it busy). Check the composition, preview it as png with fullPage false, or raise composer.capture.timeoutMs.', { details: { timeoutMs } })), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

function tooLarge(what: string, bytes: number, limit: number, setting: string): ComposerError {
  // The page's own output is too big (not a failure of the platform): say so, and what makes it smaller.
  const smaller = what === 'PDF' ? 'ask for a PNG preview instead' : 'for a preview, ask for the first screen only (fullPage false)';
  return new ComposerError('CAPTURE_TOO_LARGE', `The ${what} is ${bytes} bytes, more than the ${limit} bytes allowed.`, `Check the composition for very large content, ${smaller}, or have the operator raise composer.capture.${setting}.`, { details: { bytes, limit } });
}

/** What the page says right before a capture: its scroll position, zoom and full size, in CSS pixels. */
interface CaptureGeometry {
  pageX: number;
  pageY: number;
  scale: number;
  innerWidth: number;
  innerHeight: number;
  fullWidth: number;
  fullHeight: number;
}

/**
 * Runs in the probe's isolated world of the page (its own globals: the page's scripts cannot change what it calls)
 * right before a capture, and does what Playwright's screenshot prepares, in one round trip instead of five: carets
 * hidden; finite animations finished and infinite ones cancelled, also those that start later (its
 * `animations: 'disabled'`); fonts loaded (a font that never loads is waited for 2 s at most, then the picture is
 * taken as it is). Same-origin frames get the same; cross-origin frames are not the server's to touch. Returns the
 * geometry Playwright measures (its full-page size formula). Self-contained: its source is sent to the page. Its
 * own DOM writes (the carets' style) go through the readiness probe's `quietly`, so a capture started before the
 * quiet window is over does not count as the page changing (see visit-composition.ts).
 */
async function prepareCapture(quietly: (own: () => Element[]) => void): Promise<CaptureGeometry> {
  const documents: Document[] = [document];
  for (let i = 0; i < documents.length && documents.length < 20; i++) {
    for (const frame of Array.from(documents[i]!.querySelectorAll('iframe, frame'))) {
      try {
        const inner = (frame as HTMLIFrameElement).contentDocument;
        if (inner) documents.push(inner);
      } catch {
        // cross-origin
      }
    }
  }
  const roots: Array<Document | ShadowRoot> = [];
  const collect = (root: Document | ShadowRoot) => {
    roots.push(root);
    const walker = (root instanceof Document ? root : root.ownerDocument).createTreeWalker(root, NodeFilter.SHOW_ELEMENT);
    do {
      const node = walker.currentNode;
      if (node instanceof Element && node.shadowRoot) collect(node.shadowRoot);
    } while (walker.nextNode());
  };
  for (const doc of documents) collect(doc);
  const stopAnimations = (root: Document | ShadowRoot) => {
    for (const animation of root.getAnimations()) {
      if (!animation.effect || animation.playbackRate === 0) continue;
      try {
        if (Number.isFinite(animation.effect.getComputedTiming().endTime)) animation.finish();
        else animation.cancel();
      } catch {
        // an animation that cannot be finished is captured as it is
      }
    }
  };
  quietly(() => {
    const fields = roots.flatMap((root) => Array.from(root.querySelectorAll('input, textarea, [contenteditable]')));
    for (const field of fields) (field as HTMLElement).style.setProperty('caret-color', 'transparent', 'important');
    return fields;
  });
  for (const root of roots) {
    stopAnimations(root);
    root.addEventListener('transitionrun', () => stopAnimations(root));
    root.addEventListener('animationstart', () => stopAnimations(root));
  }
  if (document.fonts) await Promise.race([document.fonts.ready, new Promise((resolve) => setTimeout(resolve, 2_000))]);
  const body = document.body;
  const root = document.documentElement;
  const viewport = window.visualViewport;
  return {
    pageX: viewport?.pageLeft ?? window.scrollX,
    pageY: viewport?.pageTop ?? window.scrollY,
    scale: viewport?.scale ?? 1,
    innerWidth: window.innerWidth,
    innerHeight: window.innerHeight,
    fullWidth: body ? Math.max(body.scrollWidth, root.scrollWidth, body.offsetWidth, root.offsetWidth, body.clientWidth, root.clientWidth) : root.clientWidth,
    fullHeight: body ? Math.max(body.scrollHeight, root.scrollHeight, body.offsetHeight, root.offsetHeight, body.clientHeight, root.clientHeight) : root.clientHeight,
  };
}

/** Prepares the page for a capture in the probe's world (found again if the document was replaced). */
async function preparedGeometry(session: PageSession): Promise<CaptureGeometry> {
  const call = async (contextId: number) =>
    (await session.cdp.send('Runtime.callFunctionOn', { functionDeclaration: withQuietlySource(prepareCapture.toString()), executionContextId: contextId, awaitPromise: true, returnByValue: true })) as {
      result: { value?: CaptureGeometry };
      exceptionDetails?: { text?: string; exception?: { description?: string } };
    };
  let answer;
  try {
    answer = await call(await session.world());
  } catch {
    answer = await call(await session.world(true));
  }
  if (answer.exceptionDetails || answer.result.value === undefined) {
    const detail = answer.exceptionDetails?.exception?.description ?? answer.exceptionDetails?.text ?? 'no answer';
    throw new Error(`Could not prepare the page for its screenshot: ${detail.split('\n')[0]}`);
  }
  return answer.result.value;
}

/**
 * The clip and mode of a screenshot (pure): the viewport at the page's scroll position and zoom, or the whole page
 * from its top left cut at `maxHeight` — what Playwright's page.screenshot asks Chromium for, so the pictures are
 * the same pixels.
 */
export function screenshotRequest(geometry: CaptureGeometry, viewport: { width: number; height: number }, fullPage: boolean, maxHeight: number): { clip: { x: number; y: number; width: number; height: number; scale: number }; captureBeyondViewport: boolean; truncated?: CaptureTruncation } {
  if (!fullPage) {
    const size = { width: Math.floor(viewport.width / geometry.scale + 1e-3), height: Math.floor(viewport.height / geometry.scale + 1e-3) };
    return { clip: { x: geometry.pageX, y: geometry.pageY, ...size, scale: geometry.scale }, captureBeyondViewport: false };
  }
  const fits = geometry.fullWidth <= viewport.width && geometry.fullHeight <= viewport.height;
  const height = Math.min(geometry.fullHeight, maxHeight);
  const truncated = geometry.fullHeight > maxHeight ? { limit: 'maxScreenshotHeightPx' as const, kept: maxHeight, total: geometry.fullHeight } : undefined;
  return { clip: { x: 0, y: 0, width: geometry.fullWidth, height, scale: 1 }, captureBeyondViewport: !fits, ...(truncated ? { truncated } : {}) };
}

/**
 * A PNG screenshot of the page: the viewport, or with `fullPage` the whole page down to `maxScreenshotHeightPx`
 * (a taller page is cut there and labelled). Prepared as Playwright's page.screenshot prepares a page (carets hidden,
 * animations finished, fonts loaded) and taken with the same Chromium call, through the call's own CDP session: two
 * round trips. The PNG is encoded for speed (Chromium's `optimizeForSpeed`: the same pixels as Playwright's, larger
 * bytes), or for size when that is over `maxScreenshotBytes`. Bounded in time and bytes.
 */
export async function capturePng(page: Page, options: { fullPage: boolean; limits: CaptureLimits; session: PageSession }): Promise<Captured> {
  const { limits, session } = options;
  return withinCaptureTime('screenshot', limits.timeoutMs, async () => {
    const geometry = await preparedGeometry(session);
    const viewport = page.viewportSize() ?? { width: geometry.innerWidth, height: geometry.innerHeight };
    const request = screenshotRequest(geometry, viewport, options.fullPage, limits.maxScreenshotHeightPx);
    const shoot = async (optimizeForSpeed: boolean) => {
      const shot = (await session.cdp.send('Page.captureScreenshot', { format: 'png', clip: request.clip, captureBeyondViewport: request.captureBeyondViewport, optimizeForSpeed })) as { data: string };
      return Buffer.from(shot.data, 'base64');
    };
    // Encoded for speed first (the same pixels, about 1.5x the bytes, a quarter to a half less of Chromium's time);
    // a picture over the byte limit that way is taken again encoded for size before it is refused.
    let bytes = await shoot(true);
    if (bytes.length > limits.maxScreenshotBytes) bytes = await shoot(false);
    if (bytes.length > limits.maxScreenshotBytes) throw tooLarge('screenshot', bytes.length, limits.maxScreenshotBytes, 'maxScreenshotBytes');
    return request.truncated ? { bytes, truncated: request.truncated } : { bytes };
  });
}

/** Pages in a PDF Chromium printed (it writes one `/Type /Page` object per page). */
export function pdfPageCount(pdf: Buffer): number {
  return (pdf.toString('latin1').match(/\/Type\s*\/Page(?![a-zA-Z])/g) ?? []).length;
}

/**
 * A PDF of the page as printed (A4, backgrounds on, screen styles), at most `maxPdfPages` pages: when the first
 * print fills them all, one more page is asked for to learn whether the document goes on (Chromium refuses a page
 * range past the end), and the result is labelled truncated if it does. Bounded in time and bytes.
 */
export async function capturePdf(page: Page, limits: CaptureLimits): Promise<Captured> {
  return withinCaptureTime('PDF', limits.timeoutMs, async () => {
    await page.emulateMedia({ media: 'screen' });
    const print = (pageRanges: string) => page.pdf({ format: 'A4', printBackground: true, pageRanges });
    const pdf = await print(`1-${limits.maxPdfPages}`);
    if (pdf.length > limits.maxPdfBytes) throw tooLarge('PDF', pdf.length, limits.maxPdfBytes, 'maxPdfBytes');
    if (pdfPageCount(pdf) < limits.maxPdfPages) return { bytes: pdf };
    const more = await print(`${limits.maxPdfPages + 1}`).then(
      () => true,
      (error: unknown) => {
        if (error instanceof Error && /exceeds page count/i.test(error.message)) return false;
        throw error;
      },
    );
    return more ? { bytes: pdf, truncated: { limit: 'maxPdfPages', kept: limits.maxPdfPages } } : { bytes: pdf };
  });
}
