import { z } from 'zod';
import { widgetIdSchema } from './common.ts';
import { WIDGET_SCHEMAS, WIDGET_TYPES } from './widgets.ts';
import type { KnownWidget } from './widgets.ts';

/** The composition format version the Composer writes [known]. */
export const COMPOSITION_VERSION = '1.1';

/** Content languages the server produces. `pt_br` is [known]; `en` is an assumption. */
export const CONTENT_LANGUAGES = ['pt_br', 'en'] as const;

/** A content language. */
export type ContentLanguage = (typeof CONTENT_LANGUAGES)[number];

/** Interface settings defaults as composer.md records them [known]. */
export const INTERFACE_DEFAULTS = Object.freeze({
  content_language: 'pt_br' as ContentLanguage,
  index_option: 'buttons',
  font_family: 'Lato',
  show_summary: 'disabled',
  finish_btn: 'disabled',
});

/** The title the Composer UI gives a new composition [known]. */
export const DEFAULT_TITLE = 'Sem título';

/** `metadata`: title, description, thumbnail and tags [known]. */
export const metadataSchema = z.strictObject({
  title: z.string().min(1).max(500).meta({ description: 'Lesson title (plain text). The Composer default is "Sem título".' }),
  description: z.string().max(5000).meta({ description: 'Lesson description (plain text); may be empty.' }),
  thumb: z.string().max(4096).nullable().meta({ description: 'Thumbnail URL, or null.' }),
  tags: z.array(z.string().max(100)).max(50).meta({ description: 'Tags (plain text).' }),
});

const enabledDisabled = z.enum(['enabled', 'disabled']);

/** `interface`: how the lesson is presented [known keys; values other than the observed ones are assumptions]. */
export const interfaceSchema = z.strictObject({
  content_language: z.enum(CONTENT_LANGUAGES).meta({ description: 'Language of the content: pt_br or en.', assumption: '"pt_br" was observed; "en" is assumed to be accepted.' }),
  index_option: z.string().min(1).max(50).meta({ description: 'How the lesson index is shown; "buttons" observed.' }),
  font_family: z.string().min(1).max(100).meta({ description: 'Font family; "Lato" observed.' }),
  show_summary: enabledDisabled.meta({ description: 'Whether a summary is shown; "disabled" observed.', assumption: '"enabled" is assumed to be the other value.' }),
  finish_btn: enabledDisabled.meta({ description: 'Whether a finish button is shown; "disabled" observed.', assumption: '"enabled" is assumed to be the other value.' }),
});

/** A widget of a type this server does not model: passes validation with a warning, kept as is. */
export const unknownWidgetSchema = z.looseObject({
  id: widgetIdSchema,
  type: z.string().min(1).max(100).regex(new RegExp(`^(?!(?:${WIDGET_TYPES.map((t) => t.replace('-', '\\-')).join('|')})$)`)).meta({ description: 'A widget type this server does not model.' }),
}).meta({ title: 'Other widget', description: 'A widget type this server does not model. Accepted with a warning and passed through unchanged.' });

/** The envelope of a composition; widgets are checked one by one against their own schema by the validator. */
export const compositionEnvelopeSchema = z.strictObject({
  version: z.literal(COMPOSITION_VERSION).meta({ description: 'Format version, always "1.1".' }),
  metadata: metadataSchema,
  interface: interfaceSchema,
  structure: z.array(z.unknown()).meta({ description: 'The widgets in page order; the first is a head-1.' }),
  assets: z.array(z.unknown()).optional().meta({ description: 'Assets; [] in the app\'s own copy, absent in one observed upload.' }),
});

/**
 * The whole composition: envelope plus every widget schema (and unknown widgets). Used for the published JSON Schema
 * and for checking builder output in one parse.
 */
export const compositionSchema = compositionEnvelopeSchema.extend({
  structure: z.array(z.union([...WIDGET_TYPES.map((t) => WIDGET_SCHEMAS[t]), unknownWidgetSchema])).meta({ description: 'The widgets in page order; the first is a head-1.' }),
}).meta({ title: 'Composer composition', description: 'A EuConquisto Composer composition document (version 1.1).' });

/** A widget of a type the server does not model. */
export type UnknownWidget = z.output<typeof unknownWidgetSchema>;

/** A composition document as the builder produces it. */
export interface CompositionDocument {
  version: typeof COMPOSITION_VERSION;
  metadata: z.output<typeof metadataSchema>;
  interface: z.output<typeof interfaceSchema>;
  structure: (KnownWidget | UnknownWidget)[];
  assets?: unknown[];
}
