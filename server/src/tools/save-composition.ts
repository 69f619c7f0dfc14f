import { z } from 'zod';
import { storageNotConfigured } from '#server/composer/storage-client.ts';
import { embedUrl } from '#server/composer/storage/composer-urls.ts';
import { validateComposition } from '#server/composer/validator/index.ts';
import type { ValidationReport } from '#server/composer/validator/problem.ts';
import type { ComposerServices } from './services.ts';
import { ToolError, type ToolDefinition } from './tool-definition.ts';
import { parseToolInput } from './parse-input.ts';
import { reportSummary } from './validation-output.ts';

/** Every problem of a refused composition as text lines (up to 50; the rest are in details.problems). */
function problemLines(report: ValidationReport): string {
  return reportSummary(report, 50).split('\n').slice(1).join('\n');
}

const inputSchema = z
  .object({
    composition: z.record(z.string(), z.unknown()).describe('The complete composition document (as composer_build_composition returns it).'),
    idempotencyKey: z
      .string()
      .trim()
      .min(1)
      .max(200)
      .regex(/^[\x20-\x7E]+$/, 'use printable ASCII characters only')
      .optional()
      .describe('Optional key that makes retries safe: saving again with the same key returns the first uid. Default: a hash of the content.'),
    retryUnknown: z
      .boolean()
      .default(false)
      .describe('Only after a save answered SAVE_OUTCOME_UNKNOWN and you checked in the Composer that the composition is NOT there: uploads it again under the same key. Never set it otherwise: it can store a second copy.'),
  })
  .strict();

const problemSchema = z.object({ path: z.string(), rule: z.string(), message: z.string(), fix: z.string(), severity: z.enum(['error', 'warning']) });

const outputSchema = z.object({
  uid: z.string().describe('The composition uid (opaque; pass it unchanged to the other tools).'),
  editorUrl: z.string(),
  embedUrl: z.string(),
  created: z.boolean().describe('False when this key was saved before and that composition is returned.'),
  idempotencyKey: z.string(),
  warnings: z.array(problemSchema),
});

/** composer_save_composition: validates a composition and uploads it to the Composer storage, idempotently. */
export const saveCompositionTool: ToolDefinition<ComposerServices, typeof inputSchema, typeof outputSchema> = {
  name: 'composer_save_composition',
  title: 'Save a composition to the Composer',
  description:
    'Validates a composition and uploads it to the DigitalPages storage with the server\'s configured credentials; returns its uid and editor URL. Invalid compositions are rejected with every problem listed (fix them and call again). Idempotent per idempotencyKey (default: a hash of the content): a retried save returns the same uid with created=false instead of a second copy. An upload that was sent and got no answer is never repeated: the save answers SAVE_OUTCOME_UNKNOWN with what to check, and later saves with the same key answer the same until you confirm with retryUnknown=true. With composer.idempotency.store=kubernetes (the Helm chart sets it) keys are held cluster-wide for 24 hours, so a retry that lands on another replica gets the same uid; with the default in-memory store only the process that saved it remembers the key. Either store holds up to composer.idempotency.maxRecords keys; when it is full a save with a new key answers IDEMPOTENCY_STORE_FULL and uploads nothing.',
  inputSchema,
  outputSchema,
  annotations: { title: 'Save composition', readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  handler: async (rawInput, context) => {
    const input = parseToolInput(inputSchema, rawInput);
    const { services } = context;
    await context.reportProgress(0, 2, 'Validating the composition');
    const report = validateComposition(input.composition, services.limits);
    if (!report.valid) {
      throw new ToolError('INVALID_COMPOSITION', `The composition has ${report.errorCount} error${report.errorCount === 1 ? '' : 's'} and was not saved.\n${problemLines(report)}`, 'Fix each problem listed above (path, rule, fix), check with composer_validate_composition, then save again.', { details: { problems: report.problems } });
    }
    if (!services.storage) throw storageNotConfigured(services.settings);
    await context.reportProgress(1, 2, 'Uploading to the Composer storage');
    const saved = await services.storage.upload(input.composition, { ...(input.idempotencyKey ? { idempotencyKey: input.idempotencyKey } : {}), signal: context.signal, retryUnknown: input.retryUnknown });
    await context.reportProgress(2, 2, saved.created ? 'Saved' : 'Already saved');
    const result = {
      uid: saved.uid,
      editorUrl: saved.editorUrl,
      embedUrl: embedUrl(services.settings.composerUrl, saved.uid),
      created: saved.created,
      idempotencyKey: (saved as { idempotencyKey?: string }).idempotencyKey ?? input.idempotencyKey ?? '',
      warnings: report.problems.filter((p) => p.severity === 'warning'),
    };
    const note = result.warnings.length ? ` ${result.warnings.length} warning(s): ${result.warnings.map((w) => `${w.path} ${w.message}`).join('; ')}` : '';
    return {
      content: [{ type: 'text', text: `${saved.created ? 'Saved' : 'Already saved (same idempotency key; nothing uploaded)'}: uid ${saved.uid}\nEditor: ${saved.editorUrl}\nLearner view: ${result.embedUrl}\nIdempotency key: ${result.idempotencyKey}\nNext: composer_open_composition or composer_preview_composition with this uid to check it renders.${note}` }],
      structuredContent: result,
    };
  },
};
