/** How bad a problem is: errors make a composition invalid, warnings do not. */
export type Severity = 'error' | 'warning';

/** One problem found in a composition: where (a JSONPath), which rule, what is wrong, and how to fix it. */
export interface ValidationProblem {
  /** JSONPath of the offending value, e.g. `$.structure[2].questions[0].choices`. */
  path: string;
  /** Stable rule id, e.g. `quiz-correct-choice`, `html-script`, `required-field`. */
  rule: string;
  message: string;
  fix: string;
  severity: Severity;
}

/** The outcome of validating a composition. `valid` is true when there is no error (warnings allowed). */
export interface ValidationReport {
  valid: boolean;
  errorCount: number;
  warningCount: number;
  problems: ValidationProblem[];
}

/** Builds a report from a list of problems (errors first, then warnings, each in document order). */
export function toReport(problems: ValidationProblem[]): ValidationReport {
  const errors = problems.filter((p) => p.severity === 'error');
  const warnings = problems.filter((p) => p.severity === 'warning');
  return { valid: errors.length === 0, errorCount: errors.length, warningCount: warnings.length, problems: [...errors, ...warnings] };
}
