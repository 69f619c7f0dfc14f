import type { ConsoleMessage, Page } from 'playwright-core';
import { ComposerError } from '../composer-error.ts';

/**
 * What a page may send the server during one lease before the server stops it. Every console message, uncaught
 * error and request of a page crosses the CDP connection to the server, which parses it whatever it keeps; a page
 * that logs in a loop (2 KB messages for 20 s) took the server from 200 MB to 1.1 GB, stalled its event loop for
 * most of a second and made the browser's health check fail, so every other lease on that browser failed too.
 * A Composer page loading a lesson makes a few hundred of these.
 */
export interface PageFloodLimits {
  /** Most console messages, uncaught errors and requests together. */
  events: number;
  /** Most characters of console text and error messages together. */
  textChars: number;
}

export const DEFAULT_PAGE_FLOOD_LIMITS: Readonly<PageFloodLimits> = Object.freeze({ events: 5_000, textChars: 20_000_000 });

/** The BROWSER_FAILED error of a page that went past its limits. */
function flooded(what: string, limit: number): ComposerError {
  return new ComposerError(
    'BROWSER_FAILED',
    `The page sent more than ${limit} ${what} while the composition was open, and was closed; nothing was captured.`,
    'The Composer page runs a script that logs or requests without end (hostile content, or an app bug): check the composition and the app. Calling again will end the same way.',
    { details: { limit, what } },
  );
}

/**
 * Counts what `page` sends (console messages, uncaught errors, requests, and their text) and, past `limits`, closes
 * the page and rejects `flooded` with BROWSER_FAILED; `dispose` stops counting.
 */
export function guardAgainstFloods(page: Page, limits: PageFloodLimits = DEFAULT_PAGE_FLOOD_LIMITS): { flooded: Promise<never>; dispose: () => void } {
  let events = 0;
  let chars = 0;
  let stop = (): void => undefined;
  const promise = new Promise<never>((_resolve, reject) => {
    const trip = (failure: ComposerError) => {
      stop();
      reject(failure);
      void page.close().catch(() => undefined);
    };
    const count = (textLength: number) => {
      events += 1;
      chars += textLength;
      if (events > limits.events) trip(flooded('console messages, uncaught errors and requests', limits.events));
      else if (chars > limits.textChars) trip(flooded('characters of console text and error messages', limits.textChars));
    };
    const onConsole = (message: ConsoleMessage) => count(message.text().length);
    const onPageError = (error: Error) => count(error.message.length);
    const onRequest = () => count(0);
    page.on('console', onConsole);
    page.on('pageerror', onPageError);
    page.on('request', onRequest);
    stop = () => {
      page.off('console', onConsole);
      page.off('pageerror', onPageError);
      page.off('request', onRequest);
    };
  });
  promise.catch(() => undefined);
  return { flooded: promise, dispose: () => stop() };
}
