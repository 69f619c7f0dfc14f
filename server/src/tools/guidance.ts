import { z } from 'zod';
import { CONTENT_LANGUAGES } from '#server/composer/model/document.ts';
import { WIDGET_TYPES } from '#server/composer/model/widgets.ts';
import { GRADE_EXAMPLES, parseGrade } from '#server/composer/guidance/grades.ts';
import { planLesson } from '#server/composer/guidance/plan-lesson.ts';
import { SUBJECTS } from '#server/composer/guidance/subjects.ts';
import type { ComposerServices } from './services.ts';
import { ToolError } from './tool-definition.ts';
import type { ToolDefinition } from './tool-definition.ts';
import { parseToolInput, structuredResult } from './parse-input.ts';

const inputSchema = z.object({
  topic: z.string().trim().min(1).max(300).describe('What the lesson is about, e.g. "Fotossíntese" or "Fractions".'),
  subject: z.string().trim().min(1).max(100).describe(`Subject: ${SUBJECTS.join(', ')} (Portuguese names such as "Ciências" work too); any other subject gets a generic plan.`),
  grade: z.string().trim().min(1).max(100).describe(`Grade, e.g. ${GRADE_EXAMPLES.map((g) => `"${g}"`).join(', ')}.`),
  language: z.enum(CONTENT_LANGUAGES).default('pt_br').describe('Language of the plan and of the lesson: pt_br (default) or en.'),
}).strict();

const widgetType = z.enum(WIDGET_TYPES);

const outputSchema = z.object({
  topic: z.string(),
  language: z.enum(CONTENT_LANGUAGES),
  subject: z.object({ input: z.string(), key: z.string().nullable(), label: z.string(), recognized: z.boolean() }),
  grade: z.object({ input: z.string(), band: z.enum(['early', 'middle', 'high']), year: z.number().int().nullable(), label: z.string() }),
  suggestedTitle: z.string(),
  sections: z.array(z.object({
    order: z.number().int(),
    widget: widgetType,
    outlineSection: z.string().describe('The section "type" to use in composer_build_composition.'),
    listStyle: z.enum(['numbered', 'bullet', 'checkbox']).optional(),
    suggestedCount: z.number().int().optional(),
    suggestedChoices: z.number().int().optional(),
    purpose: z.string(),
    why: z.string(),
    suggestedTitle: z.string(),
  })),
  widgets: z.array(z.object({ type: widgetType, why: z.string() })),
  notes: z.array(z.string()),
  nextSteps: z.array(z.string()),
});

/** composer_guidance: a lesson structure and the widgets that fit, for a topic, subject and grade. */
export const guidanceTool: ToolDefinition<ComposerServices, typeof inputSchema, typeof outputSchema> = {
  name: 'composer_guidance',
  title: 'Plan a Composer lesson',
  description: 'For a topic, subject and grade (English or Portuguese, e.g. "7th grade", "7º ano", "ensino médio"), returns a lesson structure: sections in order, each with its purpose, the widget to use and why, suggested titles and counts (quiz questions, flashcards) within the validation limits, plus the widgets that fit the grade band. Step one of guidance → build → validate → save.',
  inputSchema,
  outputSchema,
  annotations: { title: 'Lesson guidance', readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  handler: async (input, context) => {
    const request = parseToolInput(inputSchema, input);
    const grade = parseGrade(request.grade, request.language);
    if (!grade) {
      throw new ToolError('INVALID_INPUT', `Grade "${request.grade}" was not understood.`, `Write the grade like ${GRADE_EXAMPLES.map((g) => `"${g}"`).join(', ')}.`, { details: { field: 'grade' } });
    }
    const plan = planLesson({ topic: request.topic, subject: request.subject, grade, language: request.language }, context.services.limits);
    const summary = [
      `${plan.suggestedTitle} — ${plan.subject.label}, ${plan.grade.label} (${plan.language}).`,
      ...plan.sections.map((s) => `${s.order}. ${s.widget}${s.suggestedCount ? ` ×${s.suggestedCount}` : ''}: ${s.purpose}`),
      ...plan.notes,
    ].join('\n');
    return structuredResult(summary, { ...plan });
  },
};
