import { z } from 'zod';
import type { CompositionVisit } from './visit-composition.ts';

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
  ready: z.boolean().describe('The read answered 200, the network went idle and no uncaught error happened.'),
  readStatus: z.number().int(),
  documentWidgets: z.array(widgetRef).describe('Widgets of the document the app loaded, in page order.'),
  renderedWidgets: z.array(widgetRef).describe('Widgets found on the rendered page (by the configured selector).'),
  missingWidgetIds: z.array(z.string()).describe('Document widgets with no rendered element.'),
  consoleErrors: z.array(z.string()),
  pageErrors: z.array(z.string()),
  failedRequests: z.array(z.object({ url: z.string(), method: z.string(), status: z.number().int().optional(), failure: z.string().optional() })),
  blockedNavigations: z.array(z.object({ url: z.string() }).loose()).describe('Requests aborted because their origin is not the Composer or its API (origin and path only).'),
  refusedApiCalls: z
    .array(z.object({ method: z.string(), origin: z.string(), path: z.string() }))
    .describe('API calls the page made that the server refused: open and preview are read-only (only the sign-in check and the read of this composition reach the API). Origin and path only.'),
  sanitizedFields: z
    .array(z.string())
    .describe('JSONPaths of the values of the stored composition that the server sanitised before the app got it (script, event handlers, disallowed elements or URLs removed): the composition holds HTML that the validator would refuse.'),
  timings: z.object({ readMs: z.number(), readyMs: z.number() }),
  browserId: z.string(),
});

/** One line summarising a visit for the text content of a tool result. */
export function visitSummary(report: CompositionVisit & { uid: string; refusedApiCalls: unknown[]; sanitizedFields: unknown[] }): string {
  const types = [...new Set(report.documentWidgets.map((w) => w.type))].join(', ') || 'none';
  return `${report.ready ? 'Loaded' : 'Loaded (not fully ready)'} ${report.uid} in the ${report.view === 'editor' ? 'editor' : 'learner view'} in ${report.timings.readyMs} ms: ${report.documentWidgets.length} widgets (${types}), ${report.renderedWidgets.length} rendered, ${report.missingWidgetIds.length} missing; ${report.pageErrors.length} uncaught errors, ${report.consoleErrors.length} console errors, ${report.failedRequests.length} failed requests, ${report.blockedNavigations.length} blocked requests (outside the Composer's origins), ${report.refusedApiCalls.length} refused API calls (read-only view)${report.sanitizedFields.length > 0 ? `; ${report.sanitizedFields.length} fields of the stored composition were sanitised before display (it holds HTML the validator would refuse)` : ''}.`;
}
