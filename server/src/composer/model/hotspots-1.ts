import { z } from 'zod';
import { htmlField, httpUrlField, itemIdSchema, widgetSchema } from './common.ts';

/** One hotspot on the image: a position in percent and what opens there. Keys [open]. */
export const hotspotSchema = z.strictObject({
  id: itemIdSchema,
  x: z.number().min(0).max(100).meta({ description: 'Horizontal position, percent of the image width from the left.', assumption: 'Position as percentages "x"/"y" is a guess.' }),
  y: z.number().min(0).max(100).meta({ description: 'Vertical position, percent of the image height from the top.', assumption: 'Position as percentages "x"/"y" is a guess.' }),
  title: htmlField('Label of the hotspot.').min(1).meta({ assumption: 'Key name "title" is a guess.' }),
  content: htmlField('What the learner reads when opening the hotspot.').min(1).meta({ assumption: 'Key name "content" is a guess.' }),
});

/** `hotspots-1`: an interactive image with points to open. Keys [open]. */
export const hotspots1Schema = widgetSchema(
  {
    type: 'hotspots-1', title: 'Interactive image (hotspots)', description: 'An image with clickable points that reveal explanations: parts of a diagram, places on a map, details of a work.', confidence: 'open',
    assumptions: ['All keys of hotspots-1 are unknown [open]; "image", "hotspots" and the hotspot keys are assumptions.'],
  },
  {
    image: httpUrlField('The background image.').meta({ assumption: 'Key name "image" is a guess.' }),
    hotspots: z.array(hotspotSchema).min(1).max(50).meta({ description: 'The points, in reading order.', assumption: 'Key name "hotspots" is a guess.' }),
  },
);

/** A hotspots-1 widget as the schema outputs it. */
export type Hotspots1Widget = z.output<typeof hotspots1Schema>;
