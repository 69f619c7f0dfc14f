import { z } from 'zod';

/**
 * A composition uid as a tool argument. composer.md: "an opaque string (seen starting with `H4sI…`); never parse
 * it". It is never parsed here either: only what cannot be a uid is refused — characters outside the base64
 * alphabets (standard `+ / =` and URL-safe `- _`) and `.` `~`, so markup, quotes, spaces, control and format
 * characters never reach the app's route, a URL, a log line or a result. Wherever it enters a URL it is encoded
 * as a whole (`composer-urls.ts`).
 */

/** Longest uid accepted (a real one is a few hundred characters). */
export const MAX_UID_LENGTH = 4096;

/** Characters a uid may hold. */
const UID_CHARACTER = /[A-Za-z0-9+/=_.~-]/;

/** A character as an error names it: printable ones quoted, others by code point (never the raw character). */
function describeCharacter(character: string): string {
  const code = character.codePointAt(0) ?? 0;
  const hex = `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  if (/\s/u.test(character)) return `whitespace (${hex})`;
  if (/[\p{Cc}\p{Cf}]/u.test(character)) return `an invisible control or format character (${hex})`;
  return `${JSON.stringify(character)} (${hex})`;
}

/** Why `uid` cannot be a composition uid, or undefined when it may be one. Pure. */
export function uidProblem(uid: string): string | undefined {
  let position = 0;
  for (const character of uid) {
    position += 1;
    if (!UID_CHARACTER.test(character)) return `it contains ${describeCharacter(character)} at position ${position}`;
  }
  return undefined;
}

/** The fix every refused uid gets. */
export const UID_FIX = 'A composition uid is an opaque string of letters, digits and + / = - _ . ~ (it starts with H4sI…), exactly as composer_save_composition returned it: copy it unchanged.';

/** The `uid` argument of get, open and preview: trimmed, bounded, and refused with a clear message when it cannot be a uid. */
export function compositionUidSchema(): z.ZodType<string, string> {
  return z
    .string()
    .trim()
    .min(1)
    .max(MAX_UID_LENGTH)
    .superRefine((uid, context) => {
      const problem = uidProblem(uid);
      if (problem) context.addIssue({ code: 'custom', message: `This is not a composition uid: ${problem}. ${UID_FIX}` });
    })
    .describe('The composition uid composer_save_composition returned (opaque; pass it unchanged).');
}
