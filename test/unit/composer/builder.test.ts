import { expect } from 'chai';
import { buildComposition, buildCompositionFromInput } from '#server/composer/builder/build-composition.ts';
import { escapeHtml, plainTextToHtml } from '#server/composer/builder/escape.ts';
import { deterministicIds, outlineIds, v1LayoutUuidFromDigest } from '#server/composer/builder/ids.ts';
import { lessonOutlineSchema, type LessonOutlineInput } from '#server/composer/builder/outline.ts';
import { contentIdempotencyKey } from '#server/composer/storage/idempotency-key.ts';
import { validate as validateUuid, version as uuidVersion } from 'uuid';
import { UUID_V1_PATTERN } from '#server/composer/model/common.ts';
import { compositionSchema, INTERFACE_DEFAULTS } from '#server/composer/model/document.ts';
import { HEAD_DEFAULTS } from '#server/composer/model/head-1.ts';
import { validateComposition } from '#server/composer/validator/validate-composition.ts';
import { forEachId } from '#server/composer/validator/walk.ts';
import { parseHtmlFragment } from '#server/composer/html/parse-fragment.ts';
import { sanitizeCompositionForView } from '#server/composer/html/sanitize-composition.ts';
import { HOSTILE_HTML } from '#support/fixtures/hostile-html.ts';
import { fullOutline } from './fixtures.ts';

