import { z } from 'zod';
import { compositionUidSchema } from '#server/composer/storage/composition-uid.ts';
import { storageNotConfigured } from '#server/composer/storage-client.ts';
import { editorUrl } from '#server/composer/storage/composer-urls.ts';
import { widgetsOf } from '#server/composer/session/visit-composition.ts';
import { widgetTally } from '#server/composer/session/visit-schema.ts';
import type { ComposerServices } from './services.ts';
import type { ToolDefinition } from './tool-definition.ts';
import { parseToolInput } from './parse-input.ts';

const inputSchema = z
  .object({
    uid: compositionUidSchema(),
  })
  .strict();

const outputSchema = z.object({
  uid: z.string(),
  editorUrl: z.string(),
  title: z.string().nullable(),
  widgets: z.array(z.object({ type: z.string(), id: z.string().nullable() })).describe('The widgets of the document, in page order.'),
  composition: z.record(z.string(), z.unknown()).describe('The stored composition document.'),
});

/** composer_get_composition: reads a saved composition back from the Composer storage. */
export const getCompositionTool: ToolDefinition<ComposerServices, typeof inputSchema, typeof outputSchema> = {
  name: 'composer_get_composition',
  title: 'Read a saved composition',
  description: 'Reads a saved composition back from the DigitalPages storage by its uid (with the server\'s configured credentials) and returns the document, its title and its widgets. Answers NOT_FOUND for an unknown uid.',
  inputSchema,
  outputSchema,
  annotations: { title: 'Get composition', readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  handler: async (rawInput, context) => {
    const input = parseToolInput(inputSchema, rawInput);
    const { services } = context;
    if (!services.storage) throw storageNotConfigured(services.settings);
    const composition = await services.storage.read(input.uid, { signal: context.signal });
    const metadata = composition['metadata'] as { title?: unknown } | undefined;
    const title = typeof metadata?.title === 'string' ? metadata.title : null;
    const widgets = widgetsOf(composition);
    const result = { uid: input.uid, editorUrl: editorUrl(services.settings.composerUrl, input.uid), title, widgets, composition };
    return {
      // The document once in text (a client that shows the model only text needs it to edit and save) and once in
      // structuredContent (the output schema); the text carries nothing else of the structured result but one line.
      content: [{ type: 'text', text: `Composition ${input.uid}${title ? ` "${title}"` : ''}: ${widgetTally(widgets)}. Editor: ${result.editorUrl}\nDocument:\n${JSON.stringify(composition)}` }],
      structuredContent: result,
    };
  },
};
