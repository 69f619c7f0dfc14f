import { z } from 'zod';
import { htmlField, itemIdSchema, widgetSchema } from './common.ts';

/** One answer option of a quiz question ([known]: `id`, `correct`, `text`). */
export const quizChoiceSchema = z.strictObject({
  id: itemIdSchema,
  correct: z.boolean().meta({ description: 'Whether this choice is a right answer.' }),
  text: htmlField('The choice.').min(1),
});

/** One quiz question ([known]: `id`, `question`, `choices` — never `answers`). */
export const quizQuestionSchema = z.strictObject({
  id: itemIdSchema,
  question: htmlField('The question.').min(1),
  choices: z.array(quizChoiceSchema).min(2).max(10).meta({ description: 'The answer options (2–10); at least one has correct: true. The key is "choices", never "answers".' }),
});

/** `quiz-1`: multiple-choice questions. Question and choice keys [known]; feedback and attempts [open]. */
export const quiz1Schema = widgetSchema(
  {
    type: 'quiz-1', title: 'Multiple-choice quiz', description: 'Multiple-choice questions to check understanding; each question has choices, at least one of them correct.', confidence: 'known',
    assumptions: ['Feedback and attempt-limit fields exist in the Composer but their keys are unknown; they are not modelled, and any extra key is reported as a warning.'],
  },
  {
    questions: z.array(quizQuestionSchema).min(1).max(100).meta({ description: 'The questions, in order (the validator applies the configured count limits, 5–15 by default).' }),
  },
);

/** A quiz-1 widget as the schema outputs it. */
export type Quiz1Widget = z.output<typeof quiz1Schema>;
