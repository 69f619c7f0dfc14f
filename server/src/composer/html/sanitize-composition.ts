import { toJsonPath, type PathSegment } from '../validator/json-path.ts';
import { MAX_DOCUMENT_TAGS } from './html-policy.ts';
import { sanitizeHtml, type HtmlRemoval } from './sanitize-html.ts';
import { isScriptUrl } from './url-policy.ts';

/** Deepest JSON nesting kept for viewing, as the validator's bound; deeper values become null (a composition is a few levels deep). */
export const MAX_VIEW_DEPTH = 64;

/** What the view sanitiser did to one value of the document. */
export type FieldAction =
  /** HTML with something removed (or re-serialised after parse errors): `removed` says what. */
  | 'sanitised'
  /** The whole value was a script URL (`javascript:`, `data:text/html`…): it became the empty string. */
  | 'emptied'
  /** An object member whose key is markup or a script URL: the member was left out. */
  | 'dropped'
  /** A value nested deeper than {@link MAX_VIEW_DEPTH}: it became null. */
  | 'truncated'
  /** A string with markup after the document's budget of tags ({@link MAX_DOCUMENT_TAGS}) ran out: shown as text. */
  | 'escaped';

/** One value of the document the view sanitiser changed. */
export interface FieldSanitization {
  /** JSONPath of the value in the input document, e.g. `$.structure[2].questions[0].question`. */
  path: string;
  action: FieldAction;
  /** What was removed (empty for a value re-serialised only because of parse errors, `truncated` and `escaped`). */
  removed: HtmlRemoval[];
}

/** The outcome of sanitising a composition for viewing. */
export interface CompositionSanitization {
  /** The document to show: a sanitised copy (the input is never modified); equal to the input when `changed` is false. */
  document: unknown;
  /** True when any value was changed. */
  changed: boolean;
  /** Every value changed, in document order. */
  fields: FieldSanitization[];
}

/** How many `<` a string holds: the unit of the document's parse budget. */
export function tagOpeners(text: string): number {
  let count = 0;
  for (let i = text.indexOf('<'); i !== -1; i = text.indexOf('<', i + 1)) count += 1;
  return count;
}

/** Escapes a string so it holds no markup at all (`&`, `<`, `>` as references). Linear; no parsing. */
function escapeAll(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

/** What is left of the document's tag budget while it is walked. */
interface Walk {
  fields: FieldSanitization[];
  tagsLeft: number;
}

function sanitizeString(text: string, path: readonly PathSegment[], walk: Walk): string {
  const { fields } = walk;
  const tags = tagOpeners(text);
  if (tags > walk.tagsLeft) {
    walk.tagsLeft = 0;
    fields.push({ path: toJsonPath(path), action: 'escaped', removed: [] });
    return escapeAll(text);
  }
  walk.tagsLeft -= tags;
  if (isScriptUrl(text)) {
    fields.push({ path: toJsonPath(path), action: 'emptied', removed: [{ kind: 'url', element: '#value', url: text.slice(0, 100), reason: 'the whole value is a script URL' }] });
    return '';
  }
  const result = sanitizeHtml(text);
  if (result.changed) fields.push({ path: toJsonPath(path), action: 'sanitised', removed: result.removed });
  return result.html;
}

/** What makes an object key unsafe if an app rendered it (markup the sanitiser changes, or a script URL); undefined when it is safe. */
export function hostileKey(key: string): HtmlRemoval[] | undefined {
  if (isScriptUrl(key)) return [{ kind: 'url', element: '#key', url: key.slice(0, 100), reason: 'the key is a script URL' }];
  const result = sanitizeHtml(key);
  return result.changed ? result.removed : undefined;
}

function sanitizeValue(value: unknown, path: readonly PathSegment[], walk: Walk): unknown {
  const { fields } = walk;
  if (typeof value === 'string') return sanitizeString(value, path, walk);
  if (value === null || typeof value !== 'object') return value;
  if (path.length > MAX_VIEW_DEPTH) {
    fields.push({ path: toJsonPath(path), action: 'truncated', removed: [] });
    return null;
  }
  if (Array.isArray(value)) return value.map((item, i) => sanitizeValue(item, [...path, i], walk));
  const entries: [string, unknown][] = [];
  for (const [key, child] of Object.entries(value)) {
    const tags = tagOpeners(key);
    const removed = tags > walk.tagsLeft ? [] : hostileKey(key);
    walk.tagsLeft = Math.max(0, walk.tagsLeft - tags);
    if (removed) fields.push({ path: toJsonPath([...path, key]), action: 'dropped', removed });
    else entries.push([key, sanitizeValue(child, [...path, key], walk)]);
  }
  // fromEntries defines own properties, so a "__proto__" key stays a plain member.
  return Object.fromEntries(entries);
}

/**
 * Sanitises a composition document for viewing, treating it as hostile whoever saved it: every string anywhere in
 * it (any widget type, unknown ones included, metadata, interface, assets) that is markup is sanitised against
 * the lesson-HTML allowlist (`sanitizeHtml`): elements, attributes and URLs outside the allowlist, comments and
 * misplaced tags are removed. A string is markup when its HTML parse holds an element, a comment, a misplaced tag
 * or a parse error beyond a lone `<`; other strings (`3 < 5`, plain titles) are left as they are. A string that
 * is as a whole a script URL (`javascript:…`, `data:text/html,…`, also entity-encoded) becomes "", an object member
 * whose key is markup is left out, and values nested deeper than {@link MAX_VIEW_DEPTH} become null. Parse work is
 * bounded: once the document's strings and keys have used {@link MAX_DOCUMENT_TAGS} `<`, every further string
 * with a `<` is escaped as text and every further key with one is left out, unparsed.
 *
 * Returns a copy and reports every value it changed with its JSONPath and what was removed; a document that the
 * validator accepts comes back unchanged (`changed: false`, equal content). Pure and synchronous; never throws
 * for any JSON value. Cost: about 0.01–0.03 ms per HTML field (bench/html-sanitizer: a 149-field lesson in 1–3 ms).
 */
export function sanitizeCompositionForView(document: unknown): CompositionSanitization {
  const walk: Walk = { fields: [], tagsLeft: MAX_DOCUMENT_TAGS };
  const sanitised = sanitizeValue(document, [], walk);
  return { document: sanitised, changed: walk.fields.length > 0, fields: walk.fields };
}

/** The outcome of sanitising a composition held as JSON text. */
export type CompositionJsonSanitization =
  | { ok: true; json: string; changed: boolean; fields: FieldSanitization[] }
  | { ok: false; reason: string };

/**
 * {@link sanitizeCompositionForView} for a response body: parses the JSON (after a byte-order mark, which a
 * browser's `res.json()` skips too), sanitises it and serialises it again. The page always gets the serialisation
 * of what was checked, never the original text: JSON a parser reads otherwise than JSON.parse (a duplicate key whose
 * first copy an app's parser keeps, while JSON.parse keeps the last) cannot carry anything past the check. Text
 * that is not JSON is `ok: false` (serve nothing rather than something unchecked).
 */
export function sanitizeCompositionJsonForView(json: string): CompositionJsonSanitization {
  let document: unknown;
  try {
    document = JSON.parse(json.startsWith('\ufeff') ? json.slice(1) : json);
  } catch (error) {
    return { ok: false, reason: `not JSON: ${error instanceof Error ? error.message.slice(0, 200) : 'unparsable'}` };
  }
  const result = sanitizeCompositionForView(document);
  return { ok: true, json: JSON.stringify(result.document), changed: result.changed, fields: result.fields };
}
