import { expect } from 'chai';
import { loadConfig } from '#common/config.ts';
import { SERVER_ENV_PREFIX, serverConfigSchema } from '#server/config.ts';
import type { ProbeResult } from '#server/composer/session/readiness-probe.ts';
import { readinessOf } from '#server/composer/session/readiness-report.ts';
import { chooseEvidence, MAX_CHECKED_WIDGETS, normalizeText, renderExpectationOf, widgetEvidence } from '#server/composer/session/render-evidence.ts';
import { DOM_READ_LIMITS } from '#server/composer/session/visit-composition.ts';
import { earlyCaptureShowsReady, probeSpecOf } from '#server/composer/session/visit-composition.ts';
import { resolvePageSettings } from '#server/composer/session/page-settings.ts';
import { widgetTally } from '#server/composer/session/visit-schema.ts';

const probe = (over: Partial<ProbeResult> = {}): ProbeResult => ({
  outcome: 'ready',
  titleSeen: true,
  seen: [true, true],
  verifiable: [true, true],
  found: null,
  selectorError: null,
  quietForMs: 150,
  fontsLoaded: true,
  imagesPending: 0,
  readyVisible: null,
  loadingVisible: null,
  ...over,
});

const expectation = renderExpectationOf({
  metadata: { title: 'Fotossíntese' },
  structure: [
    { id: 'w1', type: 'text-1', content_title: 'Para começar', content: '<p>As plantas produzem</p>', background_color: '#FFFFFF' },
    { id: 'w2', type: 'image-1', image: 'https://example.org/a.png' },
  ],
});

