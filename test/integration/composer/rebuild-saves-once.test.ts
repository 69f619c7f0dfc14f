import { expect } from 'chai';
import { buildCompositionTool } from '#server/tools/build-composition.ts';
import { saveCompositionTool } from '#server/tools/save-composition.ts';
import type { ComposerServices } from '#server/tools/services.ts';
import type { ToolDefinition } from '#server/tools/tool-definition.ts';
import type { ComposerStandin } from '#support/composer-standin/standin.ts';
import { fullOutline } from '../../unit/composer/fixtures.ts';
import { callTool, errorOf, startStandinForSaves } from './composer-fixtures.ts';

const SECRET = 'rebuild-saves-once-secret-0123456789';
const build = buildCompositionTool as unknown as ToolDefinition<ComposerServices>;
const save = saveCompositionTool as unknown as ToolDefinition<ComposerServices>;

/**
 * Deterministic builds (issue 10 item 4): the same outline built twice is the same document, so its default
 * idempotency key (a hash of the content) is the same and build → save, rebuild → save stores one composition.
 */
describe('Rebuilding an outline and saving it again stores one composition (Composer stand-in)', function () {
  this.timeout(30_000);
  let standin: ComposerStandin;
  let services: ComposerServices;

  before(async () => {
    ({ standin, services } = await startStandinForSaves(SECRET));
  });
  after(() => standin?.stop());

  /** Builds with the tool, from the outline as a client would send it (fresh JSON each time), and saves the result without a key. */
  async function buildAndSave(outline: unknown): Promise<{ uid: string; created: boolean; idempotencyKey: string; composition: unknown }> {
    const built = await callTool(build, JSON.parse(JSON.stringify(outline)), services);
    expect(errorOf(built.result)).to.equal(undefined);
    const { composition } = built.result.structuredContent as { composition: Record<string, unknown> };
    const saved = await callTool(save, { composition }, services);
    expect(errorOf(saved.result), JSON.stringify(saved.result.content)).to.equal(undefined);
    return { ...(saved.result.structuredContent as { uid: string; created: boolean; idempotencyKey: string }), composition };
  }

  it('build → save, rebuild → save: the same uid, created once, one composition stored with the built document', async () => {
    const before = standin.compositions().length;
    const first = await buildAndSave(fullOutline({ title: 'Rebuilt lesson' }));
    const second = await buildAndSave(fullOutline({ title: 'Rebuilt lesson' }));
    expect(first.created).to.equal(true);
    expect(second).to.include({ uid: first.uid, created: false, idempotencyKey: first.idempotencyKey });
    expect(JSON.stringify(second.composition)).to.equal(JSON.stringify(first.composition));
    const stored = standin.compositions().slice(before);
    expect(stored.map((c) => c.uid)).to.deep.equal([first.uid]);
    expect(JSON.parse(stored[0]!.content)).to.deep.equal(first.composition);
  });

  it('a one-character change to the outline is another lesson: a second composition is stored', async () => {
    const before = standin.compositions().length;
    const first = await buildAndSave(fullOutline({ title: 'Lesson A' }));
    const second = await buildAndSave(fullOutline({ title: 'Lesson B' }));
    expect(second.created).to.equal(true);
    expect(second.uid).to.not.equal(first.uid);
    expect(standin.compositions().length - before).to.equal(2);
  });
});
