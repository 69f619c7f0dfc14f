import type { Page } from 'playwright-core';

/** Width and height of a PNG, read from its IHDR chunk; undefined when `png` is not a PNG. */
export function pngSize(png: Uint8Array): { width: number; height: number } | undefined {
  const magic = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (png.length < 24 || magic.some((b, i) => png[i] !== b)) return undefined;
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

/** A PNG screenshot of the page (the viewport, or the whole page when `fullPage`). */
export async function capturePng(page: Page, options: { fullPage: boolean; timeoutMs: number }): Promise<Buffer> {
  return page.screenshot({ type: 'png', fullPage: options.fullPage, timeout: options.timeoutMs, animations: 'disabled' });
}

/** A PDF of the page as printed (A4, backgrounds on, screen styles). */
export async function capturePdf(page: Page): Promise<Buffer> {
  await page.emulateMedia({ media: 'screen' });
  return page.pdf({ format: 'A4', printBackground: true });
}
