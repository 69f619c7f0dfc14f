import { z } from 'zod';
import { htmlField, httpUrlField, itemIdSchema, widgetSchema } from './common.ts';

/** One picture of a gallery. Keys [open]. */
export const galleryImageSchema = z.strictObject({
  id: itemIdSchema,
  image: httpUrlField('The picture.').meta({ assumption: 'Key name "image" is a guess.' }),
  caption: htmlField('Caption of the picture.').nullable().optional().meta({ assumption: 'Key name "caption" is a guess.' }),
});

/** `gallery-1`: a set of pictures. Keys [open]. */
export const gallery1Schema = widgetSchema(
  {
    type: 'gallery-1', title: 'Gallery', description: 'A set of pictures with captions: sources, works of art, stages of a process.', confidence: 'open',
    assumptions: ['All keys of gallery-1 are unknown [open]; "images" and the picture keys are assumptions.'],
  },
  {
    images: z.array(galleryImageSchema).min(1).max(50).meta({ description: 'The pictures, in order.', assumption: 'Key name "images" is a guess.' }),
  },
);

/** A gallery-1 widget as the schema outputs it. */
export type Gallery1Widget = z.output<typeof gallery1Schema>;
