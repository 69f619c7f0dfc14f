import { expect } from 'chai';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { buildCompositionFromInput } from '#server/composer/builder/build-composition.ts';
import { elementBudget, parseHtmlFragment, ParseWorkExceeded } from '#server/composer/html/parse-fragment.ts';
import { sanitizeCompositionForView } from '#server/composer/html/sanitize-composition.ts';
import { isMarkup, sanitizeHtml } from '#server/composer/html/sanitize-html.ts';
import { checkHtml } from '#server/composer/validator/html-check.ts';
import { anchorBomb, formattingBomb } from '#support/hostile/parse-bombs.ts';
import { fullOutline } from '../fixtures.ts';

/**
 * Red team: markup whose parse costs quadratically more than its size. One validate call from any MCP client, or
 * one composition saved by anyone in the project and then opened, ran the server's HTML parser out of memory
 * (6 002 `<` in 80 KB, well inside the 20 000-`<` document budget, killed the process with a heap OOM).
 */
describe('red team: HTML whose parse work explodes', () => {
  it('the parser stops at a budget linear in the source\'s "<" and says why', () => {
    const bomb = formattingBomb(200, 100);
    expect(() => parseHtmlFragment(bomb)).to.throw(ParseWorkExceeded);
    expect(elementBudget(bomb)).to.be.lessThan(4 * bomb.length);
  });

  it('a legitimate lesson fits well inside the budget', () => {
    const lesson = '<h2>Fotossíntese</h2><p>As <b>plantas</b> usam <i>luz</i>, <a href="https://example.org/a">água</a> e CO<sub>2</sub>.</p><table><tr><th>A</th><td>1</td></tr></table><ul><li>um</li><li>dois</li></ul>';
    expect(() => parseHtmlFragment(lesson)).to.not.throw();
    expect(sanitizeHtml(lesson).changed).to.equal(false);
    // Misnesting that browsers repair cheaply (a few rebuilt elements) is still parsed and cleaned, not escaped.
    expect(sanitizeHtml('<p><b>bold<p>still bold</b></p>').removed.map((r) => r.kind)).to.not.include('parse-work');
  });

  for (const [name, bomb] of [['distinct <b title>', formattingBomb(300, 150)], ['distinct <i lang>', anchorBomb(300, 150)]] as const) {
    it(`${name}: the view shows the field as text, the validator refuses it with a fix, isMarkup says markup`, () => {
      const result = sanitizeHtml(bomb);
      expect(result.changed).to.equal(true);
      expect(result.html).to.not.include('<');
      expect(result.removed.map((r) => r.kind)).to.deep.equal(['parse-work']);
      const findings = checkHtml(bomb);
      expect(findings.map((f) => f.rule)).to.include('html-malformed');
      expect(findings.map((f) => f.fix).join(' ')).to.include('Close every formatting element');
      expect(isMarkup(bomb)).to.equal(true);
    });
  }

  it('a whole document of bombs is served as text, within a 160 MB heap (before: out of memory)', async function () {
    this.timeout(60_000);
    const document = buildCompositionFromInput(fullOutline()) as unknown as { structure: Record<string, unknown>[] };
    document.structure[1]!['content'] = formattingBomb(3000, 1500);
    document.structure[2]!['content'] = anchorBomb(1000, 500);
    const json = JSON.stringify(document);
    const worker = new Worker(new URL('./parse-work-worker.ts', import.meta.url), { workerData: { json }, resourceLimits: { maxOldGenerationSizeMb: 160 } });
    const outcome = await Promise.race([
      once(worker, 'message').then(([message]) => ({ message: message as { viewOk: boolean; viewJson: string; valid: boolean; rules: string[] } })),
      once(worker, 'error').then(([error]) => ({ error: error as Error })),
    ]);
    await worker.terminate();
    expect('error' in outcome ? `${outcome.error.name}: ${outcome.error.message}` : 'finished').to.equal('finished');
    const { message } = outcome as { message: { viewOk: boolean; viewJson: string; valid: boolean; rules: string[] } };
    expect(message.valid).to.equal(false);
    expect(message.rules).to.include('html-malformed');
    expect(message.viewOk).to.equal(true);
    const viewed = JSON.parse(message.viewJson) as { structure: Record<string, string>[] };
    expect(viewed.structure[1]!['content']).to.not.include('<');
    expect(sanitizeCompositionForView(viewed).changed, 'what the view serves is clean').to.equal(false);
  });
});
