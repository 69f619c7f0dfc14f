import { defaultTreeAdapter, html, Parser, type DefaultTreeAdapterMap, type DefaultTreeAdapterTypes, type ParserError, type Token, type TreeAdapter } from 'parse5';

type Element = DefaultTreeAdapterTypes.Element;
type ParentNode = DefaultTreeAdapterTypes.ParentNode;
type DocumentFragment = DefaultTreeAdapterTypes.DocumentFragment;

/** A start tag the tree builder dropped or merged away (e.g. `<td>` outside a table, `<body onload>`). */
export interface IgnoredStartTag {
  name: string;
  /** Offset of the tag in the source. */
  offset: number;
}

/** A non-void element whose end tag is missing (the parser closed it implicitly), or an end tag that closed nothing. */
export interface UnbalancedTag {
  name: string;
  /** Offset of the start tag (unclosed element) or of the end tag (stray end tag) in the source. */
  offset: number;
}

/** A fragment parsed as a browser parses `element.innerHTML = value` on a `<div>` of a standards-mode page. */
export interface ParsedFragment {
  fragment: DocumentFragment;
  /** Spec parse errors (tokenizer and tree construction) with their code and offset. */
  errors: ParserError[];
  /** Start tags in the source that produced no element where they stand. */
  ignoredStartTags: IgnoredStartTag[];
  /** HTML elements whose end tag is not in the source, in source order. */
  unclosedElements: UnbalancedTag[];
  /** End tags in the source that did not close an element where they stand, in source order. */
  strayEndTags: UnbalancedTag[];
}

/** How a fragment's source parsed, for well-formedness checks. */
export type HtmlSyntax = Pick<ParsedFragment, 'errors' | 'unclosedElements' | 'strayEndTags'>;

/** Elements that never have content or an end tag. */
const VOID_ELEMENTS = new Set(['area', 'base', 'basefont', 'bgsound', 'br', 'col', 'embed', 'frame', 'hr', 'img', 'input', 'keygen', 'link', 'meta', 'param', 'source', 'track', 'wbr']);

/**
 * Most elements one parse may build per `<` of its source, plus a small allowance. A well-formed fragment builds
 * one element per start tag, and the parser adds a few implied ones (`<tbody>`, a `<p>` for a stray `</p>`). But
 * the HTML algorithm rebuilds every open formatting element (`<b>`, `<i>`, `<a>`…, one per distinct attribute set)
 * at each text after a block closes them, so misnested markup builds about tags² elements: 6 000 `<` in 80 KB made
 * parse5 build tens of millions and took the server out of memory. Past this budget the parse stops.
 */
export const MAX_ELEMENTS_PER_TAG = 4;
const ELEMENT_ALLOWANCE = 16;

/** Thrown by a parse that would build more elements than its budget (see {@link MAX_ELEMENTS_PER_TAG}). */
export class ParseWorkExceeded extends Error {
  readonly limit: number;
  constructor(limit: number) {
    super(`the HTML parser would build more than ${limit} elements from it (misnested formatting elements rebuilt again and again)`);
    this.name = 'ParseWorkExceeded';
    this.limit = limit;
  }
}

/** The element budget of a parse of `source`. */
export function elementBudget(source: string): number {
  let tags = 0;
  for (let i = source.indexOf('<'); i !== -1; i = source.indexOf('<', i + 1)) tags += 1;
  return tags * MAX_ELEMENTS_PER_TAG + ELEMENT_ALLOWANCE;
}

/** parse5's default tree adapter, counting the elements it builds and throwing ParseWorkExceeded past `limit`. */
function budgetedTreeAdapter(limit: number): TreeAdapter<DefaultTreeAdapterMap> {
  let built = 0;
  return {
    ...defaultTreeAdapter,
    createElement(tagName, namespaceURI, attrs) {
      built += 1;
      if (built > limit) throw new ParseWorkExceeded(limit);
      return defaultTreeAdapter.createElement(tagName, namespaceURI, attrs);
    },
  };
}

/** parse5's parser, recording every start tag the tokenizer hands to the tree builder. */
class StartTagRecordingParser extends Parser<DefaultTreeAdapterMap> {
  readonly startTags: Token.TagToken[] = [];
  readonly endTags: Token.TagToken[] = [];

