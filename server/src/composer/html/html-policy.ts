/**
 * The HTML a composition may hold: an allowlist of elements, of attributes per element, of URL schemes per URL
 * attribute, and of attribute values. Everything else is removed by the sanitiser (and refused by the validator).
 * Sized for what Composer widgets hold: rich text (paragraphs, emphasis, headings, lists, links, simple tables)
 * and images by absolute http(s) URL. No scripts, styles, forms, frames, media players, SVG or MathML, no
 * comments, no `id`/`name`/`class`/`style` (DOM clobbering and CSS tricks), no relative URLs.
 */

/** Attributes every allowed element may carry. */
export const GLOBAL_ATTRIBUTES: readonly string[] = ['title', 'lang', 'dir'];

/** Allowed elements (HTML namespace only) and the attributes each may carry besides the global ones. */
export const ALLOWED_ELEMENTS: ReadonlyMap<string, readonly string[]> = new Map<string, readonly string[]>([
  ['p', []], ['div', []], ['span', []], ['br', []], ['hr', []], ['blockquote', []], ['pre', []],
  ['h1', []], ['h2', []], ['h3', []], ['h4', []], ['h5', []], ['h6', []],
  ['strong', []], ['b', []], ['em', []], ['i', []], ['u', []], ['s', []], ['sub', []], ['sup', []], ['small', []], ['mark', []], ['code', []],
  ['ul', []], ['ol', ['start']], ['li', []],
  ['a', ['href']],
  ['img', ['src', 'alt', 'width', 'height']],
  ['table', []], ['caption', []], ['thead', []], ['tbody', []], ['tfoot', []], ['tr', []], ['th', ['colspan', 'rowspan']], ['td', ['colspan', 'rowspan']],
]);

/**
 * URL attributes and the schemes each accepts. URLs must be absolute (relative ones would resolve against the app)
 * and their host public (not localhost, not a loopback, private or link-local address).
 */
export const URL_SCHEMES: Readonly<Record<string, readonly string[]>> = {
  href: ['http', 'https', 'mailto'],
  src: ['http', 'https'],
};

/** Attributes whose value must match a pattern (numbers, text direction, language tag). */
export const ATTRIBUTE_VALUES: Readonly<Record<string, RegExp>> = {
  width: /^\d{1,4}$/,
  height: /^\d{1,4}$/,
  colspan: /^\d{1,3}$/,
  rowspan: /^\d{1,3}$/,
  start: /^-?\d{1,6}$/,
  dir: /^(?:ltr|rtl|auto)$/i,
  lang: /^[A-Za-z]{2,8}(?:-[A-Za-z0-9]{1,8})*$/,
};

/**
 * Elements removed together with everything inside them: their content is never lesson text (scripts, styles,
 * raw-text and RCDATA elements whose "text" is markup in disguise, embedded documents, media players, forms'
 * controls, document-level elements, SVG and MathML). Any other element that is not allowed is unwrapped: it goes,
 * its (sanitised) content stays.
 */
export const DROPPED_WITH_CONTENT: ReadonlySet<string> = new Set([
  'script', 'style', 'template', 'title', 'textarea', 'xmp', 'iframe', 'noembed', 'noframes', 'noscript', 'plaintext',
  'object', 'embed', 'applet', 'frame', 'frameset', 'portal', 'fencedframe',
  'audio', 'video', 'source', 'track', 'picture', 'canvas', 'map', 'area',
  'select', 'option', 'optgroup', 'datalist', 'selectedcontent', 'input', 'button', 'keygen', 'output',
  'head', 'meta', 'link', 'base', 'svg', 'math',
]);

/**
 * Most `<` a whole document's strings (and keys) may hold together. Parsing costs about 1–10 µs a tag while each
 * parse builds at most a few elements per `<` (parse-fragment.ts's element budget; misnested formatting would
 * otherwise build tags²), so this bounds the work one document can cause to a fraction of a second; a lesson
 * holds a few hundred to a few thousand.
 * Beyond it, validation refuses the document and the view shows the rest of its strings as text.
 */
export const MAX_DOCUMENT_TAGS = 20_000;

/** Deepest element nesting kept; deeper fields become plain text (browsers cap nesting too, at 512 in Chromium). */
export const MAX_HTML_DEPTH = 200;

/** One sentence an author reads in the catalog and in validation fixes: what lesson HTML may contain. */
export function allowedHtmlSummary(): string {
  return `Allowed HTML elements: ${[...ALLOWED_ELEMENTS.keys()].join(', ')}. Attributes: ${GLOBAL_ATTRIBUTES.join(', ')} on any of them; `
    + 'href on a (absolute http, https or mailto URL); src (absolute http or https URL), alt, width, height on img (URLs to public hosts only); start on ol; colspan, rowspan on th and td. '
    + 'Everything else (script, style, iframe, form, svg, math, comments, event handlers such as onerror, id, name, class, style, relative or javascript:/data: URLs) is refused.';
}
