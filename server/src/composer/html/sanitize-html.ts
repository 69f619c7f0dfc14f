import { defaultTreeAdapter, ErrorCodes, html as parse5Html, serialize, type DefaultTreeAdapterTypes, type Token } from 'parse5';
import { ALLOWED_ELEMENTS, ATTRIBUTE_VALUES, DROPPED_WITH_CONTENT, GLOBAL_ATTRIBUTES, MAX_HTML_DEPTH, URL_SCHEMES } from './html-policy.ts';
import { parseHtmlFragment, ParseWorkExceeded, type HtmlSyntax, type ParsedFragment } from './parse-fragment.ts';
import { isAllowedUrl } from './url-policy.ts';

type ParentNode = DefaultTreeAdapterTypes.ParentNode;
type ChildNode = DefaultTreeAdapterTypes.ChildNode;
type Element = DefaultTreeAdapterTypes.Element;

/** What kind of thing the sanitiser removed. */
export type HtmlRemovalKind =
  /** An element that is not allowed (with its content when the policy drops it whole, else unwrapped). */
  | 'element'
  /** An attribute that is not allowed on its element, or whose value is not allowed. */
  | 'attribute'
  /** A URL attribute whose URL is not an absolute URL of an allowed scheme to a public host. */
  | 'url'
  | 'comment'
  /** A start tag the parser ignored or merged away where it stands (e.g. `<td>` outside a table, `<body onload>`). */
  | 'ignored-tag'
  /** Elements nested deeper than the policy keeps: the field becomes plain text. */
  | 'nesting'
  /** Markup whose re-serialisation parses differently (mutation XSS): the field becomes plain text. */
  | 'mutation'
  /** Markup that makes the parser build far more elements than it has tags (misnested formatting): shown as text, unparsed. */
  | 'parse-work';

/** One thing the sanitiser removed from an HTML string. */
export interface HtmlRemoval {
  kind: HtmlRemovalKind;
  /** The element concerned, lower case (`#comment` for a comment). */
  element: string;
  /** The attribute removed (kinds `attribute` and `url`). */
  attribute?: string;
  /** The refused URL, at most 100 characters (kind `url`). */
  url?: string;
  /** Why, in words an author understands: "event handler", "not an allowed element"… */
  reason: string;
}

/** The outcome of sanitising one HTML string. */
export interface HtmlSanitization {
  /**
   * Safe HTML. The input itself when nothing was removed and it parsed without errors (so a clean value is kept byte
   * for byte), else the allowed elements and attributes re-serialised: parsing that yields nothing to remove and
   * serialises to itself (checked before it is returned).
   */
  html: string;
  /** True when `html` differs from the input: something was removed, or the input had parse errors. */
  changed: boolean;
  /** Everything removed, in document order (each distinct removal once). */
  removed: HtmlRemoval[];
  /**
   * How the input parsed (spec errors, unclosed elements, stray end tags); undefined when it is not markup: when it
   * parses to text alone (such as `3 < 5`), it is text in every context and is left as it is.
   */
  syntax: HtmlSyntax | undefined;
}

/** True when a string can hold markup at all: the HTML tokenizer only leaves the text state at a `<`. */
export function mayContainMarkup(text: string): boolean {
  return text.includes('<');
}

/**
 * True when a parse holds markup: an element, a comment, a start tag the parser ignored where it stands, or a
 * parse error other than a lone `<` in text (`3 < 5`). A dangling `<img src=x alt="` parses to nothing, but is
 * markup: glued to the next string it would become a tag.
 */
function parsesToMarkup(parsed: ParsedFragment): boolean {
  return parsed.ignoredStartTags.length > 0
    || parsed.errors.some((error) => error.code !== ErrorCodes.invalidFirstCharacterOfTagName)
    || parsed.fragment.childNodes.some((node) => !defaultTreeAdapter.isTextNode(node));
}

const URL_LIMIT = 100;

/** Why an element that is not allowed goes. */
function elementReason(element: Element): string {
  if (element.namespaceURI !== parse5Html.NS.HTML) return `foreign content (${element.namespaceURI === parse5Html.NS.SVG ? 'SVG' : 'MathML'}) is not allowed`;
  if (element.tagName === 'script') return 'scripts are not allowed';
  if (DROPPED_WITH_CONTENT.has(element.tagName)) return 'not an allowed element (removed with its content)';
  return 'not an allowed element';
}

