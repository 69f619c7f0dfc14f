import { expect } from 'chai';
import { saveCompositionTool } from '#server/tools/save-composition.ts';
import type { ComposerServices } from '#server/tools/services.ts';
import type { ToolDefinition } from '#server/tools/tool-definition.ts';
import { validateCompositionTool } from '#server/tools/validate-composition.ts';
import type { ComposerStandin } from '#support/composer-standin/standin.ts';
import { everyWidgetComposition } from '#support/fixtures/every-widget-composition.ts';
import { HOSTILE_HTML } from '#support/fixtures/hostile-html.ts';
import { callTool, errorOf, startStandinForSaves } from '../composer/composer-fixtures.ts';

const SECRET = 'hostile-html-save-secret-0123456789';
const save = saveCompositionTool as unknown as ToolDefinition<ComposerServices>;
const validate = validateCompositionTool as unknown as ToolDefinition<ComposerServices>;

type Problem = { path: string; rule: string; severity: string; message: string };

/**
 * The tools refuse hostile HTML before anything reaches the storage API: for every payload class, placed in a known
 * widget's HTML field, deep in a widget of an unknown type, and in the metadata, composer_validate_composition
 * reports it at its path and composer_save_composition answers INVALID_COMPOSITION with those problems and uploads
 * nothing to the Composer stand-in.
 */
describe('Hostile HTML is refused by validate and save, and nothing is stored (Composer stand-in)', function () {
  this.timeout(60_000);
  let standin: ComposerStandin;
  let services: ComposerServices;

  before(async () => {
    ({ standin, services } = await startStandinForSaves(SECRET));
  });
  after(() => standin?.stop());

  const placements: { where: string; path: string; place: (doc: Record<string, unknown>, html: string) => void }[] = [
    { where: 'a text-1 content', path: '$.structure[1].content', place: (doc, html) => { (doc['structure'] as Record<string, unknown>[])[1]!['content'] = html; } },
    { where: 'an unknown widget type', path: '$.structure[9].panels[0].body', place: (doc, html) => { (doc['structure'] as unknown[]).push({ id: 'f47ac10b-58cc-11cf-a447-00aa00a0b0c1', type: 'accordion-9', panels: [{ body: html }] }); } },
    { where: 'the metadata title', path: '$.metadata.title', place: (doc, html) => { (doc['metadata'] as Record<string, unknown>)['title'] = html; } },
  ];

  for (const { where, path, place } of placements) {
    it(`refuses every payload in ${where}, at ${path}, and uploads nothing`, async () => {
      const before = standin.compositions().length;
      for (const payload of HOSTILE_HTML) {
        const doc = everyWidgetComposition();
        place(doc, payload.html('alert(1)'));
        const checked = await callTool(validate, { composition: doc }, services);
        const report = checked.result.structuredContent as { valid: boolean; problems: Problem[] };
        expect(report.valid, payload.name).to.equal(false);
        expect(report.problems.filter((p) => p.path === path && p.severity === 'error').length, payload.name).to.be.greaterThan(0);

        const saved = await callTool(save, { composition: doc }, services);
        const error = errorOf(saved.result);
        expect(error?.code, payload.name).to.equal('INVALID_COMPOSITION');
        const problems = (error?.details?.['problems'] ?? []) as Problem[];
        expect(problems.filter((p) => p.path === path).map((p) => p.rule), payload.name).to.deep.equal(report.problems.filter((p) => p.path === path).map((p) => p.rule));
      }
      expect(standin.compositions().length - before, 'compositions uploaded').to.equal(0);
    });
  }

  it('still saves the same document without the payload (the refusal is the payload, not the placement)', async () => {
    const saved = await callTool(save, { composition: everyWidgetComposition('Clean') }, services);
    expect(errorOf(saved.result)).to.equal(undefined);
  });
});
