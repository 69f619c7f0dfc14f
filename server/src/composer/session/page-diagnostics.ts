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

const MAX_ENTRIES = 50;

/**
 * A URL as it may be reported and logged: origin and path only (the query may carry `access_token`, and a page
 * may pack anything into it), long opaque segments elided, truncated.
 */
export function safeUrl(url: string): string {
  return reportedUrl(url);
}

function push<T>(list: T[], item: T): void {
  if (list.length < MAX_ENTRIES) list.push(item);
}

/**
 * Collects a page's console errors, uncaught errors and failed requests from now until `stop()` (bounded to 50
 * entries each; text as reported-url.ts reduces it: URLs to origin and path, opaque runs elided, truncated).
 */
export class PageWatcher {
  readonly diagnostics: PageDiagnostics = { consoleErrors: [], pageErrors: [], failedRequests: [] };
  private readonly page: Page;
  private readonly onConsole = (message: ConsoleMessage) => {
    if (message.type() === 'error') push(this.diagnostics.consoleErrors, reportedText(message.text()));
  };
  private readonly onPageError = (error: Error) => {
    push(this.diagnostics.pageErrors, reportedText(`${error.name}: ${error.message}`));
  };
  private readonly onRequestFailed = (request: Request) => {
    push(this.diagnostics.failedRequests, { url: safeUrl(request.url()), method: request.method(), failure: reportedText(request.failure()?.errorText ?? 'failed', 120) });
  };
  private readonly onResponse = (response: Response) => {
    if (response.status() >= 400) push(this.diagnostics.failedRequests, { url: safeUrl(response.url()), method: response.request().method(), status: response.status() });
  };

  constructor(page: Page) {
    this.page = page;
    page.on('console', this.onConsole);
    page.on('pageerror', this.onPageError);
    page.on('requestfailed', this.onRequestFailed);
    page.on('response', this.onResponse);
  }

  /** Stops listening. */
  stop(): void {
    this.page.off('console', this.onConsole);
    this.page.off('pageerror', this.onPageError);
    this.page.off('requestfailed', this.onRequestFailed);
    this.page.off('response', this.onResponse);
  }
}
