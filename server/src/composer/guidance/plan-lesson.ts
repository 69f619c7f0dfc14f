import type { ContentLanguage } from '../model/document.ts';
import type { WidgetType } from '../model/widgets.ts';
import type { ValidationLimits } from '../validator/limits.ts';
import type { ParsedGrade } from './grades.ts';
import { BAND_COUNTS, BAND_SLOTS, OUTLINE_SECTION_OF, SLOT_LIST_STYLE, SLOT_TEXTS, SLOT_WIDGETS, SUBJECT_MEDIA } from './plan-tables.ts';
import type { Slot } from './plan-tables.ts';
import { recognizeSubject, SUBJECT_LABELS } from './subjects.ts';
import type { Subject } from './subjects.ts';

/** One section of a planned lesson: the widget to use, what it is for, and why that widget. */
export interface PlannedSection {
  order: number;
  widget: WidgetType;
  /** The `type` to use for this section in a composer_build_composition outline. */
  outlineSection: string;
  listStyle?: 'numbered' | 'bullet' | 'checkbox';
  /** Suggested number of items (questions, cards) when the widget holds a list of them. */
  suggestedCount?: number;
  /** Suggested number of choices per question (quiz only). */
  suggestedChoices?: number;
  purpose: string;
  why: string;
  suggestedTitle: string;
}

/** A lesson plan: the structure of the lesson and the widgets that fit it. */
export interface LessonPlan {
  topic: string;
  language: ContentLanguage;
  subject: { input: string; key: Subject | null; label: string; recognized: boolean };
  grade: ParsedGrade;
  suggestedTitle: string;
  sections: PlannedSection[];
  widgets: { type: WidgetType; why: string }[];
  notes: string[];
  nextSteps: string[];
}

/** What to plan: a topic, a subject (any text), a parsed grade and the content language. */
export interface PlanRequest {
  topic: string;
  subject: string;
  grade: ParsedGrade;
  language: ContentLanguage;
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(Math.max(value, min), max);
}

function planSection(slot: Slot, order: number, subject: Subject | null, request: PlanRequest, limits: ValidationLimits): PlannedSection {
  const lang = request.language;
  const counts = BAND_COUNTS[request.grade.band];
  if (slot === 'subject-media') {
    const media = SUBJECT_MEDIA[subject ?? 'generic'];
    return {
      order, widget: media.widget, outlineSection: OUTLINE_SECTION_OF[media.widget],
      ...(media.widget === 'list-1' ? { listStyle: 'numbered' as const } : {}),
      purpose: media.purpose[lang], why: media.why[lang], suggestedTitle: request.topic,
    };
  }
  const widget = SLOT_WIDGETS[slot];
  const texts = SLOT_TEXTS[slot];
  const listStyle = SLOT_LIST_STYLE[slot];
  return {
    order, widget, outlineSection: OUTLINE_SECTION_OF[widget],
    ...(listStyle ? { listStyle } : {}),
    ...(widget === 'quiz-1' ? { suggestedCount: clamp(counts.questions, limits.quizMinQuestions, limits.quizMaxQuestions), suggestedChoices: counts.choices } : {}),
    ...(widget === 'flashcards-1' ? { suggestedCount: clamp(counts.cards, limits.flashcardsMinCards, limits.flashcardsMaxCards) } : {}),
    purpose: texts.purpose[lang], why: texts.why[lang], suggestedTitle: texts.title[lang],
  };
}

const NOTES = {
  unrecognized: { pt_br: 'Disciplina não reconhecida: usei um plano genérico. Disciplinas com planos próprios: ciências, matemática, história, geografia, língua, artes.', en: 'Subject not recognized: this is a generic plan. Subjects with their own plans: science, math, history, geography, language, arts.' },
  early: { pt_br: 'Anos iniciais: frases curtas, vocabulário simples, 2–3 alternativas por questão.', en: 'Early years: short sentences, simple vocabulary, 2–3 choices per question.' },
  middle: { pt_br: 'Anos finais: conecte o tema ao cotidiano e peça justificativas.', en: 'Middle years: connect the topic to everyday life and ask for reasons.' },
  high: { pt_br: 'Ensino Médio: aprofunde conceitos e relacione com outras áreas e com o ENEM.', en: 'High school: go deeper and connect the topic to other subjects and to exams.' },
  media: { pt_br: 'Imagens e vídeos precisam de URLs http(s) acessíveis.', en: 'Images and videos need reachable http(s) URLs.' },
};

const NEXT_STEPS = {
  pt_br: [
    'Escreva um esboço (title, subject, grade, author, language, sections) com uma seção por item do plano, no tipo indicado em outlineSection.',
    'Chame composer_build_composition com o esboço; corrija os problemas que o relatório de validação apontar.',
    'Use composer_validate_composition após editar o documento à mão; depois composer_save_composition.',
  ],
  en: [
    'Write an outline (title, subject, grade, author, language, sections) with one section per plan item, of the type given in outlineSection.',
    'Call composer_build_composition with the outline; fix whatever the validation report lists.',
    'Use composer_validate_composition after editing the document by hand; then composer_save_composition.',
  ],
};

/**
 * Plans a lesson for a topic, subject and grade: the sections in order (widget, purpose, why, suggested title and
 * counts within the validation limits) and the widgets that fit. Deterministic: same request, same plan.
 */
export function planLesson(request: PlanRequest, limits: ValidationLimits): LessonPlan {
  const subject = recognizeSubject(request.subject) ?? null;
  const lang = request.language;
  const sections = BAND_SLOTS[request.grade.band].map((slot, i) => planSection(slot, i + 1, subject, request, limits));
  const widgets: { type: WidgetType; why: string }[] = [];
  for (const section of sections) {
    if (!widgets.some((w) => w.type === section.widget)) widgets.push({ type: section.widget, why: section.why });
  }
  const notes = [NOTES[request.grade.band][lang]];
  if (subject === null) notes.unshift(NOTES.unrecognized[lang]);
  if (sections.some((s) => ['image-1', 'video-1', 'gallery-1', 'hotspots-1'].includes(s.widget))) notes.push(NOTES.media[lang]);
  return {
    topic: request.topic,
    language: lang,
    subject: { input: request.subject, key: subject, label: subject ? SUBJECT_LABELS[subject][lang] : request.subject.trim(), recognized: subject !== null },
    grade: request.grade,
    suggestedTitle: request.topic.trim(),
    sections,
    widgets,
    notes,
    nextSteps: NEXT_STEPS[lang],
  };
}
