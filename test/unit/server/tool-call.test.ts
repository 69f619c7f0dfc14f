import { expect } from 'chai';
import { PassThrough } from 'node:stream';
import { z } from 'zod';
import type { CallToolResult } from '@modelcontextprotocol/server';
import { createLogger } from '#common/logger.ts';
import { InFlightTracker } from '#common/shutdown.ts';
import { compositionUidOf, outcomeOf, runToolCall, subjectOf, type CallContext, type ToolCallEnvironment } from '#server/mcp/tool-call.ts';
import { parseToolArguments } from '#server/mcp/tool-contract.ts';
import type { ToolMetrics } from '#server/mcp/tool-metrics.ts';
import { contentLanguageOf, createLessonMessages } from '#server/mcp/create-lesson-prompt.ts';
import { guidanceTool } from '#server/tools/guidance.ts';
import { ToolError, toolErrorOf, toolErrorResult, type ToolDefinition } from '#server/tools/tool-definition.ts';

function harness() {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (c: Buffer) => (text += c.toString()));
  const recorded: Array<[string, string, number]> = [];
  const metrics = { record: (tool: string, outcome: string, ms: number) => recorded.push([tool, outcome, ms]) } as unknown as ToolMetrics;
  const env: ToolCallEnvironment<{ n: number }> = {
    services: { n: 1 },
    logger: createLogger({ component: 'test', format: 'json', stream, level: 'debug' }),
    metrics,
    inFlight: new InFlightTracker(),
    defaultSubject: 'anonymous',
  };
  const lines = () =>
    text
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { env, lines, recorded };
}

function extra(options: { progressToken?: string; clientId?: string; signal?: AbortSignal } = {}) {
  const notifications: unknown[] = [];
  const value: CallContext = {
    requestId: 1,
    signal: options.signal ?? new AbortController().signal,
    progressToken: options.progressToken,
    authSubject: options.clientId,
    era: 'modern',
    notify: async (n: unknown) => {
      notifications.push(n);
    },
  };
  return { value, notifications };
}

/** Runs a call the way the SDK does: the arguments parsed once by the tool's contract, then the tool layer. */
async function call<S>(definition: ToolDefinition<S>, args: unknown, context: CallContext, env: ToolCallEnvironment<S>): Promise<CallToolResult> {
  return runToolCall(definition, await parseToolArguments(definition, args), context, env);
}

function tool(handler: ToolDefinition<{ n: number }>['handler']): ToolDefinition<{ n: number }> {
  return {
    name: 'composer_test',
    title: 'Test',
    description: 'test tool',
    inputSchema: z.object({ uid: z.string().optional() }),
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    handler,
  };
}

