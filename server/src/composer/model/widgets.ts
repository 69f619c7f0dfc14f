import type { z } from 'zod';
import { head1Schema } from './head-1.ts';
import { text1Schema } from './text-1.ts';
import { quiz1Schema } from './quiz-1.ts';
import { flashcards1Schema } from './flashcards-1.ts';
import { list1Schema } from './list-1.ts';
import { image1Schema } from './image-1.ts';
import { video1Schema } from './video-1.ts';
import { gallery1Schema } from './gallery-1.ts';
import { hotspots1Schema } from './hotspots-1.ts';

/** Every widget type this server models, in catalog order. */
export const WIDGET_TYPES = ['head-1', 'text-1', 'quiz-1', 'flashcards-1', 'list-1', 'image-1', 'video-1', 'gallery-1', 'hotspots-1'] as const;

/** A modelled widget type. */
export type WidgetType = (typeof WIDGET_TYPES)[number];

/** The zod schema of each modelled widget type: the single source of truth the validator and the catalog read. */
export const WIDGET_SCHEMAS = {
  'head-1': head1Schema,
  'text-1': text1Schema,
  'quiz-1': quiz1Schema,
  'flashcards-1': flashcards1Schema,
  'list-1': list1Schema,
  'image-1': image1Schema,
  'video-1': video1Schema,
  'gallery-1': gallery1Schema,
  'hotspots-1': hotspots1Schema,
} as const satisfies Record<WidgetType, z.ZodObject>;

/** True when `type` is a modelled widget type. */
export function isWidgetType(type: unknown): type is WidgetType {
  return typeof type === 'string' && (WIDGET_TYPES as readonly string[]).includes(type);
}

/** A modelled widget as its schema outputs it. */
export type KnownWidget = { [K in WidgetType]: z.output<(typeof WIDGET_SCHEMAS)[K]> }[WidgetType];
