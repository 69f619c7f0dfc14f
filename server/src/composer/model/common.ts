import { z } from 'zod';
import { isAllowedUrl } from '../html/url-policy.ts';

/** Longest HTML or text value a single field may hold (characters). Bounds work on hostile input. */
export const MAX_HTML_LENGTH = 100_000;

/** A UUID in the version-1 layout, as the Composer gives every widget (the builder derives its ids from the outline: ADR 11). */
export const UUID_V1_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-1[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

/** A `#RRGGBB` (or `#RGB`) color, as the Composer stores colors. */
export const HEX_COLOR_PATTERN = /^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/;

/** An HTML fragment (the Composer stores text as HTML such as `<p>…</p>`). Safety is checked by the validator. */
export function htmlField(description: string): z.ZodString {
  return z.string().max(MAX_HTML_LENGTH).meta({ description: `${description} HTML fragment, e.g. "<p>…</p>".`, contentMediaType: 'text/html' });
}

/** Rule id and fix of a URL field that points at this machine or an internal network (as for URLs inside HTML). */
export const INTERNAL_URL_ISSUE = {
  rule: 'unsafe-url',
  fix: 'Use an absolute http(s) URL on a public host (not localhost, 127.0.0.1, 10.x, 172.16–31.x, 192.168.x, 169.254.x or another internal address).',
} as const;

/**
 * An absolute http(s) URL of a public host: other schemes (`javascript:`…) and hosts of this machine or an internal
 * network (however written: `http://2130706433/` is 127.0.0.1) are refused, by the same rule as URLs inside lesson
 * HTML (`html/url-policy.ts`): a page that loads it would otherwise make the browser request an internal address.
 */
export function publicHttpUrl(): z.ZodURL {
  return z
    .url({ protocol: /^https?$/, error: 'Expected an absolute http(s) URL' })
    .max(4096)
    .refine((value) => isAllowedUrl(value, ['http', 'https']), { error: 'Expected a URL of a public host, not this machine or an internal network', params: INTERNAL_URL_ISSUE });
}

/** An absolute http(s) URL of a public host (see {@link publicHttpUrl}), documented for the catalog. */
export function httpUrlField(description: string): z.ZodURL {
  return publicHttpUrl().meta({ description: `${description} Absolute http(s) URL of a public host.` });
}

/** A hex color with its Composer default. */
export function colorField(description: string, defaultColor: string): z.ZodDefault<z.ZodString> {
  return z.string().regex(HEX_COLOR_PATTERN, 'Expected a hex color like #AA2C23').meta({ description: `${description} Hex color.` }).default(defaultColor);
}

/** The id of a widget: a UUID (the Composer's are version-1 UUIDs; the builder derives v1-format ids from the outline). */
export const widgetIdSchema = z.uuid({ error: 'Expected a UUID (the Composer uses version-1 UUIDs)' }).meta({ description: 'Unique id of the widget: a UUID in the version-1 format (composer_build_composition derives it from the outline).' });

/** The id of an item inside a widget (a question, a choice, a card…). Unique within the whole document. */
export const itemIdSchema = z.string().min(1).max(64).meta({ description: 'Unique id of the item (composer_build_composition derives v1-format UUIDs from the outline).' });

/** Default values of the fields most widgets share, as composer.md records them. */
export const COMMON_DEFAULTS = Object.freeze({
  background_color: '#FFFFFF',
  padding_top: 0,
  padding_bottom: 0,
});

/**
 * Fields most widgets carry besides `id` and `type` ([known] in composer.md, "most have": so optional here).
 * Padding values are not recorded in composer.md: the default 0 is an assumption.
 */
export const commonWidgetFields = {
  content_title: z.string().max(MAX_HTML_LENGTH).nullable().optional().meta({ description: 'Title shown above the widget, or null for none.' }),
  background_color: z.string().regex(HEX_COLOR_PATTERN, 'Expected a hex color like #FFFFFF').optional().meta({ description: 'Background color of the widget. Hex color, default #FFFFFF.' }),
  padding_top: z.number().min(0).max(1000).optional().meta({ description: 'Space above the widget in pixels.', assumption: 'Unit (pixels) and default (0) are not recorded in composer.md.' }),
  padding_bottom: z.number().min(0).max(1000).optional().meta({ description: 'Space below the widget in pixels.', assumption: 'Unit (pixels) and default (0) are not recorded in composer.md.' }),
  dam_assets: z.array(z.unknown()).max(1000).optional().meta({ description: 'Digital asset references of the widget; [] when none.' }),
};

/** Which composer.md status a widget's shape has: observed, inferred, or unknown (guessed). */
export type Confidence = 'known' | 'likely' | 'open';

/** Catalog facts attached to each widget schema (read by the catalog, never duplicated there). */
export interface WidgetInfo {
  type: string;
  title: string;
  description: string;
  confidence: Confidence;
  /** Assumptions about the widget as a whole (field-level ones are on the fields' `assumption` meta). */
  assumptions: string[];
}

/** Builds a strict widget schema: `id`, `type` (a literal), the common fields and the widget's own fields. */
export function widgetSchema<T extends string, S extends z.ZodRawShape>(info: WidgetInfo & { type: T }, shape: S) {
  return z.strictObject({
    id: widgetIdSchema,
    type: z.literal(info.type).meta({ description: `Widget type, always "${info.type}".` }),
    ...commonWidgetFields,
    ...shape,
  }).meta({ title: info.title, description: info.description, confidence: info.confidence, ...(info.assumptions.length > 0 ? { assumption: info.assumptions.join(' ') } : {}) });
}
