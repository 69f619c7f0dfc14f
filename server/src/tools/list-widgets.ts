import { z } from 'zod';
import { widgetCatalog } from '#server/composer/catalog.ts';
import type { ComposerServices } from './services.ts';
import type { ToolDefinition } from './tool-definition.ts';
import { parseToolInput, structuredResult } from './parse-input.ts';

const inputSchema = z.object({}).strict().describe('No arguments.');

const outputSchema = z.object({
  widgets: z.array(z.object({
    type: z.string().describe('Widget type, e.g. "quiz-1".'),
    title: z.string(),
    description: z.string(),
    confidence: z.enum(['known', 'likely', 'open']).describe('How sure the field names are: known (observed), likely (inferred), open (guessed).'),
    outlineSection: z.string().nullable().describe('The section type that builds it in composer_build_composition; null for head-1 (automatic).'),
    constraints: z.array(z.string()),
    assumptionCount: z.number().int(),
  })),
});

/** composer_list_widgets: the widget types with what each is for (from the catalog). */
export const listWidgetsTool: ToolDefinition<ComposerServices, typeof inputSchema, typeof outputSchema> = {
  name: 'composer_list_widgets',
  title: 'List Composer widgets',
  description: 'Lists the Composer widget types this server models (header, text, quiz, flashcards, list, image, video, gallery, hotspots): what each is for, its validation constraints, how sure its field names are, and the outline section that builds it. Use composer_describe_widget for a type\'s fields, JSON Schema and an example.',
  inputSchema,
  outputSchema,
  annotations: { title: 'List widgets', readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  handler: async (input, context) => {
    parseToolInput(inputSchema, input);
    const widgets = widgetCatalog(context.services.limits).map((entry) => ({
      type: entry.type, title: entry.title, description: entry.description, confidence: entry.confidence,
      outlineSection: entry.outlineSection, constraints: entry.constraints, assumptionCount: entry.assumptions.length,
    }));
    const summary = [`${widgets.length} widget types:`, ...widgets.map((w) => `- ${w.type} (${w.confidence}): ${w.title}. ${w.description}`)].join('\n');
    return structuredResult(summary, { widgets });
  },
};
