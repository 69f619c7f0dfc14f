import { z } from 'zod';
import type { GetPromptResult } from '@modelcontextprotocol/server';

/** Name of the "create a lesson" prompt. */
export const CREATE_LESSON_PROMPT = 'create_lesson';

/** Arguments of the prompt (prompt arguments are strings in MCP). */
export const createLessonArgs = {
  topic: z.string().min(1).describe('What the lesson teaches, e.g. "photosynthesis".'),
  subject: z.string().min(1).describe('School subject, e.g. "Biology" or "Ciências".'),
  grade: z.string().min(1).describe('Grade or level, e.g. "7º ano" or "high school".'),
  language: z.string().optional().describe('Language of the lesson: "pt_br" (default) or "en".'),
};

/** The prompt's values after validation. */
export interface CreateLessonInput {
  topic: string;
  subject: string;
  grade: string;
  language?: string | undefined;
}

/** The content language code the tools take (`pt_br` or `en`) for what a user typed ("en", "English", "pt", "pt-BR", …). */
export function contentLanguageOf(language: string | undefined): 'pt_br' | 'en' {
  return /^en/i.test(language?.trim() ?? '') ? 'en' : 'pt_br';
}

/** The workflow text the prompt hands the model: guidance → build → validate → save → open, with what each step needs. */
export function createLessonMessages(input: CreateLessonInput): GetPromptResult {
  const language = contentLanguageOf(input.language);
  const text = [
    `Create a Composer lesson about "${input.topic}" for ${input.subject}, grade ${input.grade}, written in ${language === 'en' ? 'English' : 'Portuguese (Brazil)'}.`,
    '',
    'Follow this workflow with the composer_* tools, one step at a time:',
    `1. Call composer_guidance with topic "${input.topic}", subject "${input.subject}", grade "${input.grade}" and language "${language}" to get a lesson structure and the widgets that fit.`,
    '   Use composer_list_widgets / composer_describe_widget if you need a widget\'s fields.',
    `2. Write the lesson outline (title, subject, grade, author, language "${language}", sections of plain text, questions, flashcards, lists, media) following that structure,`,
    '   and call composer_build_composition with it to get a complete Composer document.',
    '3. Call composer_validate_composition on the document. Fix every problem it reports (each names the JSON path, the rule and the fix),',
    '   rebuilding or editing as needed, until it reports the document valid.',
    '4. Call composer_save_composition with the valid document. It is idempotent: retrying a failed save never creates a second copy.',
    '   If it answers SAVE_OUTCOME_UNKNOWN, do not retry: tell the user what to look for in the Composer (the answer says it); only if it is not there, save again with retryUnknown=true.',
    '   Keep the uid and editor URL it returns.',
    '5. Call composer_open_composition with the uid to check that it renders in the Composer: report whether it was ready, the widgets seen and not seen, any console or network',
    '   errors, and show the screenshot. Use composer_preview_composition if the author wants the learner\'s view.',
    '',
    'If a tool answers NOT_CONFIGURED, tell the user which setting is missing; steps 1–3 work without Composer credentials.',
  ].join('\n');
  return {
    description: `Create a ${input.subject} lesson on ${input.topic} (${input.grade})`,
    messages: [{ role: 'user', content: { type: 'text', text } }],
  };
}
