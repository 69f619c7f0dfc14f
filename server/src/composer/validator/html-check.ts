/** One HTML problem found in a string value (its path is added by the caller). */
export interface HtmlFinding {
  rule: 'html-script' | 'html-event-handler' | 'unsafe-url' | 'html-unsafe-tag' | 'html-malformed';
  message: string;
  fix: string;
}

/** Elements that never have a closing tag. */
const VOID_ELEMENTS = new Set(['area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'source', 'track', 'wbr']);

/** Elements that load or run active content and have no place in lesson text. */
const UNSAFE_ELEMENTS = new Set(['iframe', 'frame', 'frameset', 'object', 'embed', 'applet', 'base', 'meta', 'link', 'form', 'style']);

const TAG = /<!--[\s\S]*?-->|<(\/?)([A-Za-z][A-Za-z0-9:-]*)((?:\s+[^\s"'>/=]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'=<>`]+))?)*)\s*(\/?)>/g;
const ATTRIBUTE = /([^\s"'>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g;
const BROKEN_TAG = /<\/?[A-Za-z!]/;

/** Decodes the character references attackers use to hide a scheme (`&#106;`, `&#x6A;`, `&colon;`, `&Tab;`…). */
function decodeEntities(text: string): string {
  return text
    .replace(/&#x([0-9a-f]+);?/gi, (_, hex: string) => String.fromCodePoint(Math.min(Number.parseInt(hex, 16), 0x10ffff)))
    .replace(/&#(\d+);?/g, (_, dec: string) => String.fromCodePoint(Math.min(Number.parseInt(dec, 10), 0x10ffff)))
    .replace(/&colon;/gi, ':').replace(/&tab;/gi, '\t').replace(/&newline;/gi, '\n');
}

/** True when a URL (possibly entity-encoded, with embedded whitespace) would run script: javascript:, vbscript:, data:text/html. */
export function isUnsafeUrl(value: string): boolean {
  // oxlint-disable-next-line no-control-regex
  const folded = decodeEntities(value).replace(/[\u0000-\u0020\u007f-\u00a0]+/g, '').toLowerCase();
  return folded.startsWith('javascript:') || folded.startsWith('vbscript:') || folded.startsWith('data:text/html') || folded.startsWith('data:image/svg');
}

/** True when the string contains something that looks like markup (so HTML rules apply to it). */
export function looksLikeHtml(value: string): boolean {
  return BROKEN_TAG.test(value);
}

/**
 * Checks one string value as HTML: `<script>` and other active elements, `on*=` event handlers, script URLs in
 * attributes (or as the whole value), unterminated tags, unclosed and stray closing tags. Returns each finding once.
 */
export function checkHtml(value: string): HtmlFinding[] {
  const findings: HtmlFinding[] = [];
  const seen = new Set<string>();
  const add = (finding: HtmlFinding): void => {
    const key = `${finding.rule}:${finding.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      findings.push(finding);
    }
  };
  if (isUnsafeUrl(value)) {
    add({ rule: 'unsafe-url', message: 'The value is a script URL (javascript:, vbscript: or data:).', fix: 'Use an http(s) URL.' });
  }
  if (!looksLikeHtml(value)) return findings;

  const open: string[] = [];
  let last = 0;
  for (const match of value.matchAll(TAG)) {
    const between = value.slice(last, match.index);
    if (BROKEN_TAG.test(between)) {
      add({ rule: 'html-malformed', message: `Unterminated tag near "${between.slice(between.search(BROKEN_TAG), between.search(BROKEN_TAG) + 30)}".`, fix: 'Close the tag with ">" or escape "<" as "&lt;".' });
    }
    last = match.index + match[0].length;
    const name = match[2]?.toLowerCase();
    if (name === undefined) continue; // a comment
    const closing = match[1] === '/';
    const selfClosing = match[4] === '/';
    if (name === 'script') {
      add({ rule: 'html-script', message: 'The HTML contains a <script> element.', fix: 'Remove the <script> element; lessons cannot run scripts.' });
    } else if (UNSAFE_ELEMENTS.has(name)) {
      add({ rule: 'html-unsafe-tag', message: `The HTML contains a <${name}> element, which loads active content.`, fix: `Remove the <${name}> element; use an image-1 or video-1 widget for media.` });
    }
    if (!closing) {
      for (const attribute of (match[3] ?? '').matchAll(ATTRIBUTE)) {
        const attributeName = (attribute[1] ?? '').toLowerCase();
        const attributeValue = attribute[2] ?? attribute[3] ?? attribute[4] ?? '';
        if (attributeName.startsWith('on')) {
          add({ rule: 'html-event-handler', message: `The HTML has an event handler attribute "${attributeName}" on <${name}>.`, fix: `Remove the "${attributeName}" attribute; lessons cannot run scripts.` });
        } else if (isUnsafeUrl(attributeValue)) {
          add({ rule: 'unsafe-url', message: `Attribute "${attributeName}" on <${name}> holds a script URL.`, fix: 'Use an http(s) URL.' });
        }
      }
    }
    if (VOID_ELEMENTS.has(name) || selfClosing) continue;
    if (!closing) {
      open.push(name);
      continue;
    }
    const index = open.lastIndexOf(name);
    if (index === -1) {
      add({ rule: 'html-malformed', message: `Closing tag </${name}> has no matching opening tag.`, fix: `Remove </${name}> or add the missing <${name}>.` });
    } else {
      for (const unclosed of open.splice(index).slice(1)) {
        add({ rule: 'html-malformed', message: `Tag <${unclosed}> is not closed before </${name}>.`, fix: `Add </${unclosed}> before </${name}>.` });
      }
    }
  }
  const tail = value.slice(last);
  if (BROKEN_TAG.test(tail)) {
    add({ rule: 'html-malformed', message: `Unterminated tag near "${tail.slice(tail.search(BROKEN_TAG), tail.search(BROKEN_TAG) + 30)}".`, fix: 'Close the tag with ">" or escape "<" as "&lt;".' });
  }
  for (const unclosed of open) {
    add({ rule: 'html-malformed', message: `Tag <${unclosed}> is never closed.`, fix: `Add </${unclosed}> where the element ends.` });
  }
  return findings;
}
