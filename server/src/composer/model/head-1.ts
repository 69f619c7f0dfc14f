import { z } from 'zod';
import { colorField, htmlField, httpUrlField, widgetSchema } from './common.ts';

/** Default colors of a head-1 widget (composer.md). */
export const HEAD_DEFAULTS = Object.freeze({
  primary_color: '#FFFFFF',
  secondary_color: '#aa2c23',
  avatar_border_color: '#00643e',
  show_category: true,
  show_author_name: true,
  show_divider: true,
});

/** `head-1`: the lesson header (category, author), first widget of every composition. All fields [known]. */
export const head1Schema = widgetSchema(
  { type: 'head-1', title: 'Lesson header', description: 'The lesson header: category (subject, grade), author name and office. Must be the first widget.', confidence: 'known', assumptions: [] },
  {
    category: htmlField('Category line, e.g. subject and grade.').min(1),
    author_name: htmlField('Author name.').min(1),
    author_office: htmlField('Author office or role.').optional(),
    primary_color: colorField('Primary (text) color of the header.', HEAD_DEFAULTS.primary_color),
    secondary_color: colorField('Secondary (background) color of the header.', HEAD_DEFAULTS.secondary_color),
    background_image: httpUrlField('Background image of the header.').nullable().optional(),
    avatar: httpUrlField('Author avatar image.').nullable().optional(),
    avatar_border_color: colorField('Border color of the avatar.', HEAD_DEFAULTS.avatar_border_color),
    show_category: z.boolean().default(true).meta({ description: 'Whether the category is shown.' }),
    show_author_name: z.boolean().default(true).meta({ description: 'Whether the author name is shown.' }),
    show_divider: z.boolean().default(true).meta({ description: 'Whether a divider is drawn under the header.' }),
  },
);

/** A head-1 widget as the schema outputs it. */
export type Head1Widget = z.output<typeof head1Schema>;
