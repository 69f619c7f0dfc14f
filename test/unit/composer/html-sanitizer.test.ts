import { expect } from 'chai';
import { buildCompositionFromInput } from '#server/composer/builder/build-composition.ts';
import { parseHtmlFragment } from '#server/composer/html/parse-fragment.ts';
import { MAX_DOCUMENT_TAGS } from '#server/composer/html/html-policy.ts';
import { sanitizeCompositionForView, sanitizeCompositionJsonForView, tagOpeners } from '#server/composer/html/sanitize-composition.ts';
import { isMarkup, sanitizeHtml, type HtmlRemoval } from '#server/composer/html/sanitize-html.ts';
import { absoluteUrlScheme, isScriptUrl } from '#server/composer/html/url-policy.ts';
import { checkHtml } from '#server/composer/validator/html-check.ts';
import { validateComposition } from '#server/composer/validator/validate-composition.ts';
import { HOSTILE_HTML, type PayloadClass } from '#support/fixtures/hostile-html.ts';
import { fullOutline } from './fixtures.ts';

type Doc = Record<string, unknown> & { structure: Record<string, unknown>[]; metadata: Record<string, unknown> };

/** The signal a payload's script would give; its words must never survive as live markup. */
const JS = 'alert(document.domain)';

function documentWith(html: string): Doc {
  const document = buildCompositionFromInput(fullOutline()) as unknown as Doc;
  document.structure[1]!['content'] = html;
  return document;
}

const describeRemoval = (r: HtmlRemoval) => `${r.kind} ${r.element}${r.attribute ? `[${r.attribute}]` : ''}`;

/** Every element and attribute left in sanitised HTML, as the parser sees them. */
function liveMarkup(html: string): { elements: string[]; attributes: string[]; comments: number } {
  const { fragment } = parseHtmlFragment(html);
  const found = { elements: [] as string[], attributes: [] as string[], comments: 0 };
  const visit = (nodes: typeof fragment.childNodes) => {
    for (const node of nodes) {
      if (node.nodeName === '#comment') found.comments += 1;
      if ('tagName' in node) {
        found.elements.push(node.tagName);
        found.attributes.push(...node.attrs.map((a) => `${node.tagName}[${a.name}=${a.value}]`));
        visit(node.childNodes);
      }
    }
  };
  visit(fragment.childNodes);
  return found;
}

