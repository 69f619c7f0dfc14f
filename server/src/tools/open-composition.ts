import { z } from 'zod';
import { compositionUidSchema } from '#server/composer/storage/composition-uid.ts';
import { capturePng, pngSize, truncationNote } from '#server/composer/session/page-capture.ts';
import { captureLimitsOf, withComposerPage } from '#server/composer/session/browser-work.ts';
import { truncationSchema, visitReportSchema, visitSummary } from '#server/composer/session/visit-schema.ts';
import type { ComposerServices } from './services.ts';
import type { ToolDefinition } from './tool-definition.ts';
import { parseToolInput } from './parse-input.ts';

const inputSchema = z
  .object({
    uid: compositionUidSchema(),
    fullPage: z.boolean().default(false).describe('Screenshot the whole page instead of the first screen.'),
  })
  .strict();

const outputSchema = visitReportSchema.extend({
  screenshot: z.object({ mimeType: z.literal('image/png'), width: z.number().int(), height: z.number().int(), bytes: z.number().int(), truncated: truncationSchema.optional() }),
});

/** composer_open_composition: opens a saved composition in the Composer editor and shows what loaded. */
export const openCompositionTool: ToolDefinition<ComposerServices, typeof inputSchema, typeof outputSchema> = {
  name: 'composer_open_composition',
  title: 'Open a composition in the Composer editor',
  description:
    'Opens a saved composition in the Composer editor in a pooled browser, signed in with the server\'s configured token, waits until the composition is seen rendered (its title and every widget\'s own text or media visible on the page, the page quiet) and returns a PNG screenshot plus what loaded: the widgets of the document, the widgets seen rendered, console and network errors, and blocked requests. When the lesson is not seen in time the screenshot is still returned, with ready=false and what was not seen. Use it after composer_save_composition to check the lesson renders.',
  inputSchema,
  outputSchema,
  annotations: { title: 'Open composition', readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  handler: async (rawInput, context) => {
    const input = parseToolInput(inputSchema, rawInput);
    const { visit, captured, browserId } = await withComposerPage(context.services, {
      uid: input.uid,
      view: 'editor',
      signal: context.signal,
      reportProgress: context.reportProgress,
      capture: async (lease, session) => capturePng(lease.page, { fullPage: input.fullPage, limits: captureLimitsOf(context.services.settings), session }),
      // The capture runs during the quiet window; it is used only if the page did not change until ready (ADR 29).
      captureEarly: true,
    });
    const size = pngSize(captured.bytes) ?? { width: 0, height: 0 };
    const report = { uid: input.uid, ...visit, browserId, screenshot: { mimeType: 'image/png' as const, ...size, bytes: captured.bytes.length, ...(captured.truncated ? { truncated: captured.truncated } : {}) } };
    return {
      content: [
        { type: 'text', text: `${visitSummary(report)}${truncationNote(captured.truncated)}` },
        { type: 'image', data: captured.bytes.toString('base64'), mimeType: 'image/png' },
      ],
      structuredContent: report,
    };
  },
};
