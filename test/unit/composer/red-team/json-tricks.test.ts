import { expect } from 'chai';
import { validateCompositionTool } from '#server/tools/validate-composition.ts';
import type { ComposerServices } from '#server/tools/services.ts';
import type { ToolDefinition } from '#server/tools/tool-definition.ts';
import { everyWidgetComposition } from '#support/fixtures/every-widget-composition.ts';
import { callTool, composerServices } from '../../../integration/composer/composer-fixtures.ts';

const validate = validateCompositionTool as unknown as ToolDefinition<ComposerServices>;
const services = composerServices({ settings: { composerUrl: 'http://app.test', apiUrl: 'http://api.test', apiEnv: 'prd' } });
const lesson = () => JSON.stringify(everyWidgetComposition('Truques'));
const withWidget = (widget: string) => lesson().replace('"structure":[', `"structure":[${widget},`);

/**
 * Red team (held): JSON-level tricks in a composition an MCP client sends to validate (and so to save, which runs
 * the same validator on the same object and uploads its serialisation).
 */
describe('red team: JSON tricks in a composition from an MCP client', () => {
  afterEach(() => {
    expect(({} as Record<string, unknown>)['polluted'], 'Object.prototype').to.equal(undefined);
  });

  for (const form of ['a JSON string', 'an object'] as const) {
    const send = (json: string) => callTool(validate, { composition: form === 'an object' ? JSON.parse(json) : json }, services);

    it(`${form}: "__proto__" and "constructor.prototype" keys pollute nothing and are reported like any unknown field`, async () => {
      const { result } = await send(withWidget('{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}},"type":"text-1","id":"a"}'));
      expect((result.structuredContent as { valid: boolean }).valid).to.equal(false);
      const { result: top } = await send(`{"__proto__":{"polluted":"yes"},${lesson().slice(1)}`);
      expect(top.isError).to.not.equal(true);
    });

    it(`${form}: 5 000 levels of nesting get one clear error, not a stack overflow`, async () => {
      const { result } = await send(withWidget(`{"type":"text-1","id":"z","content":${'['.repeat(5_000)}${']'.repeat(5_000)}}`));
      expect(JSON.stringify(result.content)).to.include('document-depth');
    });

    it(`${form}: 1e400 (Infinity after parsing) is refused at its path, never serialised as null silently`, async () => {
      const { result } = await send(lesson().replace('"padding_top":0', '"padding_top":1e400'));
      expect(JSON.stringify(result.structuredContent)).to.include('padding_top').and.include('Infinity');
    });
  }

  it('a string form with duplicate keys is judged on the copy JSON.parse keeps, which is the copy save would upload', async () => {
    const { result } = await callTool(validate, { composition: withWidget('{"type":"text-1","id":"d","content":"<img src=x onerror=alert(1)>","content":"<p>ok</p>"}') }, services);
    // Save takes an object (the transport's JSON.parse already kept the last copy) and uploads its serialisation: the
    // first copy can never be stored.
    expect(JSON.stringify(result.structuredContent)).to.not.include('html-event-handler');
  });
});
