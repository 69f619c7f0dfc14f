import { z } from 'zod';
import { compositionUidSchema } from '#server/composer/storage/composition-uid.ts';
import { capturePdf, capturePng, pngSize, truncationNote } from '#server/composer/session/page-capture.ts';
import { captureLimitsOf, withComposerPage } from '#server/composer/session/browser-work.ts';
import { truncationSchema, visitReportSchema, visitSummary } from '#server/composer/session/visit-schema.ts';
import type { ComposerServices } from './services.ts';
import type { ToolDefinition } from './tool-definition.ts';
import { parseToolInput } from './parse-input.ts';

const inputSchema = z
  .object({
    uid: compositionUidSchema(),
    format: z.enum(['png', 'pdf']).default('png').describe('png: a screenshot (image content); pdf: the printed learner view (an embedded application/pdf resource).'),
    fullPage: z.boolean().default(true).describe('For png: the whole page (default) or only the first screen.'),
  })
  .strict();

const outputSchema = visitReportSchema.extend({
  preview: z.object({ mimeType: z.enum(['image/png', 'application/pdf']), bytes: z.number().int(), width: z.number().int().optional(), height: z.number().int().optional(), uri: z.string().optional(), truncated: truncationSchema.optional() }),
});

/** composer_preview_composition: the learner's view of a saved composition as a PNG or a PDF. */
export const previewCompositionTool: ToolDefinition<ComposerServices, typeof inputSchema, typeof outputSchema> = {
  name: 'composer_preview_composition',
  title: 'Preview a composition as a learner sees it',
  description:
    'Opens a saved composition in the Composer\'s embedded learner view in a pooled browser (signed in with the configured token), waits until it is seen rendered (its title and every widget\'s own text or media visible, the page quiet; ready=false with what was not seen otherwise), and returns it as a PNG screenshot (image content) or a PDF (an embedded application/pdf resource), with what loaded and any page errors.',
  inputSchema,
  outputSchema,
  annotations: { title: 'Preview composition', readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  handler: async (rawInput, context) => {
    const input = parseToolInput(inputSchema, rawInput);
    const { visit, captured, browserId } = await withComposerPage(context.services, {
      uid: input.uid,
      view: 'embed',
      signal: context.signal,
      reportProgress: context.reportProgress,
      capture: async (lease, session) => {
        const limits = captureLimitsOf(context.services.settings);
        return input.format === 'pdf' ? capturePdf(lease.page, limits) : capturePng(lease.page, { fullPage: input.fullPage, limits, session });
      },
      // A PNG is captured during the quiet window and used only if the page did not change until ready (ADR 29, 32);
      // a PDF is printed after ready (printing emulates print media and lays the page out again).
      captureEarly: input.format === 'png',
    });
    const base = { uid: input.uid, ...visit, browserId };
    const truncated = captured.truncated ? { truncated: captured.truncated } : {};
    if (input.format === 'pdf') {
      const uri = `composer://compositions/${encodeURIComponent(input.uid)}/preview.pdf`;
      const report = { ...base, preview: { mimeType: 'application/pdf' as const, bytes: captured.bytes.length, uri, ...truncated } };
      return {
        content: [
          { type: 'text', text: `${visitSummary(report)} PDF: ${captured.bytes.length} bytes.${truncationNote(captured.truncated)}` },
          { type: 'resource', resource: { uri, mimeType: 'application/pdf', blob: captured.bytes.toString('base64') } },
        ],
        structuredContent: report,
      };
    }
    const size = pngSize(captured.bytes) ?? { width: 0, height: 0 };
    const report = { ...base, preview: { mimeType: 'image/png' as const, bytes: captured.bytes.length, ...size, ...truncated } };
    return {
      content: [
        { type: 'text', text: `${visitSummary(report)}${truncationNote(captured.truncated)}` },
        { type: 'image', data: captured.bytes.toString('base64'), mimeType: 'image/png' },
      ],
      structuredContent: report,
    };
  },
};
