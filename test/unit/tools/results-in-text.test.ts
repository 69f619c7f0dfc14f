import { PassThrough } from 'node:stream';
import { expect } from 'chai';
import { createLogger } from '#common/logger.ts';
import { DEFAULT_VALIDATION_LIMITS } from '#server/composer/validator/limits.ts';
import { buildCompositionTool } from '#server/tools/build-composition.ts';
import { describeWidgetTool } from '#server/tools/describe-widget.ts';
import { saveCompositionTool } from '#server/tools/save-composition.ts';
import type { ComposerServices, StorageClient } from '#server/tools/services.ts';
import { toolErrorFrom } from '#server/tools/tool-errors.ts';
import { toolErrorResult, type ToolDefinition } from '#server/tools/tool-definition.ts';
import { validateCompositionTool } from '#server/tools/validate-composition.ts';
import { fullOutline } from '../composer/fixtures.ts';

/** What a client that passes only the text content to the model gives it. */
async function textOf(tool: unknown, input: unknown, storage?: StorageClient): Promise<string> {
  const services: ComposerServices = { version: 't', settings: { composerUrl: 'http://127.0.0.1:9/c', apiUrl: 'http://127.0.0.1:9/a', apiEnv: 'prd', accessToken: 't', projectKey: 'p', connectorUid: 'c' }, storage, browsers: undefined, limits: { ...DEFAULT_VALIDATION_LIMITS } };
  const context = { services, logger: createLogger({ component: 'test', stream: new PassThrough(), format: 'json' }), signal: new AbortController().signal, reportProgress: async () => {}, subject: 'test' };
  try {
    const result = await (tool as ToolDefinition<ComposerServices>).handler(input as never, context);
    return result.content.filter((c) => c.type === 'text').map((c) => (c as { text: string }).text).join('\n');
  } catch (error) {
    const toolError = toolErrorFrom(error);
    if (toolError) return (toolErrorResult(toolError).content[0] as { text: string }).text;
    throw error;
  }
}

/** The first line of `text` that parses as a JSON object. */
function jsonLine(text: string): Record<string, unknown> | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      return JSON.parse(line) as Record<string, unknown>;
    } catch {
      // not this line
    }
  }
  return undefined;
}

describe('tool results carry in text what a model needs for the next step', () => {
  it('build: the whole document, so a text-only client can pass it to save', async () => {
    const text = await textOf(buildCompositionTool, fullOutline());
    const doc = jsonLine(text);
    expect(doc?.['version']).to.equal('1.1');
    expect((doc?.['structure'] as unknown[] | undefined)?.length).to.be.greaterThan(3);
    expect(text).to.contain('composer_save_composition');
  });

  it('save refused: every problem with its path, rule and fix', async () => {
    const doc = jsonLine(await textOf(buildCompositionTool, fullOutline()))!;
    const structure = doc['structure'] as Record<string, unknown>[];
    const quiz = structure.find((w) => w['type'] === 'quiz-1')!;
    quiz['questions'] = [{ id: 'x', question: '<p>?</p>', answers: [] }];
    structure[1]!['content'] = '<p onclick="x()">hi</p>';
    const text = await textOf(saveCompositionTool, { composition: doc });
    expect(text).to.match(/^INVALID_COMPOSITION: The composition has \d+ errors? and was not saved\./);
    expect(text).to.contain('$.structure[1].content').and.to.contain('html-event-handler');
    expect(text).to.contain('.questions').and.to.contain('Fix:');
  });

  it('save done: uid, editor and learner URLs, the key and what to do next', async () => {
    const storage: StorageClient = { upload: async () => ({ uid: 'H4sIsaved', editorUrl: 'http://127.0.0.1:9/c/#/composer/H4sIsaved', created: true, idempotencyKey: 'sha256:x' }) as never, read: async () => ({}) };
    const doc = jsonLine(await textOf(buildCompositionTool, fullOutline()))!;
    const text = await textOf(saveCompositionTool, { composition: doc }, storage);
    expect(text).to.contain('uid H4sIsaved').and.to.contain('#/composer/H4sIsaved').and.to.contain('#/embed/composer/H4sIsaved').and.to.contain('sha256:x');
  });

  it('validate: every problem, not the first 15', async () => {
    const doc = jsonLine(await textOf(buildCompositionTool, fullOutline()))!;
    const structure = doc['structure'] as Record<string, unknown>[];
    for (let i = 0; i < 20; i++) structure.push({ id: `bad-${i}`, type: 'text-1', content: `<p onclick="x()">${i}</p>` });
    const text = await textOf(validateCompositionTool, { composition: doc });
    for (let i = 0; i < 20; i++) expect(text).to.contain(`$.structure[${structure.length - 20 + i}]`);
  });

  it('describe: the example and the JSON Schema, not only "see the structured result"', async () => {
    const text = await textOf(describeWidgetTool, { type: 'quiz-1' });
    expect(text).to.contain('"type":"quiz-1"').and.to.contain('JSON Schema: {');
    expect(text).to.not.contain('structured result carries');
  });
});