/** Why an attribute goes, or undefined when it stays. */
function attributeRemoval(element: string, attribute: Token.Attribute, allowed: readonly string[]): HtmlRemoval | undefined {
  const name = attribute.prefix ? `${attribute.prefix}:${attribute.name}` : attribute.name;
  const removal = (reason: string): HtmlRemoval => ({ kind: 'attribute', element, attribute: name, reason });
  if (attribute.namespace || attribute.prefix) return removal('namespaced attributes are not allowed');
  if (name.startsWith('on')) return removal('event handlers are not allowed');
  if (!GLOBAL_ATTRIBUTES.includes(name) && !allowed.includes(name)) {
    if (name === 'id' || name === 'name') return removal('id and name are not allowed (DOM clobbering)');
    if (name === 'style') return removal('inline styles are not allowed');
    return removal(`not an allowed attribute of <${element}>`);
  }
  const schemes = URL_SCHEMES[name];
  if (schemes !== undefined && !isAllowedUrl(attribute.value, schemes)) {
    return { kind: 'url', element, attribute: name, url: attribute.value.slice(0, URL_LIMIT), reason: `only absolute ${schemes.join(', ')} URLs to public hosts are allowed` };
  }
  const pattern = ATTRIBUTE_VALUES[name];
  if (pattern !== undefined && !pattern.test(attribute.value)) return removal(`value "${attribute.value.slice(0, 40)}" is not allowed`);
  return undefined;
}

/** The text a reader sees in a tree: text nodes outside dropped and foreign elements, collected without recursion. */
function visibleText(root: ParentNode): string {
  const parts: string[] = [];
  const stack: ChildNode[] = [...root.childNodes].toReversed();
  for (let node = stack.pop(); node !== undefined; node = stack.pop()) {
    if (defaultTreeAdapter.isTextNode(node)) parts.push(node.value);
    else if (defaultTreeAdapter.isElementNode(node) && node.namespaceURI === parse5Html.NS.HTML && !DROPPED_WITH_CONTENT.has(node.tagName)) {
      for (let i = node.childNodes.length - 1; i >= 0; i -= 1) stack.push(node.childNodes[i] as ChildNode);
    }
  }
  return parts.join('');
}

