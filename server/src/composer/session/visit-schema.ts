import { z } from 'zod';
import type { ReportedVisit } from './browser-work.ts';
import type { WidgetRef } from './visit-composition.ts';

const widgetRef = z.object({ type: z.string(), id: z.string().nullable() });

/** A capture cut at a limit (see page-capture.ts). */
export const truncationSchema = z
  .object({ limit: z.enum(['maxScreenshotHeightPx', 'maxPdfPages']), kept: z.number().int(), total: z.number().int().optional() })
  .describe('Set when the capture was cut at a configured limit: which limit, and the pixels or pages kept (of the total, when known).');

/** The structured report of a visit (CompositionVisit) as tools return it. */
export const visitReportSchema = z.object({
  uid: z.string(),
  url: z.string().describe('The Composer URL that was opened.'),
  view: z.enum(['editor', 'embed']),
  ready: z
    .boolean()
    .describe('True only when the composition was seen rendered: its title and every widget\'s own text or media visible on the page (or every widget element, with composer.page.widgetSelector), the DOM quiet for a short window, fonts and images loaded or failed. False: the capture shows the page as it was when the wait ended; notSeen says what was missing.'),
  notSeen: z.array(z.string()).describe('What was looked for and not seen when ready is false (empty when ready).'),
  readStatus: z.number().int(),
  documentWidgets: z.array(widgetRef).describe('Widgets of the document the app loaded, in page order.'),
  renderedWidgets: z.array(widgetRef).describe('Widgets seen rendered on the page: found by their own text or media, or by composer.page.widgetSelector when it is configured.'),
  missingWidgetIds: z.array(z.string()).describe('Document widgets that were looked for and not seen.'),
  unverifiedWidgetIds: z.array(z.string()).describe('Document widgets with nothing to look for (no text or media).'),
  evidence: z
    .object({
      method: z.enum(['content', 'selector']),
      outcome: z.enum(['ready', 'deadline', 'stopped-changing']),
      titleSeen: z.boolean().nullable(),
      domQuiet: z.boolean(),
      fontsLoaded: z.boolean(),
      imagesPending: z.number().int(),
    })
    .describe('How readiness was decided: by content or selector; ready, out of time, or a partial render that stopped changing.'),
  consoleErrors: z.array(z.string()),
  pageErrors: z.array(z.string()),
  failedRequests: z.array(z.object({ url: z.string(), method: z.string(), status: z.number().int().optional(), failure: z.string().optional() })),
  blockedNavigations: z.array(z.object({ url: z.string() }).loose()).describe('Requests aborted because their origin is not the Composer or its API (origin and path only).'),
  refusedApiCalls: z
    .array(z.object({ method: z.string(), origin: z.string(), path: z.string() }))
    .describe('API calls the page made that the server refused: open and preview are read-only (only the sign-in check and the read of this composition reach the API). Origin and path only.'),
  failedApiRelays: z
    .array(z.object({ method: z.string(), origin: z.string(), path: z.string(), reason: z.string() }))
    .describe('API calls of the page that were allowed but that the server could not complete for it (timeout, redirect, answer too large, a read that is not a composition…), with why. Origin and path only.'),
  totals: z
    .object({
      documentWidgets: z.number().int(),
      consoleErrors: z.number().int(),
      pageErrors: z.number().int(),
      failedRequests: z.number().int(),
      blockedNavigations: z.number().int(),
      refusedApiCalls: z.number().int(),
      failedApiRelays: z.number().int(),
    })
    .describe('How many of each there were. The lists are bounded (documentWidgets to the first 2 000, the others to the first 50), so a list\'s length is not its count.'),
  sanitizedFields: z
    .array(z.string())
    .describe('JSONPaths of the values of the stored composition that the server sanitised before the app got it (script, event handlers, disallowed elements or URLs removed): the composition holds HTML that the validator would refuse.'),
  timings: z.object({ readMs: z.number(), readyMs: z.number(), readyAt: z.number().describe('When readiness was decided (epoch ms).') }),
  browserId: z.string(),
});

