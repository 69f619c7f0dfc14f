import { UUID_V1_PATTERN } from '../model/common.ts';
import { compositionEnvelopeSchema, unknownWidgetSchema } from '../model/document.ts';
import { isWidgetType, WIDGET_SCHEMAS, WIDGET_TYPES } from '../model/widgets.ts';
import { fieldDescription } from './field-docs.ts';
import { MAX_DOCUMENT_TAGS } from '../html/html-policy.ts';
import { hostileKey, tagOpeners } from '../html/sanitize-composition.ts';
import { checkHtml } from './html-check.ts';
import type { PathSegment } from './json-path.ts';
import { toJsonPath } from './json-path.ts';
import { DEFAULT_VALIDATION_LIMITS } from './limits.ts';
import type { ValidationLimits } from './limits.ts';
import { toReport } from './problem.ts';
import type { ValidationProblem, ValidationReport } from './problem.ts';
import { checkFlashcards, checkHeadFirst, checkQuiz, unknownWidgetWarning } from './widget-rules.ts';
import { forEachId, forEachKey, forEachString, jsonDepth, MAX_DEPTH } from './walk.ts';
import { mapZodIssues } from './zod-issues.ts';

/** Most problems a report lists; the rest are summarised in one last warning. */
export const MAX_PROBLEMS = 200;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Size of the document as UTF-8 JSON, or undefined when it cannot be serialised. */
function jsonBytes(value: unknown): number | undefined {
  try {
    return Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8');
  } catch {
    return undefined;
  }
}

function bounds(document: unknown, limits: ValidationLimits): ValidationProblem | undefined {
  if (jsonDepth(document, MAX_DEPTH) > MAX_DEPTH) {
    return { path: '$', rule: 'document-depth', severity: 'error', message: `The document nests deeper than ${MAX_DEPTH} levels.`, fix: 'Send a composition as composer_describe_widget documents it; widgets are shallow objects.' };
  }
  const bytes = jsonBytes(document);
  if (bytes === undefined) {
    return { path: '$', rule: 'not-json', severity: 'error', message: 'The document cannot be serialised as JSON.', fix: 'Send plain JSON values only.' };
  }
  if (bytes > limits.maxDocumentBytes) {
    return { path: '$', rule: 'document-size', severity: 'error', message: `The document is ${bytes} bytes; at most ${limits.maxDocumentBytes} are accepted.`, fix: 'Split the lesson into several compositions or shorten its content.' };
  }
  return undefined;
}

/** Validates one widget: its own schema (or the unknown-widget shape with a warning) and its type's rules. */
function validateWidget(widget: unknown, index: number, limits: ValidationLimits): ValidationProblem[] {
  const prefix: PathSegment[] = ['structure', index];
  if (!isObject(widget)) {
    return [{ path: toJsonPath(prefix), rule: 'wrong-type', severity: 'error', message: 'A widget must be an object with "id" and "type".', fix: 'Replace this entry with a widget object (see composer_list_widgets).' }];
  }
  const type = widget['type'];
  if (!isWidgetType(type)) {
    const problems = mapZodIssues(unknownWidgetSchema.safeParse(widget, { reportInput: true }).error?.issues ?? [], prefix);
    if (typeof type === 'string' && type.length > 0) problems.push(unknownWidgetWarning(type, index, WIDGET_TYPES));
    return problems;
  }
  const schema = WIDGET_SCHEMAS[type];
  const problems = mapZodIssues(schema.safeParse(widget, { reportInput: true }).error?.issues ?? [], prefix, (path) => fieldDescription(schema, path));
  const id = widget['id'];
  if (typeof id === 'string' && problems.every((p) => p.path !== toJsonPath([...prefix, 'id'])) && !UUID_V1_PATTERN.test(id)) {
    problems.push({ path: toJsonPath([...prefix, 'id']), rule: 'time-based-id', severity: 'warning', message: 'The widget id is a UUID but not a time-based (v1) one, as the Composer makes them.', fix: 'Use a v1 UUID (composer_build_composition generates them).' });
  }
  if (type === 'quiz-1') problems.push(...checkQuiz(widget, index, limits));
  if (type === 'flashcards-1') problems.push(...checkFlashcards(widget, index, limits));
  return problems;
}

/** Duplicate ids anywhere in the structure (widgets and their items): each repeat is an error. */
function checkUniqueIds(structure: readonly unknown[]): ValidationProblem[] {
  const firstSeen = new Map<string, string>();
  const problems: ValidationProblem[] = [];
  forEachId(structure, ['structure'], (id, path) => {
    const jsonPath = toJsonPath(path);
    const earlier = firstSeen.get(id);
    if (earlier === undefined) firstSeen.set(id, jsonPath);
    else problems.push({ path: jsonPath, rule: 'unique-ids', severity: 'error', message: `Id "${id.slice(0, 64)}" is already used at ${earlier}.`, fix: 'Give this item a UUID no other item of the document uses (version-1 format); composer_build_composition makes distinct ones.' });
  });
  return problems;
}

