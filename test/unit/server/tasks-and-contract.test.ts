import { expect } from 'chai';
import { z } from 'zod';
import { parseToolArguments, toolContract } from '#server/mcp/tool-contract.ts';
import { createTaskResultOf, detailedTaskOf, isAbandoned, isExpired, settle, STALE_WORKING_AFTER_MS, type TaskRecord } from '#server/mcp/tasks/task-record.ts';
import { parseToolInput } from '#server/tools/parse-input.ts';
import { ToolError, toolErrorResult, type ToolDefinition } from '#server/tools/tool-definition.ts';

const record: TaskRecord = { taskId: 't-1', subject: 's', tool: 'x', status: 'working', createdAt: Date.UTC(2026, 0, 1), lastUpdatedAt: Date.UTC(2026, 0, 1, 0, 0, 5), ttlMs: 60_000, pollIntervalMs: 1000, runner: 'r' };

describe('task records (SEP-2663 wire shapes)', () => {
  it('makes a flat CreateTaskResult with ISO timestamps and integer ttlMs/pollIntervalMs, nothing else', () => {
    expect(createTaskResultOf(record)).to.deep.equal({ resultType: 'task', taskId: 't-1', status: 'working', createdAt: '2026-01-01T00:00:00.000Z', lastUpdatedAt: '2026-01-01T00:00:05.000Z', ttlMs: 60_000, pollIntervalMs: 1000 });
  });

  it('inlines the result only once completed, the error only once failed', () => {
    const result = { content: [{ type: 'text' as const, text: 'ok' }] };
    expect(detailedTaskOf({ ...record, result })).to.not.have.property('result');
    expect(detailedTaskOf({ ...record, status: 'completed', result })).to.deep.include({ result });
    const error = { code: -32603, message: 'boom' };
    expect(detailedTaskOf({ ...record, status: 'failed', error })).to.deep.include({ error }).and.not.have.property('result');
    expect(detailedTaskOf({ ...record, status: 'cancelled' })).to.not.have.any.keys('result', 'error');
  });

  it('settles INTERNAL as failed (with the error body), any other result — tool errors too — as completed', () => {
    const internal = settle(toolErrorResult(new ToolError('INTERNAL', 'broke (reference x)', 'retry')));
    expect(internal.status).to.equal('failed');
    expect(internal.error).to.include({ code: -32603, message: 'broke (reference x)' });
    expect(settle(toolErrorResult(new ToolError('NOT_FOUND', 'no', 'look'))).status).to.equal('completed');
    expect(settle({ content: [] })).to.deep.equal({ status: 'completed', result: { content: [] } });
  });

  it('expires a task its TTL after creation, and presumes a working task abandoned after a silent stretch', () => {
    expect(isExpired(record, record.createdAt + 59_999)).to.equal(false);
    expect(isExpired(record, record.createdAt + 60_000)).to.equal(true);
    expect(isAbandoned(record, record.lastUpdatedAt + STALE_WORKING_AFTER_MS)).to.equal(false);
    expect(isAbandoned(record, record.lastUpdatedAt + STALE_WORKING_AFTER_MS + 1)).to.equal(true);
    expect(isAbandoned({ ...record, status: 'completed' }, Number.MAX_SAFE_INTEGER)).to.equal(false);
  });
});

describe('tool registration contract', () => {
  const input = z.object({ uid: z.string().trim().min(1), fullPage: z.boolean().default(false) }).strict();
  const tool: ToolDefinition<object> = {
    name: 't',
    title: 't',
    description: 'd',
    inputSchema: input,
    outputSchema: z.object({ ok: z.boolean() }),
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    handler: async () => ({ content: [] }),
  };

  it('parses the arguments once: the handler\'s own parseToolInput hands back the very same value', async () => {
    const parsed = await parseToolArguments(tool, { uid: '  abc ' });
    expect(parsed).to.deep.equal({ valid: true, value: { uid: 'abc', fullPage: false } });
    const value = (parsed as { value: unknown }).value;
    expect(parseToolInput(input, value)).to.equal(value);
    // Anything the transport did not parse is parsed (and refused) by the handler's own call.
    expect(() => parseToolInput(input, { uid: '' })).to.throw(ToolError);
  });

  it('reports arguments that do not parse as data (so the call is answered INVALID_INPUT and audited), never as a refusal', async () => {
    const parsed = await parseToolArguments(tool, { uid: 7, extra: true });
    expect(parsed.valid).to.equal(false);
    expect(parsed.valid ? [] : parsed.issues.map((i) => i.path.join('.'))).to.include('uid');
  });

  it('publishes input and output schemas as JSON Schema 2020-12, converted once', () => {
    const contract = toolContract(tool);
    expect(contract.inputJsonSchema['$schema']).to.equal('https://json-schema.org/draft/2020-12/schema');
    expect(contract.outputJsonSchema?.['$schema']).to.equal('https://json-schema.org/draft/2020-12/schema');
    expect((contract.inputJsonSchema['required'] as string[])).to.deep.equal(['uid']);
    expect(toolContract(tool)).to.equal(contract);
    expect(contract.input['~standard'].jsonSchema.input({ target: 'draft-2020-12' })).to.equal(contract.inputJsonSchema);
  });
});
