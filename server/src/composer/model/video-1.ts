import type { z } from 'zod';
import { httpUrlField, widgetSchema } from './common.ts';

/** `video-1`: one video. Keys [open]; the title goes in the common `content_title`. */
export const video1Schema = widgetSchema(
  {
    type: 'video-1', title: 'Video', description: 'One video (by URL) with its title in content_title.', confidence: 'open',
    assumptions: ['All keys of video-1 are unknown [open]; "video" is an assumption and the title is put in content_title.'],
  },
  {
    video: httpUrlField('The video.').meta({ assumption: 'Key name "video" is a guess.' }),
  },
);

/** A video-1 widget as the schema outputs it. */
export type Video1Widget = z.output<typeof video1Schema>;
