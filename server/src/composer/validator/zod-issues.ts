import type { z } from 'zod';
import type { PathSegment } from './json-path.ts';
import { toJsonPath } from './json-path.ts';
import type { ValidationProblem } from './problem.ts';

type Issue = z.core.$ZodIssue;

function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return value.length > 40 ? `a string ("${value.slice(0, 37)}…")` : `"${value}"`;
  return typeof value === 'object' ? 'an object' : `${typeof value} ${String(value)}`;
}

function fieldName(path: readonly PathSegment[]): string {
  const last = path.at(-1);
  return typeof last === 'number' ? `item ${last}` : `"${last ?? 'document'}"`;
}

function sizeWord(origin: string, count: number | bigint): string {
  if (origin === 'array' || origin === 'set') return `${count} item${count === 1 ? '' : 's'}`;
  if (origin === 'string') return `${count} character${count === 1 ? '' : 's'}`;
  return String(count);
}

/** Looks up the documentation of a field from its path relative to the schema that was parsed. */
export type FieldDescriber = (path: readonly PropertyKey[]) => string | undefined;

/** Maps one zod issue (path relative to `prefix`) to problems: unknown keys become one warning each. */
function mapIssue(issue: Issue, prefix: readonly PathSegment[], describe: FieldDescriber | undefined): ValidationProblem[] {
  const segments = [...prefix, ...(issue.path as PathSegment[])];
  const path = toJsonPath(segments);
  const name = fieldName(segments);
  const input = (issue as { input?: unknown }).input;
  switch (issue.code) {
    case 'invalid_type':
      if (input === undefined) {
        const doc = describe?.(issue.path);
        return [{ path, rule: 'required-field', severity: 'error', message: `Required field ${name} is missing.`, fix: `Add ${name} (${issue.expected})${doc ? `: ${doc}` : '.'}` }];
      }
      return [{ path, rule: 'wrong-type', severity: 'error', message: `${name} must be ${issue.expected}, got ${describeValue(input)}.`, fix: `Change ${name} to ${issue.expected === 'array' ? 'an array' : `a ${issue.expected}`}.` }];
    case 'invalid_value': {
      const allowed = issue.values.map((v) => JSON.stringify(v)).join(', ');
      if (input === undefined) {
        return [{ path, rule: 'required-field', severity: 'error', message: `Required field ${name} is missing.`, fix: `Add ${name}: ${issue.values.length === 1 ? allowed : `one of ${allowed}`}.` }];
      }
      return [{ path, rule: 'invalid-value', severity: 'error', message: `${name} is ${describeValue(input)}; allowed: ${allowed}.`, fix: `Set ${name} to ${issue.values.length === 1 ? allowed : `one of ${allowed}`}.` }];
    }
    case 'invalid_format': {
      const fixes: Record<string, string> = {
        url: 'Use an absolute http(s) URL such as https://example.org/picture.png.',
        uuid: 'Use a UUID in the version-1 format, e.g. one composer_build_composition made.',
        regex: 'Use the format the field documents (colors are hex like #AA2C23).',
      };
      return [{ path, rule: 'invalid-format', severity: 'error', message: `${name} is not valid: ${issue.message}.`, fix: fixes[issue.format] ?? `Use a valid ${issue.format}.` }];
    }
    case 'too_small':
      if (issue.origin === 'string' && Number(issue.minimum) === 1) {
        return [{ path, rule: 'empty-value', severity: 'error', message: `${name} is empty.`, fix: `Give ${name} some content.` }];
      }
      return [{ path, rule: 'too-small', severity: 'error', message: `${name} has fewer than ${sizeWord(issue.origin, issue.minimum)}${issue.origin === 'number' ? ' (too small)' : ''}.`, fix: `Make ${name} at least ${sizeWord(issue.origin, issue.minimum)}.` }];
    case 'too_big':
      return [{ path, rule: 'too-big', severity: 'error', message: `${name} exceeds ${sizeWord(issue.origin, issue.maximum)}.`, fix: `Keep ${name} within ${sizeWord(issue.origin, issue.maximum)}.` }];
    case 'unrecognized_keys':
      return issue.keys.map((key) => ({
        path: toJsonPath([...segments, key]), rule: 'unknown-field', severity: 'warning' as const,
        message: `Field "${key}" is not part of the model of this object.`,
        fix: `Remove "${key}" or check its spelling (see composer_describe_widget); the Composer may ignore it.`,
      }));
    case 'custom': {
      // A refinement that names its own rule and fix (e.g. a URL field pointing at an internal host).
      const params = (issue as { params?: { rule?: unknown; fix?: unknown } }).params;
      if (typeof params?.rule === 'string' && typeof params.fix === 'string') {
        return [{ path, rule: params.rule, severity: 'error', message: `${name} is not valid: ${issue.message}.`, fix: params.fix }];
      }
      return [{ path, rule: 'invalid-value', severity: 'error', message: `${name}: ${issue.message}.`, fix: `Correct ${name} as the catalog describes it.` }];
    }
    case 'invalid_union':
      return [{ path, rule: 'wrong-type', severity: 'error', message: `${name} does not match any accepted shape.`, fix: `Check ${name} against the catalog (composer_describe_widget).` }];
    default:
      return [{ path, rule: 'invalid-value', severity: 'error', message: `${name}: ${issue.message}.`, fix: `Correct ${name} as the catalog describes it.` }];
  }
}

/**
 * Maps zod issues to validation problems whose paths start at `prefix` (e.g. `['structure', 2]`); with `describe`,
 * fixes for missing fields quote the field's documentation.
 */
export function mapZodIssues(issues: readonly Issue[], prefix: readonly PathSegment[] = [], describe?: FieldDescriber): ValidationProblem[] {
  return issues.flatMap((issue) => mapIssue(issue, prefix, describe));
}
