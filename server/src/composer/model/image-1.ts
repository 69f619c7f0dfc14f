import type { z } from 'zod';
import { htmlField, httpUrlField, widgetSchema } from './common.ts';

/** `image-1`: one image with an optional caption. Keys [open]. */
export const image1Schema = widgetSchema(
  {
    type: 'image-1', title: 'Image', description: 'One image with an optional caption: a diagram, a photo, a map.', confidence: 'open',
    assumptions: ['All keys of image-1 are unknown [open]; "image" and "caption" are assumptions.'],
  },
  {
    image: httpUrlField('The image.').meta({ assumption: 'Key name "image" is a guess.' }),
    caption: htmlField('Caption under the image.').nullable().optional().meta({ assumption: 'Key name "caption" is a guess.' }),
  },
);

/** An image-1 widget as the schema outputs it. */
export type Image1Widget = z.output<typeof image1Schema>;
