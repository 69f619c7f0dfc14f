import type { Page } from 'playwright-core';
import { ComposerError } from '../composer-error.ts';

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
  return new ComposerError('UPSTREAM_ERROR', `The ${what} is ${bytes} bytes, more than the ${limit} bytes allowed.`, `Check the composition for very large content, or raise composer.capture.${setting}.`, { details: { bytes, limit } });
}

/** The page's full height in CSS pixels (bounded in time). */
async function pageHeight(page: Page, timeoutMs: number): Promise<number> {
  return withinCaptureTime('page size', timeoutMs, () => page.evaluate(() => Math.max(document.documentElement.scrollHeight, document.body?.scrollHeight ?? 0)));
}

/**
 * A PNG screenshot of the page: the viewport, or with `fullPage` the whole page down to `maxScreenshotHeightPx`
 * (a taller page is cut there and labelled). Bounded in time and bytes.
 */
export async function capturePng(page: Page, options: { fullPage: boolean; limits: CaptureLimits }): Promise<Captured> {
  const { limits } = options;
  let truncated: CaptureTruncation | undefined;
  let clip: { x: number; y: number; width: number; height: number } | undefined;
  if (options.fullPage) {
    const height = await pageHeight(page, limits.timeoutMs);
    if (height > limits.maxScreenshotHeightPx) {
      const width = page.viewportSize()?.width ?? 1280;
      clip = { x: 0, y: 0, width, height: limits.maxScreenshotHeightPx };
      truncated = { limit: 'maxScreenshotHeightPx', kept: limits.maxScreenshotHeightPx, total: height };
    }
  }
  const bytes = await withinCaptureTime('screenshot', limits.timeoutMs + 1000, () =>
    page.screenshot({ type: 'png', fullPage: options.fullPage, timeout: limits.timeoutMs, animations: 'disabled', ...(clip ? { clip } : {}) }),
  );
  if (bytes.length > limits.maxScreenshotBytes) throw tooLarge('screenshot', bytes.length, limits.maxScreenshotBytes, 'maxScreenshotBytes');
  return truncated ? { bytes, truncated } : { bytes };
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
