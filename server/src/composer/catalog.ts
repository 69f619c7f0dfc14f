import { z } from 'zod';
import { buildHeadWidget, buildSectionWidget } from './builder/section-widgets.ts';
import { deterministicIds } from './builder/ids.ts';
import type { OutlineSection } from './builder/outline.ts';
import type { Confidence } from './model/common.ts';
import { compositionSchema } from './model/document.ts';
import { WIDGET_SCHEMAS, WIDGET_TYPES } from './model/widgets.ts';
import type { KnownWidget, WidgetType } from './model/widgets.ts';
import { allowedHtmlSummary } from './html/html-policy.ts';
import { DEFAULT_VALIDATION_LIMITS } from './validator/limits.ts';
import type { ValidationLimits } from './validator/limits.ts';

/** A JSON Schema document (draft 2020-12) as produced by `z.toJSONSchema`. */
export type JsonSchema = Record<string, unknown>;

/** An assumption the model makes where composer.md marks a key [likely] or [open]: where, and what is assumed. */
export interface CatalogAssumption {
  /** JSONPath-like location inside the widget, `$` for the widget as a whole. */
  path: string;
  assumption: string;
}

/** Everything a client needs to write one widget type: generated from its zod schema, never written by hand. */
export interface WidgetCatalogEntry {
  type: WidgetType;
  title: string;
  description: string;
  /** How sure the shape is: known (observed), likely (inferred) or open (guessed). */
  confidence: Confidence;
  /** JSON Schema of the widget's fields (input form: defaulted fields are optional). */
  jsonSchema: JsonSchema;
  /** Rules beyond the schema that the validator enforces on this widget. */
  constraints: string[];
  /** A complete example widget, built by the builder and valid against the schema. */
  example: KnownWidget;
  /** The outline section that builds this widget with composer_build_composition (none for head-1). */
  outlineSection: string | null;
  assumptions: CatalogAssumption[];
}

const EXAMPLE_IMAGE = 'https://example.org/images/plant-cell.png';

/** The outline section used to build each widget's example (head-1 is built from the outline header). */
const EXAMPLE_SECTIONS: Record<Exclude<WidgetType, 'head-1'>, OutlineSection> = {
  'text-1': { type: 'text', title: 'Para começar', body: 'As plantas produzem o próprio alimento.\n\nEsse processo se chama fotossíntese.' },
  'quiz-1': {
    type: 'quiz', title: 'Teste seus conhecimentos',
    questions: [
      ['Onde ocorre a fotossíntese?', 'Nos cloroplastos', 'Nas raízes'],
      ['Qual gás a planta absorve?', 'Gás carbônico', 'Hélio'],
      ['Qual gás a planta libera?', 'Oxigênio', 'Metano'],
      ['Qual é a fonte de energia?', 'A luz', 'O som'],
      ['Qual pigmento capta a luz?', 'A clorofila', 'A melanina'],
    ].map(([question, right, wrong]) => ({ question: question ?? '', choices: [{ text: right ?? '', correct: true }, { text: wrong ?? '', correct: false }] })),
  },
  'flashcards-1': {
    type: 'flashcards', title: 'Palavras importantes',
    cards: [['Fotossíntese', 'Produção de alimento a partir da luz'], ['Clorofila', 'Pigmento verde que capta a luz'], ['Cloroplasto', 'Organela onde ocorre a fotossíntese'],
      ['Glicose', 'Açúcar produzido pela planta'], ['Estômato', 'Poro por onde entram e saem gases'], ['Seiva bruta', 'Água e sais minerais vindos da raiz'],
      ['Seiva elaborada', 'Água com açúcares produzidos na folha'], ['Respiração', 'Uso da glicose para obter energia']].map(([front, back]) => ({ front: front ?? '', back: back ?? '' })),
  },
  'list-1': { type: 'list', title: 'Pontos-chave', style: 'numbered', items: ['A planta absorve água e gás carbônico.', 'A clorofila capta a luz.', 'A planta produz glicose e libera oxigênio.'] },
  'image-1': { type: 'image', title: 'Observe', url: EXAMPLE_IMAGE, caption: 'Célula vegetal com cloroplastos.' },
  'video-1': { type: 'video', title: 'Assista', url: 'https://example.org/videos/photosynthesis.mp4' },
  'gallery-1': { type: 'gallery', title: 'Folhas', images: [{ url: 'https://example.org/images/leaf-1.png', caption: 'Folha de samambaia.' }, { url: 'https://example.org/images/leaf-2.png', caption: 'Folha de bananeira.' }] },
  'hotspots-1': {
    type: 'hotspots', title: 'Partes da célula', image: EXAMPLE_IMAGE,
    spots: [{ x: 30, y: 40, title: 'Cloroplasto', body: 'Onde a luz vira alimento.' }, { x: 60, y: 55, title: 'Vacúolo', body: 'Guarda água e sais.' }],
  },
};