describe('HTML sanitiser (parse5 + allowlist)', () => {
  describe('every parser-differential payload', () => {
    for (const payload of HOSTILE_HTML) {
      it(`${payload.class}: ${payload.name} — refused by validate, neutralised for view`, () => {
        const html = payload.html(JS);
        // validate (and so save) refuses the document, at the field's path
        const report = validateComposition(documentWith(html));
        expect(report.valid, JSON.stringify(report.problems)).to.equal(false);
        expect(report.problems.filter((p) => p.path === '$.structure[1].content' && p.severity === 'error').length).to.be.greaterThan(0);
        // the view sanitiser changes it, and what it serves is clean: nothing more to remove, nothing to recover
        const result = sanitizeHtml(html);
        expect(result.changed).to.equal(true);
        expect(checkHtml(result.html), result.html).to.deep.equal([]);
        expect(sanitizeHtml(result.html)).to.deep.include({ html: result.html, changed: false, removed: [] });
        const live = liveMarkup(result.html);
        expect(live.comments).to.equal(0);
        for (const attribute of live.attributes) {
          expect(attribute, result.html).to.match(/^(?:a\[href=(?:https?|mailto):|img\[src=https?:|\w+\[(?:title|alt|lang|dir|width|height|colspan|rowspan|start)=)/);
        }
        expect(live.elements.filter((e) => ['script', 'style', 'iframe', 'svg', 'math', 'template', 'noscript', 'form', 'object', 'embed', 'base', 'meta', 'link'].includes(e))).to.deep.equal([]);
      });
    }
  });

  it('reports what it removed with the kind, element, attribute and URL', () => {
    const removed = (html: string) => sanitizeHtml(html).removed.map(describeRemoval);
    expect(removed(`<!--><img src=x onerror=${JS}>-->`)).to.deep.equal(['comment #comment', 'url img[src]', 'attribute img[onerror]']);
    expect(removed(`<noscript><p title="</noscript><img src=x onerror=${JS}>"></noscript>`)).to.deep.equal(['element noscript', 'url img[src]', 'attribute img[onerror]']);
    expect(removed(`<svg><style><img src=x onerror=${JS}></style></svg>`)).to.deep.equal(['element svg', 'url img[src]', 'attribute img[onerror]']);
    expect(removed('<td onclick=alert(1)>x</td>')).to.deep.equal(['ignored-tag td']);
    expect(sanitizeHtml(`<a href="jav&#x61;script:${JS}">x</a>`).removed).to.deep.equal([{ kind: 'url', element: 'a', attribute: 'href', url: `javascript:${JS}`, reason: 'only absolute http, https, mailto URLs to public hosts are allowed' }]);
    expect(removed('<p id="location" name="x" class="c" style="color:red">x</p>')).to.deep.equal(['attribute p[id]', 'attribute p[name]', 'attribute p[class]', 'attribute p[style]']);
  });

  it('validate names each class of problem with its own rule at the field path', () => {
    const rules = (html: string) => validateComposition(documentWith(html)).problems.filter((p) => p.path === '$.structure[1].content').map((p) => p.rule);
    expect(rules(`<script>${JS}</script>`)).to.deep.equal(['html-script']);
    expect(rules(`<p onclick="${JS}">x</p>`)).to.deep.equal(['html-event-handler']);
    expect(rules('<p style="color:red">x</p>')).to.deep.equal(['html-unsafe-attribute']);
    expect(rules(`<a href="javascript:${JS}">x</a>`)).to.deep.equal(['unsafe-url']);
    expect(rules('<p>x</p><!-- c -->')).to.deep.equal(['html-comment']);
    expect(rules('<svg></svg>')).to.deep.equal(['html-unsafe-tag']);
    expect(rules('<body onload=x>')).to.deep.equal(['html-misplaced-tag']);
    expect(rules(`javascript:${JS}`)).to.deep.equal(['unsafe-url']);
    const [problem] = validateComposition(documentWith('<p><img src="x.png" onerror="alert(1)"></p>')).problems;
    expect(problem).to.deep.equal({ path: '$.structure[1].content', rule: 'unsafe-url', severity: 'error', message: 'Attribute "src" on <img> holds a URL that is not allowed ("x.png"): only absolute http, https URLs to public hosts are allowed.', fix: 'Use an absolute http(s) URL.' });
  });

  it('keeps lesson HTML as written, byte for byte', () => {
    for (const html of [
      '<p>Plants make <strong>food</strong> from <em>light</em>.</p><ul><li>one</li><li>two</li></ul><ol start="3"><li>three</li></ol>',
      '<h2 title="t" lang="pt-BR" dir="ltr">Title</h2><p>a<br>b</p><hr><blockquote><p>q</p></blockquote><pre><code>x = 1</code></pre>',
      '<p><a href="https://example.org/a?b=c&amp;d=e">link</a> <a href="mailto:ana@example.org">mail</a></p>',
      '<p><img src="https://example.org/a.png" alt="A cell" width="320" height="200"></p>',
      '<table><caption>c</caption><thead><tr><th colspan="2">h</th></tr></thead><tbody><tr><td>1</td><td rowspan="1">2</td></tr></tbody></table>',
      '<p>&lt;script&gt;alert(1)&lt;/script&gt; is text, as is javascript:alert(1) in a sentence.</p>',
      '<p><a href="https://example.org/?q=javascript:x">ok</a></p>',
      '3 < 5 and 7 > 2', 'Tom &amp; Jerry', 'Data: 2024 survey', '',
    ]) {
      expect(sanitizeHtml(html), html).to.deep.include({ html, changed: false, removed: [] });
      expect(checkHtml(html), html).to.deep.equal([]);
    }
  });

  it('treats a string as markup only when it parses to markup', () => {
    expect(isMarkup('3 < 5')).to.equal(false);
    expect(isMarkup('x <3 y')).to.equal(false);
    expect(isMarkup('Fotossíntese')).to.equal(false);
    expect(isMarkup('<b>x</b>')).to.equal(true);
    expect(isMarkup('<!-- x -->')).to.equal(true);
    expect(isMarkup('<body onload=x>')).to.equal(true);
    // A dangling tag parses to nothing, but glued to the next string it would be one.
    expect(isMarkup('<img src=x alt="')).to.equal(true);
    expect(sanitizeHtml('<img src=x alt="').html).to.equal('');
  });

  it('refuses links and images to this machine and internal networks, however the address is written', () => {
    for (const host of ['localhost', 'LOCALHOST.', 'a.localhost', '127.0.0.1', '2130706433', '0x7f.1', '[::1]', '[::ffff:127.0.0.1]', '10.1.2.3', '172.16.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '[fe80::1]', '[fd00::1]', '0.0.0.0']) {
      expect(sanitizeHtml(`<img src="http://${host}/x.png">`).removed.map((r) => r.kind), host).to.deep.equal(['url']);
    }
    for (const host of ['example.org', '8.8.8.8', '[2001:db8::1]', '172.32.0.1', 'localhost.example.org']) {
      expect(sanitizeHtml(`<img src="http://${host}/x.png">`).changed, host).to.equal(false);
    }
  });

  it('reads URL schemes as the browser does and recognises whole-value script URLs', () => {
    expect(absoluteUrlScheme(' java\tscr\nipt:x')).to.equal('javascript');
    expect(absoluteUrlScheme('/relative')).to.equal(undefined);
    for (const url of ['javascript:alert(1)', 'JaVaScRiPt:x', '\u0001 java\tscript:x', 'jav&#x61;script:x', '&#106;avascript:x', 'javascript&colon;x', 'vbscript:x', 'data:text/html,<b>', 'data:image/svg+xml,<svg>', 'DATA:application/xhtml+xml;base64,AA']) {
      expect(isScriptUrl(url), url).to.equal(true);
    }
    for (const url of ['https://example.org/javascript:x', 'http://a.b/c', 'mailto:a@b.c', 'data:image/png;base64,AA', 'Data: 2024 survey', 'Nota: 10']) {
      expect(isScriptUrl(url), url).to.equal(false);
    }
  });

  it('turns markup nested deeper than it keeps into plain text, quickly and without throwing', () => {
    const deep = `${'<b>'.repeat(5000)}x<img src=x onerror=${JS}>${'</b>'.repeat(5000)}`;
    const started = performance.now();
    const result = sanitizeHtml(deep);
    expect(performance.now() - started).to.be.lessThan(2000);
    expect(result.html).to.equal('x');
    expect(result.removed.map((r) => r.kind)).to.include('nesting');
    expect(checkHtml(deep).map((f) => f.rule)).to.include('html-malformed');
  });

  it('settles on clean output for random tag soup (serialisation parses back to itself)', () => {
    let seed = 42;
    const random = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed % n;
    };
    const pieces = ['<p>', '</p>', '<b>', '</b>', '<a href="https://e.org/">', '</a>', '<table>', '<tr>', '<td>', '</table>', '<li>', '<ul>', '</ul>', '<svg>', '</svg>', '<math>', '<mtext>', '<mglyph>', '<style>', '</style>', '<noscript>', '</noscript>', '<template>', '</template>', '<!--', '-->', '--!>', '<img src=x onerror=alert(1)>', '<select>', '<option>', '<form>', '</form>', '<textarea>', '"', "'", '<', '>', '&', 'text', ' ', '<br>', '</br>', '<pre>', '\n', '<![CDATA[', ']]>', '<title>', '<xmp>', '<iframe>', '<h1>', '<caption>', '<object>', '<plaintext>'];
    for (let i = 0; i < 1500; i += 1) {
      const soup = Array.from({ length: 4 + random(20) }, () => pieces[random(pieces.length)]).join('');
      const { html } = sanitizeHtml(soup);
      expect(sanitizeHtml(html), `${soup} → ${html}`).to.deep.include({ html, changed: false, removed: [] });
      expect(liveMarkup(html).attributes.filter((a) => a.includes('onerror')), soup).to.deep.equal([]);
    }
  });

  describe('view of a whole composition', () => {
    it('sanitises HTML in every widget, unknown types and metadata included, and reports each path', () => {
      const document = buildCompositionFromInput(fullOutline()) as unknown as Doc;
      document.structure[1]!['content'] = `<p>ok</p><!--><img src=x onerror=${JS}>-->`;
      document.structure.push({ id: 'f47ac10b-58cc-11cf-a447-00aa00a0b0c1', type: 'accordion-9', panels: [{ body: `<xmp><p title="</xmp><img src=x onerror=${JS}>"></xmp>`, link: `jav&#x61;script:${JS}` }] });
      document.metadata['title'] = `<svg onload=${JS}>`;
      const before = structuredClone(document);
      const view = sanitizeCompositionForView(document);
      expect(document, 'input untouched').to.deep.equal(before);
      expect(view.changed).to.equal(true);
      expect(view.fields.map((f) => `${f.path} ${f.action}`)).to.deep.equal([
        '$.metadata.title sanitised',
        '$.structure[1].content sanitised',
        '$.structure[9].panels[0].body sanitised',
        '$.structure[9].panels[0].link emptied',
      ]);
      const shown = view.document as Doc;
      expect(shown.structure[1]!['content']).to.equal('<p>ok</p><img>--&gt;');
      expect(shown.metadata['title']).to.equal('');
      expect((shown.structure[9]!['panels'] as Record<string, unknown>[])[0]).to.deep.equal({ body: '<img>"&gt;', link: '' });
      // Whatever the view serves passes the validator's HTML rules.
      expect(validateComposition(shown).problems.filter((p) => p.rule.startsWith('html') || p.rule === 'unsafe-url')).to.deep.equal([]);
    });

    it('serves a document the validator accepts unchanged', () => {
      const document = buildCompositionFromInput(fullOutline());
      expect(validateComposition(document).valid).to.equal(true);
      const view = sanitizeCompositionForView(document);
      expect(view).to.deep.include({ changed: false, fields: [] });
      expect(view.document).to.deep.equal(document);
      // Served as the serialisation of what was checked (equal content), never the original bytes (red team: duplicate keys).
      expect(sanitizeCompositionJsonForView(JSON.stringify(document, null, 2))).to.deep.equal({ ok: true, json: JSON.stringify(document), changed: false, fields: [] });
    });

    it('drops members whose key is markup, keeps "__proto__" a plain member, truncates over-deep values, refuses non-JSON', () => {
      const hostile = JSON.parse(`{"structure":[{"<img src=x onerror=${JS}>":"x","__proto__":{"polluted":"<b>ok</b>"}}]}`) as unknown;
      const view = sanitizeCompositionForView(hostile);
      expect(view.fields.map((f) => `${f.path} ${f.action}`)).to.deep.equal([`$.structure[0]["<img src=x onerror=${JS}>"] dropped`]);
      const widget = (view.document as { structure: Record<string, unknown>[] }).structure[0]!;
      expect(Object.keys(widget)).to.deep.equal(['__proto__']);
      expect(Object.getPrototypeOf(widget)).to.equal(Object.prototype);
      expect(({} as Record<string, unknown>)['polluted']).to.equal(undefined);

      let deep: unknown = '<b>x</b>';
      for (let i = 0; i < 100; i += 1) deep = [deep];
      const truncated = sanitizeCompositionForView({ deep });
      expect(truncated.fields).to.have.length(1);
      expect(truncated.fields[0]).to.include({ action: 'truncated' });
      expect(JSON.stringify(truncated.document)).to.not.include('<b>');

      expect(sanitizeCompositionJsonForView('{"a": ')).to.include({ ok: false });
      const changed = sanitizeCompositionJsonForView(JSON.stringify({ a: `<p onclick=${JS}>x</p>` }));
      expect(changed).to.deep.include({ ok: true, json: '{"a":"<p>x</p>"}', changed: true });
    });

    it('bounds parse work per document: past the tag budget the view shows text and validate refuses, both in well under a second', () => {
      const field = `<p>${'<b>x</b>'.repeat(2_000)}</p>`;
      const document = { version: '1.1', structure: Array.from({ length: 30 }, () => ({ type: 'x-1', body: field })) };
      let started = performance.now();
      const view = sanitizeCompositionForView(document);
      expect(performance.now() - started, 'view ms').to.be.lessThan(1500);
      const fitting = Math.floor(MAX_DOCUMENT_TAGS / tagOpeners(field));
      expect(fitting).to.equal(4);
      const escaped = view.fields.filter((f) => f.action === 'escaped');
      expect(escaped.length).to.equal(30 - fitting);
      expect(escaped[0]?.path).to.equal(`$.structure[${fitting}].body`);
      expect((view.document as { structure: { body: string }[] }).structure[29]?.body).to.equal(field.replaceAll('<', '&lt;').replaceAll('>', '&gt;'));
      expect(sanitizeCompositionForView(view.document).changed, 'what the view serves is served unchanged again').to.equal(false);
      started = performance.now();
      const report = validateComposition(document);
      expect(performance.now() - started, 'validate ms').to.be.lessThan(500);
      expect(report.problems.filter((p) => p.rule === 'html-too-much-markup')).to.have.length(1);
      expect(report.problems.filter((p) => p.rule.startsWith('html-') && p.rule !== 'html-too-much-markup')).to.deep.equal([]);
    });

    it('neutralises every payload class wherever it sits in a document', () => {
      const classes = new Set<PayloadClass>();
      for (const payload of HOSTILE_HTML) {
        classes.add(payload.class);
        const document = { version: '1.1', metadata: { title: payload.html(JS) }, structure: [{ type: 'x-1', deep: { list: [payload.html(JS)] } }] };
        const view = sanitizeCompositionForView(document);
        expect(view.fields.map((f) => f.path), payload.name).to.deep.equal(['$.metadata.title', '$.structure[0].deep.list[0]']);
        const again = sanitizeCompositionForView(view.document);
        expect(again.changed, payload.name).to.equal(false);
      }
      expect([...classes].toSorted()).to.deep.equal(['attribute', 'clobbering', 'comment', 'context', 'entity', 'foreign-content', 'mixed-case', 'raw-text', 'template', 'url']);
    });
  });
});