  override onStartTag(token: Token.TagToken): void {
    this.startTags.push(token);
    super.onStartTag(token);
  }

  override onEndTag(token: Token.TagToken): void {
    this.endTags.push(token);
    super.onEndTag(token);
  }
}

/** Where the elements of a tree start and end in the source, and which HTML elements have no end tag. */
interface TreeLocations {
  starts: Set<number>;
  ends: Set<number>;
  unclosed: UnbalancedTag[];
}

/** The source locations of every element of the tree (template contents included), collected without recursion. */
function treeLocations(root: ParentNode): TreeLocations {
  const found: TreeLocations = { starts: new Set(), ends: new Set(), unclosed: [] };
  const stack: ParentNode[] = [root];
  for (let node = stack.pop(); node !== undefined; node = stack.pop()) {
    for (const child of node.childNodes) {
      if (!defaultTreeAdapter.isElementNode(child)) continue;
      const { startTag, endTag } = child.sourceCodeLocation ?? {};
      if (startTag !== undefined) found.starts.add(startTag.startOffset);
      if (endTag !== undefined) found.ends.add(endTag.startOffset);
      if (startTag !== undefined && endTag === undefined && child.namespaceURI === html.NS.HTML && !VOID_ELEMENTS.has(child.tagName)) {
        found.unclosed.push({ name: child.tagName, offset: startTag.startOffset });
      }
      stack.push(child);
      if ('content' in child) stack.push(child.content);
    }
  }
  found.unclosed.sort((a, b) => a.offset - b.offset);
  return found;
}

function parseIn(context: Element, source: string, options: { locations: boolean }): { fragment: DocumentFragment; errors: ParserError[]; parser: StartTagRecordingParser } {
  const errors: ParserError[] = [];
  const parser = StartTagRecordingParser.getFragmentParser(context, {
    treeAdapter: budgetedTreeAdapter(elementBudget(source)),
    sourceCodeLocationInfo: options.locations,
    scriptingEnabled: true,
    onParseError: (error) => errors.push(error),
  }) as StartTagRecordingParser;
  parser.tokenizer.write(source, true);
  return { fragment: parser.getFragment(), errors, parser };
}

/**
 * Parses an HTML fragment with parse5 (an implementation of the WHATWG HTML parsing algorithm, as browsers use)
 * in the context of a `<div>` with scripting enabled: the way an app that sets `innerHTML` or React's
 * `dangerouslySetInnerHTML` on a container has the browser parse it. Reports the spec parse errors and every start
 * tag that did not become an element where it stands, since another context could make it one. Throws
 * ParseWorkExceeded when the parse would build more elements than {@link elementBudget} allows (linear in `<`).
 */
export function parseHtmlFragment(source: string): ParsedFragment {
  const { fragment, errors, parser } = parseIn(defaultTreeAdapter.createElement('div', html.NS.HTML, []), source, { locations: true });
  const locations = treeLocations(fragment);
  const unmatched = (tokens: Token.TagToken[], offsets: Set<number>): UnbalancedTag[] => tokens
    .filter((token) => token.location !== null && !offsets.has(token.location.startOffset))
    .map((token) => ({ name: token.tagName, offset: token.location?.startOffset ?? 0 }));
  return {
    fragment,
    errors,
    ignoredStartTags: unmatched(parser.startTags, locations.starts),
    unclosedElements: locations.unclosed,
    strayEndTags: unmatched(parser.endTags, locations.ends),
  };
}

/**
 * Decodes the character references of a string the way the HTML parser decodes text (`&#x61;`, `&colon;`,
 * `&Tab;`, `&amp`…), leaving any markup as it is: the string is parsed as the content of a `<textarea>`.
 */
export function decodeCharacterReferences(text: string): string {
  const { fragment } = parseIn(defaultTreeAdapter.createElement('textarea', html.NS.HTML, []), text, { locations: false });
  return fragment.childNodes.map((node) => (defaultTreeAdapter.isTextNode(node) ? node.value : '')).join('');
}