/**
 * "8 widgets (head-1, text-1 ×2, quiz-1, …)": the count and every type with its multiplicity, in page order. With
 * `total` above the list's length (a bounded list), the count is the total and the types are those listed.
 */
export function widgetTally(widgets: readonly WidgetRef[], total = widgets.length): string {
  const counts = new Map<string, number>();
  for (const w of widgets) counts.set(w.type, (counts.get(w.type) ?? 0) + 1);
  const types = [...counts].map(([type, n]) => (n > 1 ? `${type} ×${n}` : type)).join(', ');
  const listed = total > widgets.length ? `${types ? '; ' : ''}the first ${widgets.length} listed` : '';
  return `${total} widget${total === 1 ? '' : 's'}${types || listed ? ` (${types}${listed})` : ''}`;
}

/** A count as reported beside a bounded list: "120 (first 50 listed)", or the count alone when all are listed. */
export function countedList(total: number, listed: number): string {
  return total > listed ? `${total} (first ${listed} listed)` : String(total);
}

/** What the summary of a visit reads. */
export type VisitSummaryInput = Omit<ReportedVisit, 'refusedApiCalls' | 'sanitizedFields'> & { uid: string; refusedApiCalls: readonly unknown[]; sanitizedFields: readonly unknown[] };

/** The text a tool result leads with: whether the lesson was seen rendered, what was seen, what was not, and the errors. */
export function visitSummary(report: VisitSummaryInput): string {
  const where = report.view === 'editor' ? 'the editor' : 'the learner view';
  const rendered = `${report.renderedWidgets.length} of ${report.documentWidgets.length} seen rendered (by ${report.evidence.method === 'content' ? 'their content' : 'the configured selector'})`;
  const unverified = report.unverifiedWidgetIds.length ? `, ${report.unverifiedWidgetIds.length} with nothing to look for` : '';
  const head = report.ready
    ? `Rendered: ${report.uid} in ${where}, ready after ${report.timings.readyMs} ms.`
    : `NOT READY: ${report.uid} in ${where} was not seen fully rendered after ${report.timings.readyMs} ms (${report.evidence.outcome === 'stopped-changing' ? 'the page stopped changing with widgets missing' : 'the wait ran out'}); the capture shows the page as it was then, not necessarily the lesson.`;
  const lines = [
    head,
    `Document: ${widgetTally(report.documentWidgets, report.totals.documentWidgets)}; ${rendered}${unverified}.`,
    ...(report.ready ? [] : [`Not seen: ${report.notSeen.join('; ')}.`]),
    `Page: ${countedList(report.totals.pageErrors, report.pageErrors.length)} uncaught errors, ${countedList(report.totals.consoleErrors, report.consoleErrors.length)} console errors, ${countedList(report.totals.failedRequests, report.failedRequests.length)} failed requests, ${countedList(report.totals.blockedNavigations, report.blockedNavigations.length)} blocked requests (outside the Composer's origins), ${countedList(report.totals.refusedApiCalls, report.refusedApiCalls.length)} refused API calls (read-only view).`,
  ];
  if (report.totals.failedApiRelays > 0) {
    const examples = report.failedApiRelays.slice(0, 3).map((f) => `${f.method} ${f.origin}${f.path}: ${f.reason}`).join(' | ');
    lines.push(`${countedList(report.totals.failedApiRelays, report.failedApiRelays.length)} API calls of the page could not be completed by the server: ${examples}`);
  }
  if (report.sanitizedFields.length > 0) lines.push(`${report.sanitizedFields.length} fields of the stored composition were sanitised before display (it holds HTML the validator would refuse).`);
  if (report.pageErrors.length) lines.push(`Uncaught errors: ${report.pageErrors.slice(0, 3).join(' | ')}`);
  return lines.join('\n');
}
