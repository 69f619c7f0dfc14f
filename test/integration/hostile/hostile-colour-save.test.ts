import { expect } from 'chai';
import { saveCompositionTool } from '#server/tools/save-composition.ts';
import type { ComposerServices } from '#server/tools/services.ts';
import type { ToolDefinition } from '#server/tools/tool-definition.ts';
import { validateCompositionTool } from '#server/tools/validate-composition.ts';
import type { ComposerStandin } from '#support/composer-standin/standin.ts';
import { everyWidgetComposition } from '#support/fixtures/every-widget-composition.ts';
import { callTool, errorOf, startStandinForSaves } from '../composer/composer-fixtures.ts';

const SECRET = 'hostile-colour-save-secret-0123456789';
const save = saveCompositionTool as unknown as ToolDefinition<ComposerServices>;
const validate = validateCompositionTool as unknown as ToolDefinition<ComposerServices>;

type Problem = { path: string; rule: string; severity: string; message: string };

/**
 * CSS an MCP client could put in a colour field, which an app writing the field into a `style` attribute (the
 * stand-in does with a head's secondary_color) would run as CSS in teachers' browsers: requests, overlays, old-IE
 * expressions, declarations smuggled after a valid colour, a colour followed by a newline, markup.
 */
const HOSTILE_COLOURS = [
  'url(https://attacker.example/x.png)',
  'expression(alert(1))',
  'red;background:url(//attacker.example/x)',
  '#AA2C23;background-image:url(//attacker.example/x)',
  '#AA2C23\n',
  '#AA2C23 !important',
  '#AA2C23"><script>alert(1)</script>',
  '#AA2C23/**/',
  'var(--attacker)',
  'red',
  'rgb(0,0,0)',
  '#AA2C2',
  '#GGGGGG',
  '＃AA2C23',
  '#AA2C23\u200b',
  '',
];

/**
 * Every colour field of the model — a head's primary, secondary and avatar border colours, and a widget's
 * background — refuses what is not a hex colour, in composer_validate_composition (at the field's path, saying a
 * hex colour is expected) and in composer_save_composition (INVALID_COMPOSITION with the same path, nothing
 * uploaded to the Composer stand-in).
 */
describe('Colour fields take hex colours only: validate and save refuse CSS and anything else, and nothing is stored (Composer stand-in)', function () {
  this.timeout(60_000);
  let standin: ComposerStandin;
  let services: ComposerServices;

  before(async () => {
    ({ standin, services } = await startStandinForSaves(SECRET));
  });
  after(() => standin?.stop());

  /** The widget index of the first widget of `type` in everyWidgetComposition(). */
  const indexOf = (type: string) => (everyWidgetComposition()['structure'] as { type: string }[]).findIndex((w) => w.type === type);

  const fields = [
    { type: 'head-1', field: 'primary_color' },
    { type: 'head-1', field: 'secondary_color' },
    { type: 'head-1', field: 'avatar_border_color' },
    { type: 'text-1', field: 'background_color' },
  ];

  for (const { type, field } of fields) {
    it(`refuses every non-hex value in ${type}.${field}, at its path, and uploads nothing`, async () => {
      const index = indexOf(type);
      expect(index, `a ${type} widget in the fixture`).to.be.at.least(0);
      const path = `$.structure[${index}].${field}`;
      const before = standin.compositions().length;
      for (const colour of HOSTILE_COLOURS) {
        const doc = everyWidgetComposition();
        (doc['structure'] as Record<string, unknown>[])[index]![field] = colour;
        const checked = await callTool(validate, { composition: doc }, services);
        const report = checked.result.structuredContent as { valid: boolean; problems: Problem[] };
        expect(report.valid, JSON.stringify(colour)).to.equal(false);
        const atPath = report.problems.filter((p) => p.path === path && p.severity === 'error');
        expect(atPath.map((p) => p.message), `${JSON.stringify(colour)}: problems ${JSON.stringify(report.problems)}`).to.satisfy((messages: string[]) => messages.some((m) => /hex colou?r/i.test(m)));

        const saved = await callTool(save, { composition: doc }, services);
        const error = errorOf(saved.result);
        expect(error?.code, JSON.stringify(colour)).to.equal('INVALID_COMPOSITION');
        const problems = (error?.details?.['problems'] ?? []) as Problem[];
        expect(problems.map((p) => p.path), JSON.stringify(colour)).to.include(path);
      }
      expect(standin.compositions().length - before, 'compositions uploaded').to.equal(0);
    });
  }

  it('saves the same document with hex colours in those fields (#RGB and #RRGGBB, any case)', async () => {
    const doc = everyWidgetComposition('Cores');
    const structure = doc['structure'] as Record<string, unknown>[];
    structure[indexOf('head-1')]!['primary_color'] = '#abc';
    structure[indexOf('head-1')]!['secondary_color'] = '#AA2C23';
    structure[indexOf('text-1')]!['background_color'] = '#ffFFee';
    const saved = await callTool(save, { composition: doc }, services);
    expect(errorOf(saved.result)).to.equal(undefined);
  });
});