/** The example widget of a type, built by the builder with deterministic ids (stable across calls, distinct across types). */
export function exampleWidget(type: WidgetType): KnownWidget {
  const newId = deterministicIds(Date.UTC(2025, 0, 1) + WIDGET_TYPES.indexOf(type) * 60_000);
  if (type === 'head-1') return buildHeadWidget({ category: 'Ciências · 7º ano', authorName: 'Ana Souza', authorOffice: 'Professora de Ciências' }, newId);
  return buildSectionWidget(EXAMPLE_SECTIONS[type], newId, 'sections[0]');
}

/** Collects every `assumption` annotation of a JSON Schema with the location of the field that carries it. */
export function collectAssumptions(schema: unknown, path = '$'): CatalogAssumption[] {
  if (typeof schema !== 'object' || schema === null) return [];
  const node = schema as Record<string, unknown>;
  const found: CatalogAssumption[] = typeof node['assumption'] === 'string' ? [{ path, assumption: node['assumption'] }] : [];
  const properties = node['properties'];
  if (typeof properties === 'object' && properties !== null) {
    for (const [key, child] of Object.entries(properties)) found.push(...collectAssumptions(child, `${path}.${key}`));
  }
  if (node['items'] !== undefined) found.push(...collectAssumptions(node['items'], `${path}[*]`));
  for (const key of ['anyOf', 'oneOf', 'allOf'] as const) {
    const options = node[key];
    if (Array.isArray(options)) for (const option of options) found.push(...collectAssumptions(option, path));
  }
  return found;
}

/** Rules the validator applies to a widget type beyond its JSON Schema. */
export function widgetConstraints(type: WidgetType, limits: ValidationLimits): string[] {
  const common = [
    'Every id is unique in the whole composition (the builder derives version-1-layout UUIDs from the outline, so rebuilding an outline gives the same ids).',
    'HTML values are parsed as a browser parses them and must be well-formed and clean: a value the sanitiser would change is refused (and shown sanitised if saved elsewhere).',
    allowedHtmlSummary(),
  ];
  const specific: Record<WidgetType, string[]> = {
    'head-1': ['Must be the first widget of "structure", and the only head-1.'],
    'text-1': [],
    'quiz-1': [`${limits.quizMinQuestions}–${limits.quizMaxQuestions} questions.`, 'The options key is "choices", never "answers".', 'Every question has at least one choice with "correct": true.'],
    'flashcards-1': [`${limits.flashcardsMinCards}–${limits.flashcardsMaxCards} cards.`],
    'list-1': [],
    'image-1': ['The image URL is absolute http(s).'],
    'video-1': ['The video URL is absolute http(s).'],
    'gallery-1': ['Every picture URL is absolute http(s).'],
    'hotspots-1': ['The image URL is absolute http(s); hotspot positions are percentages 0–100.'],
  };
  return [...specific[type], ...common];
}

let schemaCache: Map<WidgetType, JsonSchema> | undefined;

/** The JSON Schema (input form) of one widget type, generated once from its zod schema. */
export function widgetJsonSchema(type: WidgetType): JsonSchema {
  schemaCache ??= new Map(WIDGET_TYPES.map((t) => [t, z.toJSONSchema(WIDGET_SCHEMAS[t], { io: 'input' }) as JsonSchema]));
  return schemaCache.get(type) as JsonSchema;
}

let compositionCache: JsonSchema | undefined;

/** The JSON Schema of a whole composition (every widget type plus unknown widgets), generated from the zod model. */
export function compositionJsonSchema(): JsonSchema {
  compositionCache ??= z.toJSONSchema(compositionSchema, { io: 'input' }) as JsonSchema;
  return compositionCache;
}

/** The catalog entry of one widget type. */
export function describeWidget(type: WidgetType, limits: ValidationLimits = DEFAULT_VALIDATION_LIMITS): WidgetCatalogEntry {
  const schema = WIDGET_SCHEMAS[type];
  const meta = (schema.meta() ?? {}) as { title?: string; description?: string; confidence?: Confidence };
  const jsonSchema = widgetJsonSchema(type);
  return {
    type,
    title: meta.title ?? type,
    description: meta.description ?? '',
    confidence: meta.confidence ?? 'open',
    jsonSchema,
    constraints: widgetConstraints(type, limits),
    example: exampleWidget(type),
    outlineSection: type === 'head-1' ? null : EXAMPLE_SECTIONS[type].type,
    assumptions: collectAssumptions(jsonSchema),
  };
}

/** The whole widget catalog, in catalog order. */
export function widgetCatalog(limits: ValidationLimits = DEFAULT_VALIDATION_LIMITS): WidgetCatalogEntry[] {
  return WIDGET_TYPES.map((type) => describeWidget(type, limits));
}
