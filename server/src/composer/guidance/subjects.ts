import type { ContentLanguage } from '../model/document.ts';

/** The subjects the guidance has specific plans for (the earlier project's list). */
export const SUBJECTS = ['science', 'math', 'history', 'geography', 'language', 'arts'] as const;

/** A subject with a specific plan. */
export type Subject = (typeof SUBJECTS)[number];

/** Display names of each subject per language. */
export const SUBJECT_LABELS: Record<Subject, Record<ContentLanguage, string>> = {
  science: { pt_br: 'Ciências', en: 'Science' },
  math: { pt_br: 'Matemática', en: 'Math' },
  history: { pt_br: 'História', en: 'History' },
  geography: { pt_br: 'Geografia', en: 'Geography' },
  language: { pt_br: 'Língua Portuguesa', en: 'Language' },
  arts: { pt_br: 'Artes', en: 'Arts' },
};

const ALIASES: Record<string, Subject> = {
  science: 'science', sciences: 'science', ciencia: 'science', ciencias: 'science', biology: 'science', biologia: 'science',
  physics: 'science', fisica: 'science', chemistry: 'science', quimica: 'science',
  math: 'math', maths: 'math', mathematics: 'math', matematica: 'math', algebra: 'math', geometry: 'math', geometria: 'math',
  history: 'history', historia: 'history',
  geography: 'geography', geografia: 'geography',
  language: 'language', languages: 'language', english: 'language', portuguese: 'language', portugues: 'language',
  'lingua portuguesa': 'language', linguagem: 'language', linguagens: 'language', literature: 'language', literatura: 'language',
  reading: 'language', writing: 'language', grammar: 'language', gramatica: 'language',
  arts: 'arts', art: 'arts', artes: 'arts', arte: 'arts', music: 'arts', musica: 'arts',
};

/** Lower-cases, strips accents and surrounding space, so "Ciências" and "ciencias" compare equal. */
export function foldText(text: string): string {
  return text.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/\s+/g, ' ').trim();
}

/** The subject a free-text name stands for (Portuguese or English, with or without accents), or undefined. */
export function recognizeSubject(text: string): Subject | undefined {
  return ALIASES[foldText(text)];
}

/** How a subject is shown: its localized label when recognized, else the caller's own text. */
export function subjectLabel(text: string, language: ContentLanguage): string {
  const subject = recognizeSubject(text);
  return subject ? SUBJECT_LABELS[subject][language] : text.trim();
}
