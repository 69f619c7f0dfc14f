import { ComposerError } from '../composer-error.ts';
import { SETTING_ENV } from './upstream-errors.ts';

/**
 * What the storage holds under a uid when it is not a composition. A composition is a JSON object; the storage
 * returns whatever was uploaded under the uid (another kind of file, a damaged upload, someone else's JSON), and
 * a wrong API URL answers with something else again (an HTML page). Pure.
 */

/** A JSON value that is not an object, in words: "a JSON array", "a JSON string", "JSON null"… */
export function jsonValueKind(value: unknown): string {
  if (Array.isArray(value)) return 'a JSON array';
  if (value === null) return 'JSON null';
  if (typeof value === 'object') return 'a JSON object';
  return `a JSON ${typeof value}`;
}

/** The same, read from the first characters of a JSON serialisation (no second parse of a large document). */
export function serializedJsonKind(json: string): string {
  if (json.startsWith('[')) return 'a JSON array';
  if (json.startsWith('"')) return 'a JSON string';
  if (json === 'null') return 'JSON null';
  if (json === 'true' || json === 'false') return 'a JSON boolean';
  return json.startsWith('{') ? 'a JSON object' : 'a JSON number';
}

/**
 * The error for a uid whose stored content is not a composition: what it is instead (`found`: "not JSON", "a JSON
 * array"…) and what to do. Not a platform failure, so nothing to retry: the uid or the stored file is the problem
 * (or, when every uid answers this, the API URL).
 */
export function notACompositionError(uid: string, found: string, details: Record<string, unknown> = {}): ComposerError {
  const what = found === 'not JSON' ? 'not JSON' : `${found}, not a JSON object`;
  return new ComposerError(
    'INVALID_COMPOSITION',
    `The content stored under uid ${JSON.stringify(uid)} is not a composition: it is ${what}. Nothing can be shown or edited from it.`,
    `Check the uid: use one composer_save_composition returned, copied unchanged. If it is one, what is stored under it is another kind of file or a damaged upload: save the lesson again (composer_save_composition) and use the new uid. If every uid answers this, check ${SETTING_ENV.apiUrl}: it must be the storage API's URL.`,
    { details: { ...details, found } },
  );
}
