import { z } from 'zod';
import { buildComposition } from '#server/composer/builder/build-composition.ts';
import { lessonOutlineSchema } from '#server/composer/builder/outline.ts';
import { validateComposition } from '#server/composer/validator/validate-composition.ts';
import type { ComposerServices } from './services.ts';
import type { ToolDefinition } from './tool-definition.ts';
import { parseToolInput, structuredResult } from './parse-input.ts';
import { reportSummary, validationReportSchema } from './validation-output.ts';
import { widgetTally } from '#server/composer/session/visit-schema.ts';

const inputSchema = lessonOutlineSchema;

const outputSchema = z.object({
  composition: z.record(z.string(), z.unknown()).describe('The complete Composer document (version 1.1), ready for composer_save_composition.'),
  validation: validationReportSchema.describe('The validator\'s report on the document (limits such as quiz and flashcard counts included).'),
  widgets: z.array(z.object({ id: z.string(), type: z.string() })).describe('The widgets in page order.'),
});

/** composer_build_composition: a lesson outline → a complete Composer document and its validation report. */
export const buildCompositionTool: ToolDefinition<ComposerServices, typeof inputSchema, typeof outputSchema> = {
  name: 'composer_build_composition',
  title: 'Build a Composer composition',
  description: 'Turns a lesson outline (title, subject, grade, author, language, sections of plain text, quiz questions, flashcards, lists, images, videos, galleries, hotspots) into a complete Composer document: a head-1 header first, ids in the Composer\'s UUID v1 format derived from the outline (the same outline always builds the same document, so saving a rebuild does not duplicate it), plain text escaped and wrapped as HTML, the Composer\'s default colors and interface settings. Returns the document (in the text content too, ready to pass to composer_save_composition) and its validation report (fix the errors it lists before saving). Nothing is saved.',
  inputSchema,
  outputSchema,
  annotations: { title: 'Build composition', readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  handler: async (input, context) => {
    const outline = parseToolInput(inputSchema, input);
    const composition = buildComposition(outline);
    const validation = validateComposition(composition, context.services.limits);
    const widgets = composition.structure.map((w) => ({ id: w.id, type: w.type }));
    const summary = [
      `Built "${composition.metadata.title}" with ${widgetTally(widgets)}.`,
      reportSummary(validation, 50),
      validation.valid ? 'Next: call composer_save_composition with {"composition": <the document below>}.' : 'Fix the outline (or the document) and build or validate again before saving.',
      `Document (${Buffer.byteLength(JSON.stringify(composition))} bytes of JSON):`,
      JSON.stringify(composition),
    ].join('\n');
    return structuredResult(summary, { composition: composition as unknown as Record<string, unknown>, validation, widgets });
  },
};
