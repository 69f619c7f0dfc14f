import { parseGrade } from './grades.ts';
import { foldText, SUBJECT_LABELS, SUBJECTS } from './subjects.ts';

const MAX_SUGGESTIONS = 20;

/**
 * Subjects to offer for what a user has typed so far ("Ci" → "Ciências", "Sci" → "Science"; accents and case do
 * not matter): the subjects' Portuguese and English names that start with it (all of them for nothing typed).
 * Pure.
 */
export function completeSubject(typed: string | undefined): string[] {
  const prefix = foldText(typed ?? '');
  const labels = SUBJECTS.flatMap((s) => [SUBJECT_LABELS[s].pt_br, SUBJECT_LABELS[s].en]);
  return [...new Set(labels.filter((label) => foldText(label).startsWith(prefix)))].slice(0, MAX_SUGGESTIONS);
}

const ORDINAL = (n: number) => (n % 10 === 1 && n !== 11 ? 'st' : n % 10 === 2 && n !== 12 ? 'nd' : n % 10 === 3 && n !== 13 ? 'rd' : 'th');

/** Every grade phrasing offered, in Portuguese and English, each understood by parseGrade. */
function gradePhrases(): string[] {
  const years = Array.from({ length: 9 }, (_, i) => i + 1);
  return [
    ...years.map((n) => `${n}º ano`),
    ...[1, 2, 3].map((n) => `${n}ª série do ensino médio`),
    ...Array.from({ length: 12 }, (_, i) => `${i + 1}${ORDINAL(i + 1)} grade`),
    'ensino médio', 'anos iniciais', 'anos finais', 'ensino fundamental – anos iniciais', 'ensino fundamental – anos finais',
    'elementary school', 'middle school', 'high school', 'kindergarten',
  ];
}

/**
 * Grades to offer for what a user has typed so far ("7" → "7º ano", "7th grade"; "ens" → "ensino médio", …):
 * phrasings the guidance understands whose folded form starts with it, or that name the school year typed. Pure.
 */
export function completeGrade(typed: string | undefined): string[] {
  const prefix = foldText(typed ?? '');
  const digits = /^(\d{1,2})/.exec(prefix)?.[1];
  const matches = gradePhrases().filter((phrase) => {
    const folded = foldText(phrase);
    if (folded.startsWith(prefix)) return true;
    // "7" also offers "7º ano" whose folded form is "7o ano": compare the year typed with the phrase's year.
    return digits !== undefined && prefix === digits && new RegExp(`^${digits}\\D`).test(folded);
  });
  return matches.filter((phrase) => parseGrade(phrase, 'pt_br') !== undefined).slice(0, MAX_SUGGESTIONS);
}
