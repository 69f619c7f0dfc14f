import { ErrorCodes } from 'parse5';
import { ALLOWED_ELEMENTS } from '../html/html-policy.ts';
import { sanitizeHtml, type HtmlRemoval, type HtmlSanitization } from '../html/sanitize-html.ts';
import { isScriptUrl } from '../html/url-policy.ts';

/** Rule ids of HTML findings. */
export type HtmlRule =
  | 'html-script' | 'html-event-handler' | 'unsafe-url' | 'html-unsafe-tag' | 'html-unsafe-attribute' | 'html-comment' | 'html-misplaced-tag' | 'html-malformed';

/** One HTML problem found in a string value (its path is added by the caller). */
export interface HtmlFinding {
  rule: HtmlRule;
  message: string;
  fix: string;
}

const ALLOWED_ATTRIBUTES_FIX = 'Allowed attributes: title, lang, dir on any element; href on a; src, alt, width, height on img; start on ol; colspan, rowspan on th and td.';

/** The finding for one thing the sanitiser would remove. */
export function removalFinding(removal: HtmlRemoval): HtmlFinding {
  const { element, attribute } = removal;
  switch (removal.kind) {
    case 'element':
      if (element === 'script') return { rule: 'html-script', message: 'The HTML contains a <script> element.', fix: 'Remove the <script> element; lessons cannot run scripts.' };
      return {
        rule: 'html-unsafe-tag',
        message: `The HTML contains a <${element}> element: ${removal.reason}.`,
        fix: `Remove the <${element}> element (keep its text if it is lesson text). Allowed elements: ${[...ALLOWED_ELEMENTS.keys()].join(', ')}. Use an image-1, video-1 or gallery-1 widget for media.`,
      };
    case 'attribute':
      if (attribute?.startsWith('on')) return { rule: 'html-event-handler', message: `The HTML has an event handler attribute "${attribute}" on <${element}>.`, fix: `Remove the "${attribute}" attribute; lessons cannot run scripts.` };
      return { rule: 'html-unsafe-attribute', message: `Attribute "${attribute}" on <${element}> is not allowed: ${removal.reason}.`, fix: `Remove the "${attribute}" attribute. ${ALLOWED_ATTRIBUTES_FIX}` };
    case 'url':
      if (element === '#value') return { rule: 'unsafe-url', message: 'The value is a script URL (javascript:, vbscript: or a data: document).', fix: 'Use an absolute http(s) URL; if this is text, wrap it in <p>…</p>.' };
      return { rule: 'unsafe-url', message: `Attribute "${attribute}" on <${element}> holds a URL that is not allowed ("${removal.url ?? ''}"): ${removal.reason}.`, fix: `Use an absolute ${attribute === 'href' ? 'http(s) or mailto' : 'http(s)'} URL.` };
    case 'comment':
      return { rule: 'html-comment', message: 'The HTML contains a comment.', fix: 'Remove the comment (<!-- … -->); lesson HTML holds no comments.' };
    case 'ignored-tag':
      return { rule: 'html-misplaced-tag', message: `The HTML parser ignores the <${element}> tag where it stands.`, fix: `Remove the <${element}> tag, or put it where HTML allows it (a table cell inside <table><tr>…</tr></table>).` };
    case 'nesting':
      return { rule: 'html-malformed', message: `The HTML ${removal.reason}.`, fix: 'Flatten the markup: lesson text needs a few levels of elements at most.' };
    case 'mutation':
      return { rule: 'html-malformed', message: `The HTML changes when parsed again: ${removal.reason}.`, fix: 'Write plain, well-formed markup with the allowed elements only.' };
    case 'parse-work':
      return { rule: 'html-malformed', message: `The HTML was not checked: ${removal.reason}.`, fix: 'Close every formatting element (<b>, <i>, <strong>, <a>…) before the block that contains it ends, and do not leave them open across paragraphs.' };
  }
}

/** Fixes for the spec parse errors authors meet most; any other gets the general advice. */
const PARSE_ERROR_FIXES: Partial<Record<string, string>> = {
  [ErrorCodes.eofInTag]: 'Close the tag with ">" or escape "<" as "&lt;".',
  [ErrorCodes.eofBeforeTagName]: 'Escape a literal "<" as "&lt;".',
  [ErrorCodes.invalidFirstCharacterOfTagName]: 'Escape a literal "<" as "&lt;".',
  [ErrorCodes.duplicateAttribute]: 'Give each attribute once (browsers keep only the first).',
  [ErrorCodes.endTagWithAttributes]: 'Remove the attributes from the closing tag.',
  [ErrorCodes.missingAttributeValue]: 'Give the attribute a value in quotes, or remove it.',
  [ErrorCodes.unexpectedCharacterInUnquotedAttributeValue]: 'Put attribute values in double quotes.',
  [ErrorCodes.missingWhitespaceBetweenAttributes]: 'Separate attributes with a space.',
  [ErrorCodes.missingSemicolonAfterCharacterReference]: 'End the character reference with ";" (for example "&amp;").',
  [ErrorCodes.unknownNamedCharacterReference]: 'Use a known character reference, or write "&" as "&amp;".',
};

function near(value: string, offset: number): string {
  return JSON.stringify(value.slice(Math.max(0, offset - 10), offset + 30));
}

/** The well-formedness findings of a value that is markup: spec parse errors, unclosed elements, stray end tags. */
function syntaxFindings(value: string, result: HtmlSanitization): HtmlFinding[] {
  const syntax = result.syntax;
  if (syntax === undefined) return [];
  const findings: HtmlFinding[] = [];
  for (const error of syntax.errors) {
    findings.push({ rule: 'html-malformed', message: `The HTML does not parse cleanly: ${error.code} near ${near(value, error.startOffset)}.`, fix: PARSE_ERROR_FIXES[error.code] ?? 'Write well-formed HTML: quote attribute values, close every tag, escape "<" as "&lt;" and "&" as "&amp;" in text.' });
  }
  for (const tag of syntax.unclosedElements) {
    findings.push({ rule: 'html-malformed', message: `Tag <${tag.name}> is never closed (near ${near(value, tag.offset)}).`, fix: `Add </${tag.name}> where the element ends.` });
  }
  for (const tag of syntax.strayEndTags) {
    findings.push({ rule: 'html-malformed', message: `Closing tag </${tag.name}> has no matching opening tag (near ${near(value, tag.offset)}).`, fix: `Remove </${tag.name}> or add the missing <${tag.name}>.` });
  }
  return findings;
}

/** True when a string value is a script URL as a whole (`javascript:`, `vbscript:`, a `data:` document; entities decoded). */
export function isUnsafeUrl(value: string): boolean {
  return isScriptUrl(value);
}

/**
 * Checks one string value as the view sanitiser would treat it: a finding for each thing `sanitizeHtml` removes
 * (script, element, attribute, URL, comment, misplaced tag) and, when the value is markup, for each spec parse
 * error, unclosed element and stray end tag; a value that is as a whole a script URL is `unsafe-url`. A value
 * with no findings is served unchanged by the view. Each finding once, in document order.
 */
export function checkHtml(value: string): HtmlFinding[] {
  const findings: HtmlFinding[] = [];
  if (isScriptUrl(value)) findings.push(removalFinding({ kind: 'url', element: '#value', reason: 'the whole value is a script URL' }));
  const result = sanitizeHtml(value);
  findings.push(...result.removed.map(removalFinding), ...syntaxFindings(value, result));
  const seen = new Set<string>();
  return findings.filter((finding) => {
    const key = `${finding.rule}\u0000${finding.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