describe('builder', () => {
  it('builds a document that passes the validator with no problem and parses with the composition schema', () => {
    const document = buildCompositionFromInput(fullOutline());
    const report = validateComposition(document);
    expect(report.problems).to.deep.equal([]);
    expect(report.valid).to.equal(true);
    const parsed = compositionSchema.safeParse(document);
    expect(parsed.success, JSON.stringify(parsed.error?.issues)).to.equal(true);
  });

  it('puts a head-1 first, then one widget per section in order', () => {
    const document = buildCompositionFromInput(fullOutline());
    expect(document.structure.map((w) => w.type)).to.deep.equal(['head-1', 'text-1', 'quiz-1', 'flashcards-1', 'list-1', 'image-1', 'video-1', 'gallery-1', 'hotspots-1']);
  });

  it('gives every widget and item a distinct UUID in the v1 format', () => {
    const document = buildCompositionFromInput(fullOutline());
    const ids: string[] = [];
    forEachId(document.structure, [], (id) => ids.push(id));
    expect(ids.length).to.be.greaterThan(30);
    expect(new Set(ids).size).to.equal(ids.length);
    for (const id of ids) expect(id).to.match(UUID_V1_PATTERN);
  });

  it('applies the Composer defaults: version, interface settings, head colors and booleans, common fields', () => {
    const document = buildCompositionFromInput(fullOutline({ language: 'en' }));
    expect(document.version).to.equal('1.1');
    expect(document.interface).to.deep.equal({ ...INTERFACE_DEFAULTS, content_language: 'en' });
    expect(document.metadata).to.include({ title: 'Fotossíntese', thumb: null });
    expect(document.assets).to.deep.equal([]);
    const head = document.structure[0] as Record<string, unknown>;
    expect(head).to.include({ ...HEAD_DEFAULTS, category: '<p>Science · 7º ano</p>', author_name: '<p>Ana Souza</p>', author_office: '<p>Professora de Ciências</p>' });
    for (const widget of document.structure) {
      expect(widget).to.include({ background_color: '#FFFFFF', padding_top: 0, padding_bottom: 0 });
      expect((widget as { dam_assets?: unknown }).dam_assets).to.deep.equal([]);
    }
  });

  it('escapes plain text and wraps it in paragraphs, so <script> in an outline is shown, never run', () => {
    const document = buildCompositionFromInput(fullOutline());
    const text = document.structure[1] as { content: string; content_title: string };
    expect(text.content).to.equal('<p>Plants make food.</p><p>They use light &amp; water &lt;script&gt;alert(1)&lt;/script&gt;.</p>');
    expect(text.content_title).to.equal('Para começar');
    expect(JSON.stringify(document)).not.to.include('<script');
  });

  it('builds clean HTML from a hostile outline: every payload is text the reader sees, never markup', () => {
    const payloads = HOSTILE_HTML.map((p) => p.html('alert(1)'));
    const pick = (i: number) => payloads[i % payloads.length] as string;
    const outline = fullOutline({
      title: pick(0), description: pick(1), tags: [pick(2), 'ok'], subject: pick(3), grade: pick(4), author: { name: pick(5), office: pick(6) },
      sections: [
        { type: 'text', title: pick(7), body: payloads.slice(0, 40) },
        { type: 'quiz', title: pick(8), questions: [0, 1, 2, 3, 4].map((i) => ({ question: pick(10 + i), choices: [{ text: pick(20 + i), correct: true }, { text: pick(30 + i), correct: false }] })) },
        { type: 'flashcards', cards: Array.from({ length: 8 }, (_, i) => ({ front: pick(40 + i), back: pick(50 + i) })) },
        { type: 'list', items: payloads.slice(40) },
        { type: 'image', url: 'https://example.org/a.png', caption: pick(60) },
        { type: 'hotspots', image: 'https://example.org/a.png', spots: [{ x: 1, y: 2, title: pick(61), body: pick(62) }] },
      ],
    });
    const document = buildCompositionFromInput(outline);
    const report = validateComposition(document);
    expect(report.problems.filter((p) => p.severity === 'error'), JSON.stringify(report.problems.slice(0, 3))).to.deep.equal([]);
    // What the builder wrote is exactly what the view serves, and every payload reads back as its own text.
    expect(sanitizeCompositionForView(document)).to.deep.include({ changed: false, fields: [] });
    const text = document.structure[1] as { content: string };
    const paragraphs = parseHtmlFragment(text.content).fragment.childNodes;
    expect(paragraphs.map((p) => ('childNodes' in p ? p.childNodes.map((n) => ('value' in n ? n.value : '<br>')).join('') : ''))).to.deep.equal(payloads.slice(0, 40).map((p) => p.trim()));
    expect(document.metadata.title).to.equal(escapeHtml(pick(0)));
    expect(document.metadata.tags[1]).to.equal('ok');
  });

  it('keeps plain metadata text as written, escaping only what would read as markup', () => {
    const document = buildCompositionFromInput(fullOutline({ title: 'Frações: 1 < 2 & 3 > 2', description: 'Use <b>negrito</b>' }));
    expect(document.metadata.title).to.equal('Frações: 1 < 2 & 3 > 2');
    expect(document.metadata.description).to.equal('Use &lt;b&gt;negrito&lt;/b&gt;');
  });

  it('escapes every special character and keeps line breaks', () => {
    expect(escapeHtml(`<a href="x" onclick='y'>&</a>`)).to.equal('&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
    expect(plainTextToHtml('one\ntwo\n\n\nthree')).to.equal('<p>one<br>two</p><p>three</p>');
    expect(plainTextToHtml(['first', '', 'second'])).to.equal('<p>first</p><p>second</p>');
  });

  it('maps quiz, flashcards, list and media sections onto their widget fields', () => {
    const document = buildCompositionFromInput(fullOutline());
    const quiz = document.structure[2] as { questions: { question: string; choices: { text: string; correct: boolean }[] }[] };
    expect(quiz.questions).to.have.length(5);
    expect(quiz.questions[0]?.question).to.equal('<p>Question 1?</p>');
    expect(quiz.questions[0]?.choices.map((c) => [c.text, c.correct])).to.deep.equal([['<p>Right 1</p>', true], ['<p>Wrong 1a</p>', false], ['<p>Wrong 1b</p>', false]]);
    expect(document.structure[4]).to.include({ list_style: 'checkbox' });
    expect(document.structure[5]).to.include({ image: 'https://example.org/cell.png', caption: '<p>A plant cell</p>' });
    expect(document.structure[6]).to.include({ video: 'https://example.org/video.mp4', content_title: 'Watch' });
  });

  it('is deterministic given a deterministic id source', () => {
    const outline = lessonOutlineSchema.parse(fullOutline());
    expect(buildComposition(outline, { newId: deterministicIds() })).to.deep.equal(buildComposition(outline, { newId: deterministicIds() }));
  });

  describe('ids derived from the outline', () => {
    const idsOf = (document: unknown) => {
      const ids: string[] = [];
      forEachId((document as { structure: unknown }).structure, [], (id) => ids.push(id));
      return ids;
    };

    it('builds the same outline into the byte-identical document with the same idempotency key, whatever its key order or defaults', () => {
      const first = buildCompositionFromInput(fullOutline());
      const reordered = Object.fromEntries(Object.entries(fullOutline({ language: 'pt_br' })).toReversed()) as LessonOutlineInput;
      const second = buildCompositionFromInput(JSON.parse(JSON.stringify(reordered)) as LessonOutlineInput);
      expect(JSON.stringify(second)).to.equal(JSON.stringify(first));
      expect(contentIdempotencyKey(second)).to.equal(contentIdempotencyKey(first));
    });

    it('gives other ids, and another idempotency key, when one character of the outline changes', () => {
      const first = buildCompositionFromInput(fullOutline());
      const outline = fullOutline();
      const quiz = outline.sections[1] as { questions: { choices: { text: string }[] }[] };
      quiz.questions[4]!.choices[2]!.text = 'Wrong 5c';
      const second = buildCompositionFromInput(outline);
      const [a, b] = [idsOf(first), idsOf(second)];
      expect(a).to.have.length(b.length);
      expect(a.filter((id) => b.includes(id)), 'ids shared by the two builds').to.deep.equal([]);
      expect(contentIdempotencyKey(second)).to.not.equal(contentIdempotencyKey(first));
      expect(buildCompositionFromInput(fullOutline({ title: 'Fotossíntesf' })).structure[0]?.id).to.not.equal(first.structure[0]?.id);
    });

    it('are UUIDs in the version-1 layout, unique in the document, dated 2020 to mid-2023, with a non-MAC node', () => {
      const ids = idsOf(buildCompositionFromInput(fullOutline()));
      expect(ids.length).to.be.greaterThan(30);
      expect(new Set(ids).size).to.equal(ids.length);
      for (const id of ids) {
        expect(id).to.match(UUID_V1_PATTERN);
        expect(validateUuid(id) && uuidVersion(id)).to.equal(1);
        const time = BigInt(`0x${id.slice(15, 18)}${id.slice(9, 13)}${id.slice(0, 8)}`);
        const ms = Number((time - 0x01b2_1dd2_1381_4000n) / 10_000n);
        expect(ms).to.be.within(Date.UTC(2020, 0, 1), Date.UTC(2023, 7, 1));
        expect(Number.parseInt(id.slice(24, 26), 16) & 1, 'multicast bit of the node').to.equal(1);
      }
      expect(validateComposition(buildCompositionFromInput(fullOutline())).problems).to.deep.equal([]);
    });

    it('lay a digest out as a v1 UUID bit for bit', () => {
      // Checked with Python's uuid module: 2020-01-01T00:00:00, and 2023-07-27T02:59:50.684262 with clock sequence 16383.
      expect(v1LayoutUuidFromDigest(new Uint8Array(32))).to.equal('a747c000-2c29-11ea-8000-010000000000');
      expect(v1LayoutUuidFromDigest(new Uint8Array(32).fill(0xff))).to.equal('a747bfff-2c29-11ee-bfff-ffffffffffff');
      expect(() => v1LayoutUuidFromDigest(new Uint8Array(15))).to.throw(RangeError);
    });

    it('never give two roles, or two outlines, the same id (100 000 draws)', () => {
      const ids = new Set<string>();
      const a = outlineIds(lessonOutlineSchema.parse(fullOutline()));
      const b = outlineIds(lessonOutlineSchema.parse(fullOutline({ title: 'Outra' })));
      for (let i = 0; i < 50_000; i += 1) {
        ids.add(a(`sections[${i}]`));
        ids.add(b(`sections[${i}]`));
      }
      expect(ids.size).to.equal(100_000);
      expect(a('head')).to.equal(a('head'));
    });
  });

  it('rejects outlines with answers instead of choices, non-http URLs or URLs of internal hosts, and unknown section types', () => {
    const bad = [
      { sections: [{ type: 'quiz', questions: [{ question: 'q', answers: [] }] }] },
      { sections: [{ type: 'image', url: 'javascript:alert(1)' }] },
      { sections: [{ type: 'image', url: 'http://169.254.169.254/latest/meta-data' }] },
      { sections: [{ type: 'video', url: 'http://localhost:8080/v.mp4' }] },
      { sections: [{ type: 'gallery', images: [{ url: 'https://10.0.0.7/a.png' }] }] },
      { sections: [{ type: 'hotspots', image: 'http://[::1]/a.png', spots: [{ x: 10, y: 20, title: 'Spot', body: 'Here.' }] }] },
      { sections: [{ type: 'poll', items: [] }] },
    ];
    for (const override of bad) {
      expect(lessonOutlineSchema.safeParse({ ...fullOutline(), ...override }).success, JSON.stringify(override)).to.equal(false);
    }
  });
});
