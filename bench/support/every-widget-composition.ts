import { v1 as uuidv1 } from 'uuid';
import { exampleWidget } from '#server/composer/catalog.ts';
import { INTERFACE_DEFAULTS } from '#server/composer/model/document.ts';
import { WIDGET_TYPES } from '#server/composer/model/widgets.ts';

function freshIds(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(freshIds);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = k === 'id' && typeof v === 'string' ? uuidv1() : freshIds(v);
  return out;
}

/**
 * A valid composition with one widget of every known type (the catalog's examples, with fresh time-based ids), so
 * a benchmark opens a page that renders every widget renderer of the Composer (or its stand-in).
 */
export function everyWidgetComposition(title = 'Benchmark: every widget'): Record<string, unknown> {
  return {
    version: '1.1',
    metadata: { title, description: 'One widget of every type, for the open-composition benchmark', thumb: null, tags: [] },
    interface: { ...INTERFACE_DEFAULTS },
    structure: WIDGET_TYPES.map((type) => freshIds(exampleWidget(type))),
    assets: [],
  };
}

/** The number of widget types in `everyWidgetComposition()`. */
export const WIDGET_TYPE_COUNT = WIDGET_TYPES.length;