/**
 * HTML safety and well-formedness of every string of the document, as the view sanitiser sees them: a string it
 * would change is an error, so what is saved is what is shown. Plain text (`3 < 5`, titles) is not markup and
 * passes as it is.
 */
function checkStrings(document: Record<string, unknown>): ValidationProblem[] {
  let tags = 0;
  forEachString(document, [], (text) => {
    tags += tagOpeners(text);
  });
  forEachKey(document, [], (key) => {
    tags += tagOpeners(key);
  });
  if (tags > MAX_DOCUMENT_TAGS) {
    return [{ path: '$', rule: 'html-too-much-markup', severity: 'error', message: `The document's text holds ${tags} "<"; at most ${MAX_DOCUMENT_TAGS} are accepted (its HTML was not checked).`, fix: 'Split the lesson into several compositions, or write plain text without markup where markup is not needed.' }];
  }
  const problems: ValidationProblem[] = [];
  forEachString(document, [], (text, path) => {
    for (const finding of checkHtml(text)) {
      problems.push({ path: toJsonPath(path), rule: finding.rule, severity: 'error', message: finding.message, fix: finding.fix });
    }
  });
  forEachKey(document, [], (key, path) => {
    const removed = hostileKey(key);
    if (removed === undefined) return;
    problems.push({ path: toJsonPath(path), rule: 'html-unsafe-key', severity: 'error', message: `The key ${JSON.stringify(key.slice(0, 60))} is markup or a script URL (${removed.map((r) => r.reason).join('; ')}).`, fix: 'Use a plain field name, as composer_describe_widget lists them.' });
  });
  return problems;
}

/** Drops the "choices is missing" error of a question already reported as using "answers". */
function dropAnswersNoise(problems: ValidationProblem[]): ValidationProblem[] {
  const answered = new Set(problems.filter((p) => p.rule === 'quiz-choices-key').map((p) => p.path.replace(/\.answers$/, '')));
  return problems.filter((p) => {
    if (p.rule === 'required-field' && p.path.endsWith('.choices')) return !answered.has(p.path.replace(/\.choices$/, ''));
    if (p.rule === 'unknown-field' && p.path.endsWith('.answers')) return !answered.has(p.path.replace(/\.answers$/, ''));
    return true;
  });
}

function cap(problems: ValidationProblem[]): ValidationProblem[] {
  if (problems.length <= MAX_PROBLEMS) return problems;
  const kept = problems.slice(0, MAX_PROBLEMS);
  kept.push({ path: '$', rule: 'too-many-problems', severity: 'warning', message: `${problems.length - MAX_PROBLEMS} more problems were not listed.`, fix: 'Fix the problems listed and validate again.' });
  return kept;
}

/**
 * Validates a composition: schema of the envelope and of every widget (unknown widget types pass with a warning),
 * head-1 first, unique ids, quiz and flashcard rules and counts, HTML safety and well-formedness, size and depth
 * bounds. Never throws; every problem carries its JSONPath, rule, message and fix.
 */
export function validateComposition(document: unknown, limits: ValidationLimits = DEFAULT_VALIDATION_LIMITS): ValidationReport {
  const bounded = bounds(document, limits);
  if (bounded) return toReport([bounded]);
  if (!isObject(document)) {
    return toReport([{ path: '$', rule: 'wrong-type', severity: 'error', message: 'A composition must be a JSON object.', fix: 'Send an object with version, metadata, interface and structure (composer_build_composition makes one).' }]);
  }
  const problems = mapZodIssues(compositionEnvelopeSchema.safeParse(document, { reportInput: true }).error?.issues ?? [], [], (path) => fieldDescription(compositionEnvelopeSchema, path));
  const structure = document['structure'];
  if (Array.isArray(structure)) {
    if (structure.length > limits.maxWidgets) {
      problems.push({ path: '$.structure', rule: 'widget-count', severity: 'error', message: `The composition has ${structure.length} widgets; at most ${limits.maxWidgets} are accepted.`, fix: 'Split the lesson into several compositions.' });
    } else {
      problems.push(...checkHeadFirst(structure));
      structure.forEach((widget, i) => problems.push(...validateWidget(widget, i, limits)));
      problems.push(...checkUniqueIds(structure));
    }
  }
  problems.push(...checkStrings(document));
  return toReport(cap(dropAnswersNoise(problems)));
}
