import type { ValidationLimits } from './limits.ts';
import { toJsonPath } from './json-path.ts';
import type { ValidationProblem } from './problem.ts';

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Quiz rules: the key is `choices` never `answers`; every question has at least one correct choice; the number of
 * questions is within the limits.
 */
export function checkQuiz(widget: Json, index: number, limits: ValidationLimits): ValidationProblem[] {
  const problems: ValidationProblem[] = [];
  const questions = widget['questions'];
  if (!Array.isArray(questions)) return problems;
  const base = ['structure', index, 'questions'] as const;
  if (questions.length < limits.quizMinQuestions || questions.length > limits.quizMaxQuestions) {
    problems.push({
      path: toJsonPath(base), rule: 'quiz-question-count', severity: 'error',
      message: `The quiz has ${questions.length} question${questions.length === 1 ? '' : 's'}; between ${limits.quizMinQuestions} and ${limits.quizMaxQuestions} are allowed.`,
      fix: questions.length < limits.quizMinQuestions ? `Add ${limits.quizMinQuestions - questions.length} more question(s).` : `Remove ${questions.length - limits.quizMaxQuestions} question(s) or split them into another quiz-1.`,
    });
  }
  questions.forEach((question, q) => {
    if (!isObject(question)) return;
    if ('answers' in question) {
      problems.push({
        path: toJsonPath([...base, q, 'answers']), rule: 'quiz-choices-key', severity: 'error',
        message: 'The question uses "answers"; the Composer reads the options from "choices".',
        fix: 'Rename "answers" to "choices" (each choice: { id, text, correct }).',
      });
    }
    const choices = question['choices'];
    if (Array.isArray(choices) && !choices.some((c) => isObject(c) && c['correct'] === true)) {
      problems.push({
        path: toJsonPath([...base, q, 'choices']), rule: 'quiz-correct-choice', severity: 'error',
        message: 'No choice of this question is marked correct.',
        fix: 'Set "correct": true on the right choice (at least one).',
      });
    }
  });
  return problems;
}

/** Flashcards rule: the number of cards is within the limits. */
export function checkFlashcards(widget: Json, index: number, limits: ValidationLimits): ValidationProblem[] {
  const cards = widget['cards'];
  if (!Array.isArray(cards)) return [];
  if (cards.length >= limits.flashcardsMinCards && cards.length <= limits.flashcardsMaxCards) return [];
  return [{
    path: toJsonPath(['structure', index, 'cards']), rule: 'flashcards-card-count', severity: 'error',
    message: `The flashcards widget has ${cards.length} card${cards.length === 1 ? '' : 's'}; between ${limits.flashcardsMinCards} and ${limits.flashcardsMaxCards} are allowed.`,
    fix: cards.length < limits.flashcardsMinCards ? `Add ${limits.flashcardsMinCards - cards.length} more card(s).` : `Remove ${cards.length - limits.flashcardsMaxCards} card(s) or split them into another flashcards-1.`,
  }];
}

/** Structure rules: a head-1 comes first, and only once. */
export function checkHeadFirst(structure: readonly unknown[]): ValidationProblem[] {
  if (structure.length === 0) {
    return [{ path: '$.structure', rule: 'head-first', severity: 'error', message: 'The composition has no widgets.', fix: 'Add a head-1 widget first, then the lesson content.' }];
  }
  const problems: ValidationProblem[] = [];
  const first = structure[0];
  if (!isObject(first) || first['type'] !== 'head-1') {
    problems.push({ path: '$.structure[0]', rule: 'head-first', severity: 'error', message: `The first widget is ${isObject(first) ? `"${String(first['type'])}"` : 'not a widget'}; a composition starts with its head-1 header.`, fix: 'Move (or add) a head-1 widget to the start of "structure".' });
  }
  structure.forEach((widget, i) => {
    if (i > 0 && isObject(widget) && widget['type'] === 'head-1') {
      problems.push({ path: toJsonPath(['structure', i]), rule: 'single-head', severity: 'warning', message: 'A head-1 widget appears after the start; only the first widget should be the header.', fix: 'Keep one head-1, at the start.' });
    }
  });
  return problems;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i += 1) {
    let previous = row[0] ?? 0;
    row[0] = i;
    for (let j = 1; j <= b.length; j += 1) {
      const current = row[j] ?? 0;
      row[j] = Math.min(current + 1, (row[j - 1] ?? 0) + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length] ?? 0;
}

/** The warning for a widget type the server does not model, suggesting the closest known type. */
export function unknownWidgetWarning(type: string, index: number, knownTypes: readonly string[]): ValidationProblem {
  const shortType = type.slice(0, 100);
  const best = knownTypes.map((t) => ({ t, d: editDistance(shortType.toLowerCase(), t) })).toSorted((x, y) => x.d - y.d)[0];
  const suggestion = best && best.d <= 3 ? `If you meant "${best.t}", use that. ` : '';
  return {
    path: toJsonPath(['structure', index, 'type']), rule: 'unknown-widget', severity: 'warning',
    message: `Widget type "${shortType}" is not modelled by this server; it is passed through unchecked.`,
    fix: `${suggestion}Known types: ${knownTypes.join(', ')}. Keep it only if the Composer knows this type.`,
  };
}
