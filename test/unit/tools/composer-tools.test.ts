import { PassThrough } from 'node:stream';
import { expect } from 'chai';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { createLogger } from '#common/logger.ts';
import { WIDGET_TYPES } from '#server/composer/model/widgets.ts';
import { DEFAULT_VALIDATION_LIMITS } from '#server/composer/validator/limits.ts';
import { buildCompositionTool } from '#server/tools/build-composition.ts';
import { describeWidgetTool } from '#server/tools/describe-widget.ts';
import { guidanceTool } from '#server/tools/guidance.ts';
import { allTools } from '#server/tools/index.ts';
import { listWidgetsTool } from '#server/tools/list-widgets.ts';
import type { ComposerServices } from '#server/tools/services.ts';
import { toolErrorFrom } from '#server/tools/tool-errors.ts';
import { ToolError, toolErrorResult } from '#server/tools/tool-definition.ts';
import type { ToolContext, ToolDefinition } from '#server/tools/tool-definition.ts';
import { validateCompositionTool } from '#server/tools/validate-composition.ts';
import { fullOutline } from '../composer/fixtures.ts';

const services: ComposerServices = {
  version: '0.0.0-test',
  settings: { composerUrl: 'http://127.0.0.1:9/composer', apiUrl: 'http://127.0.0.1:9/api', apiEnv: 'prd' },
  storage: undefined,
  browsers: undefined,
  limits: { ...DEFAULT_VALIDATION_LIMITS },
};

function context(overrides: Partial<ComposerServices> = {}): ToolContext<ComposerServices> {
  return {
    services: { ...services, ...overrides },
    logger: createLogger({ component: 'test', stream: new PassThrough(), format: 'json' }),
    signal: new AbortController().signal,
    reportProgress: async () => {},
    subject: 'test',
  };
}

/** Calls a handler and checks the result carries text plus structured content matching the output schema. */
async function call(tool: ToolDefinition<ComposerServices>, input: unknown, ctx = context()): Promise<Record<string, unknown>> {
  const result = await tool.handler(input as never, ctx);
  expect(result.isError).to.not.equal(true);
  expect(result.content[0]?.type).to.equal('text');
  expect((result.content[0] as { text: string }).text.length).to.be.greaterThan(0);
  const parsed = tool.outputSchema?.safeParse(result.structuredContent);
  expect(parsed?.success, JSON.stringify(parsed?.error?.issues)).to.equal(true);
  return result.structuredContent as Record<string, unknown>;
}

/** Calls a handler expecting a ToolError and returns it. */
async function callError(tool: ToolDefinition<ComposerServices>, input: unknown): Promise<ToolError> {
  try {
    await tool.handler(input as never, context());
  } catch (error) {
    const toolError = toolErrorFrom(error);
    expect(toolError, String(error)).to.be.instanceOf(ToolError);
    return toolError!;
  }
  throw new Error('expected a ToolError');
}

const erased = (tool: unknown) => tool as ToolDefinition<ComposerServices>;