describe('readiness from the document itself', () => {
  describe('evidence of a widget', () => {
    it('takes HTML values and known text fields as text, http(s) values as media, and skips colours, ids, flags and enums', () => {
      const w = widgetEvidence({ id: 'q', type: 'quiz-1', content_title: 'Teste', background_color: '#FFFFFF', show_divider: true, list_style: 'numbered', questions: [{ id: 'x', question: '<p>Onde?</p>', choices: [{ id: 'c', correct: true, text: '<p>Aqui</p>' }] }], avatar: 'https://cdn.example/a.png' });
      expect(w).to.deep.equal({ id: 'q', type: 'quiz-1', texts: ['Teste', '<p>Onde?</p>', '<p>Aqui</p>'], media: ['https://cdn.example/a.png'] });
    });

    it('is bounded on a hostile document (huge strings, deep nesting, many fields) and never throws on junk', () => {
      const deep: Record<string, unknown> = {};
      let node = deep;
      for (let i = 0; i < 50; i++) node = (node['x'] = { text: `<p>${i}</p>` }) as Record<string, unknown>;
      const w = widgetEvidence({ type: 't', content: `<p>${'a'.repeat(100_000)}</p>`, deep, list: Array.from({ length: 1000 }, (_, i) => ({ text: `<p>${i}</p>` })) });
      expect(w.texts.length).to.be.at.most(24);
      expect(Math.max(...w.texts.map((t) => t.length))).to.be.at.most(2000);
      expect(widgetEvidence(null)).to.deep.equal({ id: null, type: 'unknown', texts: [], media: [] });
      expect(renderExpectationOf('not a document')).to.deep.equal({ title: null, widgets: [], widgetsTotal: 0 });
      const huge = renderExpectationOf({ structure: Array.from({ length: 3000 }, (_, i) => ({ content: Array.from({ length: 30 }, (_v, j) => `<p>${i}-${j}</p>`) })) });
      expect(huge.widgets).to.have.length(2000);
      expect(huge.widgetsTotal).to.equal(3000);
      // The texts looked for stay within the budget of 500 widgets × 24 texts, at least one per widget.
      expect(huge.widgets.reduce((n, w) => n + w.texts.length, 0)).to.be.at.most(12_000);
      expect(huge.widgets.every((w) => w.texts.length >= 1)).to.equal(true);
      expect(renderExpectationOf({ structure: Array.from({ length: 500 }, () => ({ content: Array.from({ length: 30 }, (_v, j) => `<p>${j}</p>`) })) }).widgets[0]!.texts).to.have.length(24);
    });

    it('limits what it looks for to what a report lists: every widget a visit lists is looked for', () => {
      expect(MAX_CHECKED_WIDGETS).to.equal(DOM_READ_LIMITS.elements);
    });
  });

  describe('snippets', () => {
    it('normalises case, whitespace, invisible characters and Unicode composition', () => {
      expect(normalizeText('  Fotos\u00adsíntese\n\nDA  Planta ')).to.equal('fotossíntesedaplanta');
      expect(normalizeText('Fotossi\u0301ntese')).to.equal(normalizeText('Fotossíntese'));
    });

    it('prefers the evidence no other widget shares, and keeps the shared when a widget has nothing else', () => {
      const chosen = chooseEvidence([
        { texts: ['cloroplasto', 'organelaverde'], media: [] },
        { texts: ['noscloroplastos', 'raízes'], media: [] },
        { texts: ['cloroplasto'], media: [] },
      ]);
      expect(chosen[0]).to.deep.equal({ texts: ['organelaverde'], media: [], unique: true });
      expect(chosen[1]).to.deep.equal({ texts: ['raízes'], media: [], unique: true });
      expect(chosen[2]).to.deep.equal({ texts: ['cloroplasto'], media: [], unique: false });
    });

    it('never lets a media URL another widget shows count for a widget that has evidence of its own', () => {
      const chosen = chooseEvidence([
        { texts: ['observe'], media: ['https://x/cell.png'] },
        { texts: ['partesdacélula', 'vacúolo'], media: ['https://x/cell.png'] },
        { texts: [], media: ['https://x/cell.png', 'https://x/leaf.png'] },
      ]);
      expect(chosen[0]).to.deep.equal({ texts: ['observe'], media: [], unique: true });
      expect(chosen[1]).to.deep.equal({ texts: ['partesdacélula', 'vacúolo'], media: [], unique: true });
      expect(chosen[2]).to.deep.equal({ texts: [], media: ['https://x/leaf.png'], unique: true });
    });

    it('cuts long texts to a prefix and drops one-character ones', () => {
      expect(chooseEvidence([{ texts: ['a', 'x'.repeat(100)], media: [] }], 48)[0]!.texts).to.deep.equal(['x'.repeat(48)]);
    });
  });

  describe('the verdict', () => {
    const inputs = (result: ProbeResult) => ({ expectation, result, quietMs: 100, widgetSelector: '', readySelector: '', loadingSelector: '' });

    it('is ready only when the probe saw everything, listing every widget seen', () => {
      const r = readinessOf(inputs(probe()));
      expect(r).to.deep.include({ ready: true, notSeen: [], missingWidgetIds: [], unverifiedWidgetIds: [] });
      expect(r.renderedWidgets).to.deep.equal([{ type: 'text-1', id: 'w1' }, { type: 'image-1', id: 'w2' }]);
      expect(r.evidence).to.deep.include({ method: 'content', outcome: 'ready', domQuiet: true });
    });

    it('says what was not seen on a placeholder: the title and each widget, with its text', () => {
      const r = readinessOf(inputs(probe({ outcome: 'deadline', titleSeen: false, seen: [false, false], quietForMs: 2000 })));
      expect(r.ready).to.equal(false);
      expect(r.renderedWidgets).to.deep.equal([]);
      expect(r.missingWidgetIds).to.deep.equal(['w1', 'w2']);
      expect(r.notSeen[0]).to.contain('the title "Fotossíntese"');
      expect(r.notSeen[1]).to.contain('widget 1 (text-1 w1)').and.to.contain('"Para começar"');
      expect(r.notSeen[2]).to.contain('none of its text or media');
    });

    it('reports a partial render as such, and a page that never stopped changing', () => {
      const partial = readinessOf(inputs(probe({ outcome: 'stopped-changing', seen: [true, false] })));
      expect(partial).to.deep.include({ ready: false, missingWidgetIds: ['w2'] });
      expect(partial.renderedWidgets.map((w) => w.id)).to.deep.equal(['w1']);
      const busy = readinessOf(inputs(probe({ outcome: 'deadline', quietForMs: 10 })));
      expect(busy.ready).to.equal(false);
      expect(busy.notSeen.join(' ')).to.contain('still changing');
      const images = readinessOf(inputs(probe({ outcome: 'deadline', imagesPending: 2 })));
      expect(images.notSeen.join(' ')).to.contain('2 images');
    });

    it('never calls a lesson ready whose widgets were not all looked for, and says which were not', () => {
      const r = readinessOf({ ...inputs(probe()), expectation: { ...expectation, widgetsTotal: 2_005 } });
      expect(r.ready).to.equal(false);
      expect(r.notSeen).to.deep.equal(['widgets 3 to 2005: not looked for (readiness looks for the first 2 widgets of a document, as many as a report lists), so the whole lesson cannot be confirmed']);
      expect(r.renderedWidgets.map((w) => w.id), 'what was seen is still reported').to.deep.equal(['w1', 'w2']);
    });

    it('never calls a document with nothing to look for ready', () => {
      const r = readinessOf({ ...inputs(probe({ outcome: 'deadline', titleSeen: null, seen: [], verifiable: [] })), expectation: { title: null, widgets: [], widgetsTotal: 0 } });
      expect(r.ready).to.equal(false);
      expect(r.notSeen.join(' ')).to.contain('cannot be confirmed');
    });

    it('maps the configured selector\'s elements to the document\'s widgets, and names the selector for what it did not find', () => {
      const r = readinessOf({ ...inputs(probe({ outcome: 'deadline', seen: [true, false], found: [{ type: null, id: 'w1' }] })), widgetSelector: '.blk' });
      expect(r.evidence.method).to.equal('selector');
      expect(r.renderedWidgets).to.deep.equal([{ type: 'text-1', id: 'w1' }]);
      expect(r.notSeen.join(' ')).to.contain('.blk');
    });
  });

  it('stops waiting early for a document with nothing to look for', () => {
    const spec = probeSpecOf({ title: null, widgets: [], widgetsTotal: 0 }, resolvePageSettings({ readyTimeoutMs: 30_000 }), 30_000);
    expect(spec.timeoutMs).to.be.below(30_000);
    expect(probeSpecOf(expectation, resolvePageSettings(undefined), 12_345).timeoutMs).to.equal(12_345);
  });

  it('counts every widget type in the summary ("8 widgets" lists 8, not the 7 distinct types)', () => {
    const ws = ['head-1', 'text-1', 'text-1', 'quiz-1', 'list-1', 'image-1', 'video-1', 'gallery-1'].map((type, i) => ({ type, id: `w${i}` }));
    expect(widgetTally(ws)).to.equal('8 widgets (head-1, text-1 ×2, quiz-1, list-1, image-1, video-1, gallery-1)');
  });

  it('accepts composer.page.* from flags and COMPOSER_MCP_COMPOSER__PAGE__* from the environment', () => {
    const config = loadConfig(serverConfigSchema, {
      envPrefix: SERVER_ENV_PREFIX,
      env: { COMPOSER_MCP_COMPOSER__PAGE__WIDGET_SELECTOR: '.lsn-block', COMPOSER_MCP_COMPOSER__PAGE__REQUIRE_TITLE: 'false' },
      argv: ['--composer.page.dom-quiet-ms=80', '--composer.page.viewport.width=1024'],
    });
    expect(config.composer.page).to.deep.include({ widgetSelector: '.lsn-block', requireTitle: false, domQuietMs: 80, readySelector: '' });
    expect(config.composer.page.viewport).to.deep.equal({ width: 1024, height: 800 });
  });
});

