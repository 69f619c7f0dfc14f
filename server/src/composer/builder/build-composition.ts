import { COMPOSITION_VERSION, INTERFACE_DEFAULTS } from '../model/document.ts';
import type { CompositionDocument } from '../model/document.ts';
import { subjectLabel } from '../guidance/subjects.ts';
import { timeBasedIds } from './ids.ts';
import type { IdGenerator } from './ids.ts';
import { lessonOutlineSchema } from './outline.ts';
import type { LessonOutline, LessonOutlineInput } from './outline.ts';
import { buildHeadWidget, buildSectionWidget } from './section-widgets.ts';
import { plainTextValue } from './escape.ts';

/** Options of the builder. */
export interface BuildOptions {
  /** Id source; time-based UUID v1 by default. */
  newId?: IdGenerator;
}

/** The category line of the header: the subject (localized when recognized) and the grade. */
export function categoryLine(outline: Pick<LessonOutline, 'subject' | 'grade' | 'language'>): string {
  return `${subjectLabel(outline.subject, outline.language)} · ${outline.grade.trim()}`;
}

/**
 * Turns a parsed lesson outline into a complete composition: a head-1 first, one widget per section, fresh ids,
 * plain text escaped and wrapped in `<p>` (metadata text escaped only where it would read as markup), the Composer's default colors, paddings, booleans and interface settings.
 * Pure apart from the id source.
 */
export function buildComposition(outline: LessonOutline, options: BuildOptions = {}): CompositionDocument {
  const newId = options.newId ?? timeBasedIds;
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
    structure: [head, ...outline.sections.map((section) => buildSectionWidget(section, newId))],
    assets: [],
  };
}

/** Parses an outline as given (applying defaults; throws the zod error when invalid) and builds it. */
export function buildCompositionFromInput(input: LessonOutlineInput, options: BuildOptions = {}): CompositionDocument {
  return buildComposition(lessonOutlineSchema.parse(input), options);
}