/** `text` escaped so it holds no markup at all (`&`, `<`, `>`, no-break spaces as references). Linear; no parsing. */
function escapeText(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('\u00a0', '&nbsp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

/** The visible text of an HTML string, escaped as HTML: markup-free, so it parses to text alone. */
function asPlainText(input: string): string {
  try {
    return escapeText(visibleText(parseHtmlFragment(input).fragment));
  } catch (error) {
    if (error instanceof ParseWorkExceeded) return escapeText(input);
    throw error;
  }
}

class TooDeep extends Error {}

/** Removes from `parent`'s children (in place) everything the policy does not allow. Throws TooDeep past the depth limit. */
function cleanChildren(parent: ParentNode, depth: number, removed: HtmlRemoval[]): void {
  if (depth > MAX_HTML_DEPTH) throw new TooDeep();
  const kept: ChildNode[] = [];
  for (const child of parent.childNodes) {
    if (defaultTreeAdapter.isTextNode(child)) {
      kept.push(child);
    } else if (defaultTreeAdapter.isElementNode(child)) {
      const allowed = child.namespaceURI === parse5Html.NS.HTML ? ALLOWED_ELEMENTS.get(child.tagName) : undefined;
      if (allowed === undefined) {
        removed.push({ kind: 'element', element: child.tagName, reason: elementReason(child) });
        if (child.namespaceURI !== parse5Html.NS.HTML || DROPPED_WITH_CONTENT.has(child.tagName)) continue;
        cleanChildren(child, depth + 1, removed);
        for (const grandchild of child.childNodes) {
          grandchild.parentNode = parent;
          kept.push(grandchild);
        }
        continue;
      }
      child.attrs = child.attrs.filter((attribute) => {
        const removal = attributeRemoval(child.tagName, attribute, allowed);
        if (removal) removed.push(removal);
        return removal === undefined;
      });
      cleanChildren(child, depth + 1, removed);
      kept.push(child);
    } else {
      removed.push({ kind: 'comment', element: '#comment', reason: 'comments are not allowed' });
    }
  }
  parent.childNodes = kept;
}

function removalKey(removal: HtmlRemoval): string {
  return `${removal.kind}\u0000${removal.element}\u0000${removal.attribute ?? ''}\u0000${removal.url ?? ''}\u0000${removal.reason}`;
}

function distinct(removals: HtmlRemoval[]): HtmlRemoval[] {
  const seen = new Set<string>();
  return removals.filter((removal) => {
    const key = removalKey(removal);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** One cleaning pass over a parse: the removals and the re-serialised HTML (undefined when too deep). */
function cleanPass(parsed: ParsedFragment): { html: string | undefined; removed: HtmlRemoval[] } {
  const removed: HtmlRemoval[] = parsed.ignoredStartTags.map((tag) => ({ kind: 'ignored-tag', element: tag.name, reason: 'the HTML parser ignores this tag here' }));
  try {
    cleanChildren(parsed.fragment, 0, removed);
  } catch (error) {
    if (!(error instanceof TooDeep)) throw error;
    return { html: undefined, removed: [...removed, { kind: 'nesting', element: '#fragment', reason: `elements nest deeper than ${MAX_HTML_DEPTH} levels` }] };
  }
  return { html: serialize(parsed.fragment), removed };
}

/** True when a string is markup (see `parsesToMarkup`); `3 < 5` and other plain text are not. */
export function isMarkup(text: string): boolean {
  if (!mayContainMarkup(text)) return false;
  try {
    return parsesToMarkup(parseHtmlFragment(text));
  } catch (error) {
    if (error instanceof ParseWorkExceeded) return true;
    throw error;
  }
}

/** The outcome for markup whose parse would cost too much: the whole input as escaped text, nothing parsed. */
function tooMuchWork(input: string, error: ParseWorkExceeded): HtmlSanitization {
  return { html: escapeText(input), changed: true, removed: [{ kind: 'parse-work', element: '#fragment', reason: error.message }], syntax: undefined };
}

/** One cleaning pass over a parse of `html`; a parse past its element budget counts as markup that never settles. */
function cleanPassOf(html: string): { html: string | undefined; removed: HtmlRemoval[] } | undefined {
  try {
    return cleanPass(parseHtmlFragment(html));
  } catch (error) {
    if (error instanceof ParseWorkExceeded) return undefined;
    throw error;
  }
}

/** Passes after the first before giving up on markup that keeps changing when parsed again. */
const MAX_EXTRA_PASSES = 2;

/**
 * Sanitises one HTML string against the allowlist of `html-policy.ts`, parsing it as a browser would (see
 * `parseHtmlFragment`). Disallowed elements are removed (with their content for scripts, raw-text elements,
 * embeds, forms' controls, SVG and MathML; else unwrapped), as are disallowed attributes, URLs that are not
 * absolute URLs of an allowed scheme, comments and tags the parser ignores where they stand. The result is
 * re-parsed until it parses to itself with nothing to remove; markup that never settles, or nests too deep,
 * becomes plain text, and markup whose parse would build far more elements than it has tags (see
 * `elementBudget`) becomes its own source escaped as text. Work is linear in the input. Never throws on any string.
 */
export function sanitizeHtml(input: string): HtmlSanitization {
  if (!mayContainMarkup(input)) return { html: input, changed: false, removed: [], syntax: undefined };
  let parsed: ParsedFragment;
  try {
    parsed = parseHtmlFragment(input);
  } catch (error) {
    if (error instanceof ParseWorkExceeded) return tooMuchWork(input, error);
    throw error;
  }
  if (!parsesToMarkup(parsed)) return { html: input, changed: false, removed: [], syntax: undefined };
  const syntax: HtmlSyntax = { errors: parsed.errors, unclosedElements: parsed.unclosedElements, strayEndTags: parsed.strayEndTags };
  const first = cleanPass(parsed);
  const removed = [...first.removed];
  // A clean value without parse errors is kept byte for byte; one with parse errors (which every spec parser
  // recovers from alike) is served as its re-serialisation, so no other reader has to recover from them.
  if (removed.length === 0 && parsed.errors.length === 0) return { html: input, changed: false, removed: [], syntax };
  let html = first.html;
  for (let pass = 0; html !== undefined && pass < MAX_EXTRA_PASSES; pass += 1) {
    const again = cleanPassOf(html);
    if (again === undefined) break;
    if (again.removed.length === 0 && again.html === html) return { html, changed: html !== input, removed: distinct(removed), syntax };
    removed.push(...again.removed.map((r) => ({ ...r, kind: 'mutation' as const, reason: `re-parsing the cleaned HTML produced more to remove (${r.reason})` })));
    html = again.html;
  }
  if (html !== undefined) removed.push({ kind: 'mutation', element: '#fragment', reason: 'the cleaned HTML changes each time it is parsed' });
  return { html: asPlainText(input), changed: true, removed: distinct(removed), syntax };
}
