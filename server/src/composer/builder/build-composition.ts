import { COMPOSITION_VERSION, INTERFACE_DEFAULTS } from '../model/document.ts';
import type { CompositionDocument } from '../model/document.ts';
import { subjectLabel } from '../guidance/subjects.ts';
import { outlineIds } from './ids.ts';
import type { IdGenerator } from './ids.ts';
import { lessonOutlineSchema } from './outline.ts';
import type { LessonOutline, LessonOutlineInput } from './outline.ts';
import { buildHeadWidget, buildSectionWidget } from './section-widgets.ts';
import { plainTextValue } from './escape.ts';

/** Options of the builder. */
export interface BuildOptions {
  /** Id source; by default ids derived from the outline ({@link outlineIds}), so the same outline builds the same document. */
  newId?: IdGenerator;
}

/** The category line of the header: the subject (localized when recognized) and the grade. */
export function categoryLine(outline: Pick<LessonOutline, 'subject' | 'grade' | 'language'>): string {
  return `${subjectLabel(outline.subject, outline.language)} · ${outline.grade.trim()}`;
}

/**
 * Turns a parsed lesson outline into a complete composition: a head-1 first, one widget per section, v1-layout ids
 * derived from the outline (the same outline builds the byte-identical document, so saving a rebuild is
 * idempotent), plain text escaped and wrapped in `<p>` (metadata text escaped only where it would read as markup),
 * the Composer's default colors, paddings, booleans and interface settings. Pure.
 */
export function buildComposition(outline: LessonOutline, options: BuildOptions = {}): CompositionDocument {
  const newId = options.newId ?? outlineIds(outline);
  const head = buildHeadWidget({ category: categoryLine(outline), authorName: outline.author.name, authorOffice: outline.author.office }, newId);
  return {
    version: COMPOSITION_VERSION,
    metadata: {
      title: plainTextValue(outline.title),
      description: plainTextValue(outline.description ?? ''),
      thumb: null,
      tags: (outline.tags ?? [subjectLabel(outline.subject, outline.language), outline.grade.trim()]).map(plainTextValue),
    },
    interface: { ...INTERFACE_DEFAULTS, content_language: outline.language },
    structure: [head, ...outline.sections.map((section, i) => buildSectionWidget(section, newId, `sections[${i}]`))],
    assets: [],
  };
}

/** Parses an outline as given (applying defaults; throws the zod error when invalid) and builds it. */
export function buildCompositionFromInput(input: LessonOutlineInput, options: BuildOptions = {}): CompositionDocument {
  return buildComposition(lessonOutlineSchema.parse(input), options);
}
