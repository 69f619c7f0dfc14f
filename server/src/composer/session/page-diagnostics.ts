import type { ConsoleMessage, Page, Request, Response } from 'playwright-core';
import { reportedText, reportedUrl } from './reported-url.ts';

/** A request that failed or answered with an error status while the page loaded. */
export interface FailedRequest {
  /** Origin and path only (see reported-url.ts). */
  url: string;
  method: string;
  /** HTTP status when the server answered 4xx/5xx. */
  status?: number;
  /** Network error text when there was no answer (e.g. `net::ERR_BLOCKED_BY_CLIENT`). */
  failure?: string;
}

/** What went wrong on a page: console errors, uncaught errors, failed requests. */
export interface PageDiagnostics {
  consoleErrors: string[];
  pageErrors: string[];
  failedRequests: FailedRequest[];
}

/** How many of each a page produced: the lists keep the first {@link MAX_ENTRIES}. */
export type PageDiagnosticTotals = Record<keyof PageDiagnostics, number>;

/** Most entries kept in each list of {@link PageDiagnostics}. */
export const MAX_ENTRIES = 50;

/**
 * A URL as it may be reported and logged: origin and path only (the query may carry `access_token`, and a page
 * may pack anything into it), long opaque segments elided, truncated.
 */
export function safeUrl(url: string): string {
  return reportedUrl(url);
}


/**
 * Collects a page's console errors, uncaught errors and failed requests from now until `stop()` (bounded to 50
 * entries each, every one counted in `totals`; text as reported-url.ts reduces it: URLs to origin and path, opaque
 * runs elided, truncated).
 */
export class PageWatcher {
  readonly diagnostics: PageDiagnostics = { consoleErrors: [], pageErrors: [], failedRequests: [] };
  /** Every entry seen, kept or not. */
  readonly totals: PageDiagnosticTotals = { consoleErrors: 0, pageErrors: 0, failedRequests: 0 };
  private readonly page: Page;
  private readonly onConsole = (message: ConsoleMessage) => {
    if (message.type() === 'error') this.push('consoleErrors', () => reportedText(message.text()));
  };
  private readonly onPageError = (error: Error) => {
    this.push('pageErrors', () => reportedText(`${error.name}: ${error.message}`));
  };
  private readonly onRequestFailed = (request: Request) => {
    this.push('failedRequests', () => ({ url: safeUrl(request.url()), method: request.method(), failure: reportedText(request.failure()?.errorText ?? 'failed', 120) }));
  };
  private readonly onResponse = (response: Response) => {
    if (response.status() >= 400) this.push('failedRequests', () => ({ url: safeUrl(response.url()), method: response.request().method(), status: response.status() }));
  };

  constructor(page: Page) {
    this.page = page;
    page.on('console', this.onConsole);
    page.on('pageerror', this.onPageError);
    page.on('requestfailed', this.onRequestFailed);
    page.on('response', this.onResponse);
  }

  /** Counts one entry of `list` and keeps it (made only then) while the list is under its bound. */
  private push<K extends keyof PageDiagnostics>(list: K, entry: () => PageDiagnostics[K][number]): void {
    this.totals[list] += 1;
    const kept = this.diagnostics[list] as Array<PageDiagnostics[K][number]>;
    if (kept.length < MAX_ENTRIES) kept.push(entry());
  }

  /** Stops listening. */
  stop(): void {
    this.page.off('console', this.onConsole);
    this.page.off('pageerror', this.onPageError);
    this.page.off('requestfailed', this.onRequestFailed);
    this.page.off('response', this.onResponse);
  }
}
