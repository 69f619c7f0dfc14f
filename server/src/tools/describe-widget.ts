import { z } from 'zod';
import { describeWidget } from '#server/composer/catalog.ts';
import { isWidgetType, WIDGET_TYPES } from '#server/composer/model/widgets.ts';
import type { ComposerServices } from './services.ts';
import { ToolError } from './tool-definition.ts';
import type { ToolDefinition } from './tool-definition.ts';
import { parseToolInput, structuredResult } from './parse-input.ts';

const inputSchema = z.object({
  type: z.string().trim().min(1).max(100).describe(`Widget type to describe: one of ${WIDGET_TYPES.join(', ')}.`),
}).strict();

const outputSchema = z.object({
  type: z.string(),
  title: z.string(),
  description: z.string(),
  confidence: z.enum(['known', 'likely', 'open']),
  jsonSchema: z.record(z.string(), z.unknown()).describe('JSON Schema of the widget (generated from the validating zod schema).'),
  constraints: z.array(z.string()).describe('Rules the validator enforces beyond the schema.'),
  example: z.record(z.string(), z.unknown()).describe('A complete, valid example widget.'),
  outlineSection: z.string().nullable(),
  assumptions: z.array(z.object({ path: z.string(), assumption: z.string() })).describe('Where field names or values are guesses ([likely]/[open] in the Composer notes).'),
});

/** composer_describe_widget: one widget type's JSON Schema, constraints, example and assumptions. */
export const describeWidgetTool: ToolDefinition<ComposerServices, typeof inputSchema, typeof outputSchema> = {
  name: 'composer_describe_widget',
  title: 'Describe a Composer widget',
  description: 'Describes one widget type: its fields as JSON Schema (required fields, defaults, formats), the rules the validator applies, a complete valid example, and which field names are assumptions. Unknown types answer NOT_FOUND with the known types.',
  inputSchema,
  outputSchema,
  annotations: { title: 'Describe widget', readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  handler: async (input, context) => {
    const { type } = parseToolInput(inputSchema, input);
    if (!isWidgetType(type)) {
      throw new ToolError('NOT_FOUND', `Widget type "${type.slice(0, 100)}" is not modelled by this server.`, `Use one of: ${WIDGET_TYPES.join(', ')} (composer_list_widgets lists them).`, { details: { knownTypes: [...WIDGET_TYPES] } });
    }
    const entry = describeWidget(type, context.services.limits);
    const summary = [
      `${entry.type} — ${entry.title} (${entry.confidence}). ${entry.description}`,
      `Required fields: ${((entry.jsonSchema['required'] as string[] | undefined) ?? []).join(', ')}.`,
      `Constraints: ${entry.constraints.join(' ')}`,
      entry.assumptions.length > 0 ? `Assumptions: ${entry.assumptions.map((a) => `${a.path}: ${a.assumption}`).join(' ')}` : 'No assumptions: every field is known.',
      entry.outlineSection ? `Build it with an outline section of type "${entry.outlineSection}".` : 'The builder adds it automatically from the outline title, subject, grade and author.',
      `Example (a complete, valid ${entry.type} widget): ${JSON.stringify(entry.example)}`,
      `JSON Schema: ${JSON.stringify(entry.jsonSchema)}`,
    ].join('\n');
    return structuredResult(summary, { ...entry, example: entry.example as Record<string, unknown> });
  },
};
