import { z } from 'zod';
import { validateComposition } from '#server/composer/validator/validate-composition.ts';
import type { ComposerServices } from './services.ts';
import { ToolError } from './tool-definition.ts';
import type { ToolDefinition } from './tool-definition.ts';
import { parseToolInput, structuredResult } from './parse-input.ts';
import { reportSummary, validationReportSchema } from './validation-output.ts';

const inputSchema = z.object({
  composition: z.union([
    z.record(z.string(), z.unknown()).describe('The composition document as a JSON object.'),
    z.string().min(2).describe('The composition document as a JSON string.'),
  ]).describe('The Composer document to check (version, metadata, interface, structure, assets), as an object or a JSON string.'),
}).strict();

/** composer_validate_composition: every problem of a composition with its JSONPath, rule and fix. */
export const validateCompositionTool: ToolDefinition<ComposerServices, typeof inputSchema, typeof validationReportSchema> = {
  name: 'composer_validate_composition',
  title: 'Validate a Composer composition',
  description: 'Checks a Composer document strictly: the schema of every widget (unknown widget types pass with a warning), a head-1 first, unique ids, quiz questions with "choices" (never "answers") and at least one correct choice, quiz and flashcard counts within the configured limits, and safe, well-formed HTML (no <script>, on*= handlers or javascript: URLs). Each problem has its JSONPath, the rule, a message and the fix.',
  inputSchema,
  outputSchema: validationReportSchema,
  annotations: { title: 'Validate composition', readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  handler: async (input, context) => {
    const { composition } = parseToolInput(inputSchema, input);
    const limits = context.services.limits;
    let document: unknown = composition;
    if (typeof composition === 'string') {
      if (Buffer.byteLength(composition, 'utf8') > limits.maxDocumentBytes) {
        throw new ToolError('INVALID_COMPOSITION', `The composition is larger than ${limits.maxDocumentBytes} bytes.`, 'Split the lesson into several compositions or shorten its content.');
      }
      try {
        document = JSON.parse(composition);
      } catch (error) {
        throw new ToolError('INVALID_COMPOSITION', `The composition string is not valid JSON: ${(error as Error).message}.`, 'Send the document as a JSON object, or as a string holding valid JSON.');
      }
    }
    const report = validateComposition(document, limits);
    return structuredResult(reportSummary(report, 50), { ...report });
  },
};
