import { z } from 'zod';
import { htmlField, itemIdSchema, widgetSchema } from './common.ts';

/** The three list styles composer.md names. */
export const LIST_STYLES = ['numbered', 'bullet', 'checkbox'] as const;

/** One list item. Keys [open]. */
export const listItemSchema = z.strictObject({
  id: itemIdSchema,
  text: htmlField('The item.').min(1).meta({ assumption: 'Key name "text" is a guess.' }),
});

/** `list-1`: a numbered, bullet or checkbox list. Keys [open]. */
export const list1Schema = widgetSchema(
  {
    type: 'list-1', title: 'List', description: 'A numbered, bullet or checkbox list: steps, key points, or a self-check.', confidence: 'open',
    assumptions: ['All keys of list-1 are unknown [open]; "list_style" and "items" are assumptions.'],
  },
  {
    list_style: z.enum(LIST_STYLES).meta({ description: 'numbered, bullet or checkbox.', assumption: 'Key name "list_style" and its values are guesses.' }),
    items: z.array(listItemSchema).min(1).max(200).meta({ description: 'The items, in order.', assumption: 'Key name "items" is a guess.' }),
  },
);

/** A list-1 widget as the schema outputs it. */
export type List1Widget = z.output<typeof list1Schema>;
