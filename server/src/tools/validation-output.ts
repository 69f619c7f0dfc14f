import { z } from 'zod';
import type { ValidationReport } from '#server/composer/validator/problem.ts';

/** Output schema of a validation report (shared by the build and validate tools). */
export const validationReportSchema = z.object({
  valid: z.boolean().describe('True when there is no error (warnings allowed).'),
  errorCount: z.number().int(),
  warningCount: z.number().int(),
  problems: z.array(z.object({
    path: z.string().describe('JSONPath of the offending value, e.g. $.structure[2].questions[0].choices.'),
    rule: z.string().describe('Rule id, e.g. quiz-correct-choice.'),
    message: z.string(),
    fix: z.string(),
    severity: z.enum(['error', 'warning']),
  })),
});

/** A few lines a model can act on: the verdict, then the first problems with their fixes. */
export function reportSummary(report: ValidationReport, maxLines = 15): string {
  const verdict = report.valid
    ? `Valid${report.warningCount > 0 ? ` with ${report.warningCount} warning(s)` : ''}.`
    : `Invalid: ${report.errorCount} error(s), ${report.warningCount} warning(s).`;
  const lines = report.problems.slice(0, maxLines).map((p) => `- ${p.severity} ${p.rule} at ${p.path}: ${p.message} Fix: ${p.fix}`);
  if (report.problems.length > maxLines) lines.push(`… ${report.problems.length - maxLines} more in the structured result.`);
  return [verdict, ...lines].join('\n');
}