describe('request body limit and document size', () => {
  it('defaults to a body limit that carries a save of the largest composition the validator accepts', async () => {
    const { bodyLimitBytes } = await import('#server/config.ts');
    const config = loadConfig(serverConfigSchema, { envPrefix: SERVER_ENV_PREFIX, env: {} });
    expect(bodyLimitBytes(config.http.bodyLimit)).to.be.at.least(2 * config.composer.limits.maxDocumentBytes);
  });

  it('refuses a body limit below maxDocumentBytes at start, naming both settings', () => {
    expect(() => loadConfig(serverConfigSchema, { envPrefix: SERVER_ENV_PREFIX, env: { COMPOSER_MCP_HTTP__BODY_LIMIT: '1mb' } })).to.throw(/http.bodyLimit: 1mb cannot carry a save of a composition of composer.limits.maxDocumentBytes/);
    expect(() => loadConfig(serverConfigSchema, { envPrefix: SERVER_ENV_PREFIX, env: { COMPOSER_MCP_HTTP__BODY_LIMIT: '1mb', COMPOSER_MCP_COMPOSER__LIMITS__MAX_DOCUMENT_BYTES: '500000' } })).to.not.throw();
  });
});

describe('a capture started during the quiet window', () => {
  it('shows the page at ready only when the visit is ready and the probe saw no change after the mark', () => {
    expect(earlyCaptureShowsReady(true, { changedSince: false })).to.equal(true);
    expect(earlyCaptureShowsReady(true, { changedSince: true }), 'the page changed after the capture began').to.equal(false);
    expect(earlyCaptureShowsReady(false, { changedSince: false }), 'not ready').to.equal(false);
    // A document replaced during the wait is asked without the mark: nothing says the capture shows it.
    expect(earlyCaptureShowsReady(true, {})).to.equal(false);
  });
});