describe('tool call wrapper', () => {
  it('audits a successful call once with subject, tool, uid, outcome and duration, and records metrics', async () => {
    const h = harness();
    const result = await call(tool(async () => ({ content: [{ type: 'text', text: 'ok' }] })), { uid: 'u-1', secretish: 'x' }, extra({ clientId: 'alice' }).value, h.env);
    expect(result.isError).to.equal(undefined);
    const audits = h.lines().filter((l) => l['message'] === 'Tool call completed');
    expect(audits).to.have.length(1);
    expect(audits[0]).to.include({ subject: 'alice', tool: 'composer_test', compositionUid: 'u-1', outcome: 'ok' });
    expect(audits[0]).to.not.have.property('secretish');
    expect(h.recorded).to.have.length(1);
    expect(h.recorded[0]!.slice(0, 2)).to.deep.equal(['composer_test', 'ok']);
    expect(h.env.inFlight.count).to.equal(0);
  });

  it('turns a ToolError into its isError result and audits its code', async () => {
    const h = harness();
    const result = await call(
      tool(async () => {
        throw new ToolError('NOT_FOUND', 'No such composition.', 'Check the uid.');
      }),
      {},
      extra().value,
      h.env,
    );
    expect(toolErrorOf(result)?.code).to.equal('NOT_FOUND');
    expect(h.lines().find((l) => l['message'] === 'Tool call completed')).to.include({ outcome: 'NOT_FOUND', subject: 'anonymous' });
  });

  it('answers an unexpected error with INTERNAL and a reference, logs it once, and sends no stack to the client', async () => {
    const h = harness();
    const result = await call(
      tool(async () => {
        throw new TypeError('cannot read properties of undefined (at /srv/internal/file.ts:12)');
      }),
      {},
      extra().value,
      h.env,
    );
    const body = toolErrorOf(result)!;
    expect(body.code).to.equal('INTERNAL');
    expect(body.message).to.match(/reference [0-9a-f-]{36}/);
    expect(JSON.stringify(result)).to.not.include('/srv/internal');
    const failures = h.lines().filter((l) => l['message'] === 'Tool call failed unexpectedly');
    expect(failures).to.have.length(1);
    expect(h.lines().find((l) => l['message'] === 'Tool call completed')).to.include({ outcome: 'INTERNAL' });
  });

  it('answers CANCELLED when the request signal aborts the work', async () => {
    const h = harness();
    const controller = new AbortController();
    const pending = call(
      tool(
        (_input, ctx) =>
          new Promise<CallToolResult>((_resolve, reject) => {
            ctx.signal.addEventListener('abort', () => reject(Object.assign(new Error('aborted'), { name: 'AbortError' })));
          }),
      ),
      {},
      extra({ signal: controller.signal }).value,
      h.env,
    );
    setTimeout(() => controller.abort(), 20);
    expect(toolErrorOf(await pending)?.code).to.equal('CANCELLED');
  });

  it('does not start the handler when the request was cancelled before it could run', async () => {
    const h = harness();
    let ran = false;
    const controller = new AbortController();
    controller.abort();
    const result = await call(
      tool(async () => {
        ran = true;
        return { content: [] };
      }),
      {},
      extra({ signal: controller.signal }).value,
      h.env,
    );
    expect(ran).to.equal(false);
    expect(toolErrorOf(result)?.code).to.equal('CANCELLED');
  });

  it('sends progress notifications only when the request carries a progress token', async () => {
    const h = harness();
    const progressing = tool(async (_input, ctx) => {
      await ctx.reportProgress(1, 2, 'half');
      return { content: [] };
    });
    const withToken = extra({ progressToken: 'p-1' });
    await call(progressing, {}, withToken.value, h.env);
    expect(withToken.notifications).to.deep.equal([{ method: 'notifications/progress', params: { progressToken: 'p-1', progress: 1, total: 2, message: 'half' } }]);
    const without = extra();
    await call(progressing, {}, without.value, h.env);
    expect(without.notifications).to.deep.equal([]);
  });

  it('answers arguments that break the input schema with INVALID_INPUT naming each one, without running the handler', async () => {
    const h = harness();
    let ran = false;
    const strict: ToolDefinition<{ n: number }> = {
      ...tool(async () => {
        ran = true;
        return { content: [] };
      }),
      inputSchema: z.object({ uid: z.string(), count: z.number().int() }).strict(),
    };
    const result = await call(strict, { uid: 7, count: 'x', extra: 1 }, extra().value, h.env);
    expect(ran).to.equal(false);
    const error = toolErrorOf(result)!;
    expect(error.code).to.equal('INVALID_INPUT');
    expect(error.message).to.include('uid: ').and.include('count: ').and.include('extra');
    expect(h.lines().find((l) => l['message'] === 'Tool call completed')).to.include({ outcome: 'INVALID_INPUT' });
    expect(h.recorded[0]![1]).to.equal('INVALID_INPUT');
  });

  it('answers INTERNAL when a tool returns structured content that breaks its own output schema', async () => {
    const h = harness();
    const broken: ToolDefinition<{ n: number }> = {
      ...tool(async () => ({ content: [], structuredContent: { valid: 'yes' } })),
      outputSchema: z.object({ valid: z.boolean() }),
    };
    const result = await call(broken, {}, extra().value, h.env);
    expect(toolErrorOf(result)?.code).to.equal('INTERNAL');
    expect(h.lines().filter((l) => l['message'] === 'Tool call failed unexpectedly')).to.have.length(1);
  });

  it('derives outcome, uid and subject', () => {
    expect(outcomeOf({ content: [] })).to.equal('ok');
    expect(outcomeOf(toolErrorResult(new ToolError('BROWSER_BUSY', 'busy', 'retry')))).to.equal('BROWSER_BUSY');
    expect(outcomeOf({ content: [], isError: true })).to.equal('ERROR');
    expect(compositionUidOf({}, { content: [], structuredContent: { uid: 'from-result' } })).to.equal('from-result');
    expect(compositionUidOf({ uid: 'from-input' }, undefined)).to.equal('from-input');
    expect(subjectOf({}, 'stdio')).to.equal('stdio');
  });
});

describe('create_lesson prompt', () => {
  it('walks guidance → build → validate → save → open with the given topic, subject and grade', () => {
    const prompt = createLessonMessages({ topic: 'Frações', subject: 'Matemática', grade: '5º ano', language: 'pt' });
    const text = (prompt.messages[0]!.content as { text: string }).text;
    const order = ['composer_guidance', 'composer_build_composition', 'composer_validate_composition', 'composer_save_composition', 'composer_open_composition'].map((t) => text.indexOf(t));
    expect(order.every((i) => i >= 0)).to.equal(true);
    expect(order.toSorted((a, b) => a - b)).to.deep.equal(order);
    expect(text).to.include('Frações').and.include('Matemática').and.include('5º ano').and.include('Portuguese');
  });

  it('tells the model a language code the guidance tool accepts', () => {
    for (const [given, code] of [['pt', 'pt_br'], ['pt-BR', 'pt_br'], [undefined, 'pt_br'], ['English', 'en'], ['en', 'en']] as const) {
      expect(contentLanguageOf(given)).to.equal(code);
      const text = (createLessonMessages({ topic: 't', subject: 's', grade: 'g', language: given }).messages[0]!.content as { text: string }).text;
      expect(text).to.include(`language "${code}"`);
      expect(guidanceTool.inputSchema.safeParse({ topic: 't', subject: 's', grade: 'g', language: code }).success).to.equal(true);
    }
  });
});

describe('tool call wrapper: secrets in results', () => {
  it('redacts a registered secret from whatever a tool returns, success or error', async () => {
    const { secretRedactor } = await import('#common/redaction.ts');
    const canary = 'tool-call-canary-secret-8842';
    secretRedactor.add(canary);
    const h = harness();
    const ok = await call(tool(async () => ({ content: [{ type: 'text', text: `echo ${canary}` }], structuredContent: { echoed: canary }, _meta: { note: canary } })), {}, extra().value, h.env);
    expect(JSON.stringify(ok)).to.not.include(canary);
    const failed = await call(
      tool(async () => {
        throw new ToolError('UPSTREAM_ERROR', `The API echoed Project-Key: ${canary}`, 'Retry.', { details: { upstream: canary } });
      }),
      {},
      extra().value,
      h.env,
    );
    expect(JSON.stringify(failed)).to.not.include(canary);
    expect(toolErrorOf(failed)?.code).to.equal('UPSTREAM_ERROR');
  });
});