describe('composer tools (handlers called directly)', () => {
  it('lists the five offline tools, read-only, idempotent, closed-world, with strict schemas', () => {
    const tools = allTools().filter((t) => ['composer_list_widgets', 'composer_describe_widget', 'composer_guidance', 'composer_build_composition', 'composer_validate_composition'].includes(t.name));
    expect(tools).to.have.length(5);
    for (const tool of tools) {
      expect(tool.annotations, tool.name).to.include({ readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false });
      expect(tool.inputSchema.safeParse({ unexpected: 1 }).success, tool.name).to.equal(false);
      expect(tool.outputSchema, tool.name).to.not.equal(undefined);
    }
  });

  it('composer_list_widgets lists every widget type', async () => {
    const result = await call(erased(listWidgetsTool), {});
    expect((result['widgets'] as { type: string }[]).map((w) => w.type)).to.deep.equal([...WIDGET_TYPES]);
    expect((await callError(erased(listWidgetsTool), { verbose: true })).code).to.equal('INVALID_INPUT');
  });

  it('composer_describe_widget describes a type, and answers NOT_FOUND with the known types otherwise', async () => {
    const result = await call(erased(describeWidgetTool), { type: 'quiz-1' });
    expect(result).to.include({ type: 'quiz-1', confidence: 'known', outlineSection: 'quiz' });
    const error = await callError(erased(describeWidgetTool), { type: 'poll-1' });
    expect(error.code).to.equal('NOT_FOUND');
    expect(error.fix).to.include('quiz-1');
    expect(error.details?.['knownTypes']).to.deep.equal([...WIDGET_TYPES]);
    expect(toolErrorResult(error).isError).to.equal(true);
    expect((await callError(erased(describeWidgetTool), { type: 42 })).code).to.equal('INVALID_INPUT');
  });

  it('composer_guidance plans in both languages and rejects a grade it cannot read', async () => {
    const pt = await call(erased(guidanceTool), { topic: 'Frações', subject: 'Matemática', grade: '6º ano' });
    expect(pt['language']).to.equal('pt_br');
    expect((pt['sections'] as { widget: string }[])[0]?.widget).to.equal('head-1');
    const en = await call(erased(guidanceTool), { topic: 'Volcanoes', subject: 'geography', grade: '10th grade', language: 'en' });
    expect((en['grade'] as { band: string }).band).to.equal('high');
    const error = await callError(erased(guidanceTool), { topic: 'x', subject: 'math', grade: 'sometime' });
    expect(error.code).to.equal('INVALID_INPUT');
    expect(error.fix).to.include('7º ano');
    const missing = await callError(erased(guidanceTool), { topic: 'x', grade: '7th grade' });
    expect(missing.message).to.include('$.subject');
  });

  it('composer_build_composition returns the document and a clean report; bad outlines name the path', async () => {
    const result = await call(erased(buildCompositionTool), fullOutline());
    expect(result['validation']).to.deep.include({ valid: true, errorCount: 0, warningCount: 0 });
    expect((result['widgets'] as { type: string }[])[0]?.type).to.equal('head-1');
    expect((result['composition'] as { version: string }).version).to.equal('1.1');

    const short = await call(erased(buildCompositionTool), fullOutline({ sections: [{ type: 'quiz', questions: [{ question: 'q', choices: [{ text: 'a', correct: false }, { text: 'b', correct: false }] }] }] }));
    const report = short['validation'] as { valid: boolean; problems: { rule: string; path: string }[] };
    expect(report.valid).to.equal(false);
    expect(report.problems.map((p) => `${p.rule} ${p.path}`)).to.include.members(['quiz-question-count $.structure[1].questions', 'quiz-correct-choice $.structure[1].questions[0].choices']);

    const error = await callError(erased(buildCompositionTool), fullOutline({ sections: [{ type: 'image', url: 'javascript:alert(1)' }] as never }));
    expect(error.code).to.equal('INVALID_INPUT');
    expect(error.message).to.include('$.sections[0].url');
  });

  it('composer_validate_composition accepts objects and JSON strings; unparseable or oversized strings are INVALID_COMPOSITION', async () => {
    const built = await call(erased(buildCompositionTool), fullOutline());
    const composition = built['composition'] as Record<string, unknown>;
    expect(await call(erased(validateCompositionTool), { composition })).to.include({ valid: true });
    expect(await call(erased(validateCompositionTool), { composition: JSON.stringify(composition) })).to.include({ valid: true });

    const broken = { ...composition, structure: [{ type: 'text-1', content: '<p onclick="x()">x</p>' }] };
    const report = await call(erased(validateCompositionTool), { composition: broken });
    expect(report['valid']).to.equal(false);
    const result = await validateCompositionTool.handler({ composition: broken }, context());
    expect((result.content[0] as { text: string }).text).to.match(/^Invalid: \d+ error/);
    expect((result.content[0] as { text: string }).text).to.include('html-event-handler at $.structure[0].content');

    expect((await callError(erased(validateCompositionTool), { composition: '{"version": ' })).code).to.equal('INVALID_COMPOSITION');
    const tiny = { ...services, limits: { ...DEFAULT_VALIDATION_LIMITS, maxDocumentBytes: 100 } };
    let caught: unknown;
    try {
      await validateCompositionTool.handler({ composition: JSON.stringify(composition) }, context(tiny));
    } catch (error) {
      caught = error;
    }
    expect((caught as ToolError).code).to.equal('INVALID_COMPOSITION');
    expect((await callError(erased(validateCompositionTool), { composition: 42 })).code).to.equal('INVALID_INPUT');
  });
});

describe('composer tools through the MCP SDK', () => {
  let client: Client;
  let server: McpServer;

  before(async () => {
    server = new McpServer({ name: 'test', version: '0.0.0' });
    for (const tool of allTools()) {
      server.registerTool(tool.name, { title: tool.title, description: tool.description, inputSchema: tool.inputSchema, ...(tool.outputSchema ? { outputSchema: tool.outputSchema } : {}), annotations: tool.annotations },
        async (input: unknown): Promise<CallToolResult> => {
          try {
            return (await tool.handler(input as never, context())) as CallToolResult;
          } catch (error) {
            const toolError = toolErrorFrom(error);
            if (toolError) return toolErrorResult(toolError) as CallToolResult;
            throw error;
          }
        });
    }
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    client = new Client({ name: 'test-client', version: '0.0.0' });
    await Promise.all([server.connect(serverSide), client.connect(clientSide)]);
  });

  after(async () => {
    await client.close();
    await server.close();
  });

  it('publishes JSON Schemas for every tool and runs the build → validate workflow', async () => {
    const { tools } = await client.listTools();
    const names = tools.map((t) => t.name);
    expect(names).to.include.members(['composer_list_widgets', 'composer_describe_widget', 'composer_guidance', 'composer_build_composition', 'composer_validate_composition']);
    const build = tools.find((t) => t.name === 'composer_build_composition');
    expect(build?.inputSchema.properties).to.have.property('sections');
    expect(build?.outputSchema).to.not.equal(undefined);

    const built = await client.callTool({ name: 'composer_build_composition', arguments: fullOutline() });
    expect(built.isError).to.not.equal(true);
    const composition = (built.structuredContent as { composition: unknown }).composition;
    const validated = await client.callTool({ name: 'composer_validate_composition', arguments: { composition } });
    expect((validated.structuredContent as { valid: boolean }).valid).to.equal(true);

    const missing = await client.callTool({ name: 'composer_describe_widget', arguments: { type: 'nope-1' } });
    expect(missing.isError).to.equal(true);
    expect((missing.content as { text: string }[])[0]?.text).to.match(/^NOT_FOUND: Widget type "nope-1"/);
  });
});
