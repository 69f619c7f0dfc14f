import type { z } from 'zod';
import { htmlField, widgetSchema } from './common.ts';

/** `text-1`: a block of rich text. All fields [known]. */
export const text1Schema = widgetSchema(
  { type: 'text-1', title: 'Rich text', description: 'A block of rich text (paragraphs, emphasis, links) for explanations and reading passages.', confidence: 'known', assumptions: [] },
  {
    content: htmlField('The text.').min(1),
  },
);

/** A text-1 widget as the schema outputs it. */
export type Text1Widget = z.output<typeof text1Schema>;
