import { expect } from 'chai';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { toolErrorOf } from '#server/tools/tool-definition.ts';
import { connectHttp, SAMPLE_OUTLINE, startServerProcess, type ServerProcess } from './server-harness.ts';

const EXPECTED_TOOLS = [
  'composer_list_widgets',
  'composer_describe_widget',
  'composer_guidance',
  'composer_build_composition',
  'composer_validate_composition',
  'composer_save_composition',
  'composer_get_composition',
  'composer_open_composition',
  'composer_preview_composition',
  'composer_status',
];

describe('server over Streamable HTTP (real process, real SDK client)', function () {
  this.timeout(60000);
  let server: ServerProcess;
  let client: Client;

  before(async () => {
    // A small body limit needs a document size limit below it (the server refuses a body limit a save cannot fit in).
    server = await startServerProcess({ env: { COMPOSER_MCP_HTTP__BODY_LIMIT: '64kb', COMPOSER_MCP_COMPOSER__LIMITS__MAX_DOCUMENT_BYTES: '40000' } });
    client = await connectHttp(server.url);
  });

  after(async () => {
    await client?.close();
    await server?.stop();
  });

  it('identifies itself as composer-mcp with the package version and offers tools, resources and prompts', () => {
    const info = client.getServerVersion();
    expect(info?.name).to.equal('composer-mcp');
    expect(info?.version).to.match(/^\d+\.\d+\.\d+/);
    const caps = client.getServerCapabilities();
    expect(caps).to.have.property('tools');
    expect(caps).to.have.property('resources');
    expect(caps).to.have.property('prompts');
  });

  it('lists every tool with its input schema, output schema where structured, and annotations', async () => {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).to.have.members(EXPECTED_TOOLS);
    for (const tool of tools) {
      expect(tool.inputSchema.type, tool.name).to.equal('object');
      expect(tool.annotations, tool.name).to.include.keys('readOnlyHint', 'destructiveHint', 'idempotentHint', 'openWorldHint');
      expect(tool.description?.length ?? 0, tool.name).to.be.greaterThan(20);
    }
    const build = tools.find((t) => t.name === 'composer_build_composition')!;
    expect(build.inputSchema.properties).to.include.keys('title', 'subject', 'grade', 'sections');
    expect(build.outputSchema?.properties).to.include.keys('composition', 'validation');
    expect(build.annotations?.readOnlyHint).to.equal(true);
    const save = tools.find((t) => t.name === 'composer_save_composition')!;
    expect(save.annotations?.readOnlyHint).to.equal(false);
  });

  it('builds a composition and validates it', async () => {
    const built = (await client.callTool({ name: 'composer_build_composition', arguments: SAMPLE_OUTLINE })) as CallToolResult;
    expect(built.isError, JSON.stringify(built.content)).to.not.equal(true);
    const composition = (built.structuredContent as { composition: Record<string, unknown> }).composition;
    expect(composition).to.include.keys('structure', 'metadata');
    const validated = (await client.callTool({ name: 'composer_validate_composition', arguments: { composition } })) as CallToolResult;
    expect(validated.isError).to.not.equal(true);
    expect((validated.structuredContent as { valid: boolean }).valid).to.equal(true);
  });

  it('serves the widget catalog and the composition JSON Schema as resources', async () => {
    const { resources } = await client.listResources();
    expect(resources.map((r) => r.uri)).to.include.members(['composer://catalog/widgets', 'composer://schema/composition']);
    const catalog = await client.readResource({ uri: 'composer://catalog/widgets' });
    const entries = JSON.parse(String((catalog.contents[0] as { text: string }).text)) as Array<{ type: string }>;
    expect(entries.map((e) => e.type)).to.include('quiz-1');
    const schema = await client.readResource({ uri: 'composer://schema/composition' });
    const json = JSON.parse(String((schema.contents[0] as { text: string }).text)) as Record<string, unknown>;
    expect(json).to.have.property('$schema');
  });

  it('offers the create_lesson prompt with the whole workflow', async () => {
    const { prompts } = await client.listPrompts();
    const prompt = prompts.find((p) => p.name === 'create_lesson');
    expect(prompt?.arguments?.map((a) => a.name)).to.have.members(['topic', 'subject', 'grade', 'language']);
    const got = await client.getPrompt({ name: 'create_lesson', arguments: { topic: 'Fotossíntese', subject: 'Ciências', grade: '7º ano' } });
    const text = (got.messages[0]!.content as { text: string }).text;
    for (const tool of ['composer_guidance', 'composer_build_composition', 'composer_validate_composition', 'composer_save_composition', 'composer_open_composition']) {
      expect(text).to.include(tool);
    }
    expect(text.indexOf('composer_guidance')).to.be.lessThan(text.indexOf('composer_save_composition'));
  });

  it('answers a wrong-typed argument with INVALID_INPUT naming the field, and audits the call', async () => {
    const result = (await client.callTool({ name: 'composer_build_composition', arguments: { ...SAMPLE_OUTLINE, sections: 'not a list' } })) as CallToolResult;
    expect(result.isError).to.equal(true);
    const error = toolErrorOf(result);
    expect(error?.code).to.equal('INVALID_INPUT');
    expect(error?.message).to.match(/sections: .*expected array/i);
    expect((result.content[0] as { text: string }).text).to.match(/^INVALID_INPUT: .*sections[\s\S]*Fix: /);
    const audit = server.logs().find((l) => l['message'] === 'Tool call completed' && l['outcome'] === 'INVALID_INPUT');
    expect(audit).to.include({ tool: 'composer_build_composition' });
  });

  it('answers an unknown tool with a JSON-RPC invalid-params error', async () => {
    let error: unknown;
    await client.callTool({ name: 'composer_no_such_tool', arguments: {} }).catch((e: unknown) => (error = e));
    expect(String(error)).to.match(/-32602.*composer_no_such_tool/);
  });

  it('answers storage tools without credentials with NOT_CONFIGURED naming the missing settings', async () => {
    const result = (await client.callTool({ name: 'composer_get_composition', arguments: { uid: 'abc' } })) as CallToolResult;
    expect(result.isError).to.equal(true);
    const error = toolErrorOf(result);
    expect(error?.code).to.equal('NOT_CONFIGURED');
    expect(error?.message).to.include('COMPOSER_MCP_COMPOSER__ACCESS_TOKEN');
  });

  it('writes one audit line per tool call with subject, tool, outcome and duration, and nothing on stdout', async () => {
    await client.callTool({ name: 'composer_list_widgets', arguments: {} });
    const audits = server.logs().filter((l) => l['message'] === 'Tool call completed' && l['tool'] === 'composer_list_widgets');
    expect(audits).to.have.length(1);
    expect(audits[0]).to.include({ subject: 'anonymous', outcome: 'ok' });
    expect(audits[0]!['durationMs']).to.be.a('number');
    const getAudit = server.logs().find((l) => l['message'] === 'Tool call completed' && l['tool'] === 'composer_get_composition');
    expect(getAudit).to.include({ outcome: 'NOT_CONFIGURED', compositionUid: 'abc' });
    expect(server.stdout()).to.equal('');
  });

  it('refuses GET and DELETE on /mcp with 405 and a JSON-RPC error (stateless: no SSE stream, no sessions)', async () => {
    for (const method of ['GET', 'DELETE']) {
      const response = await fetch(server.url, { method, headers: { accept: 'text/event-stream' } });
      expect(response.status, method).to.equal(405);
      const body = (await response.json()) as { jsonrpc: string; error: { message: string } };
      expect(body.jsonrpc).to.equal('2.0');
      expect(body.error.message).to.match(/POST/);
    }
  });

  it('answers a body over the limit with 413 and a clear JSON-RPC error, and stays healthy', async () => {
    const huge = { ...SAMPLE_OUTLINE, sections: [{ type: 'text', title: 'x', body: 'a'.repeat(200_000) }] };
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'composer_build_composition', arguments: huge } }),
    });
    expect(response.status).to.equal(413);
    const body = (await response.json()) as { error: { message: string } };
    expect(body.error.message).to.match(/larger than the 64kb limit/);
    const health = await fetch(new URL('/healthz', server.url));
    expect(health.status).to.equal(200);
    const again = (await client.callTool({ name: 'composer_list_widgets', arguments: {} })) as CallToolResult;
    expect(again.isError).to.not.equal(true);
  });

  it('refuses a foreign Host or Origin (DNS rebinding) with 403', async () => {
    const init = { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', origin: 'http://evil.example' }, body: '{}' };
    const response = await fetch(server.url, init);
    expect(response.status).to.equal(403);
    expect(((await response.json()) as { error: { message: string } }).error.message).to.match(/allowedOrigins/);
  });

  it('serves /healthz, /readyz and Prometheus metrics with tool-call counts', async () => {
    expect((await fetch(new URL('/healthz', server.url))).status).to.equal(200);
    expect((await fetch(new URL('/readyz', server.url))).status).to.equal(200);
    const metrics = await (await fetch(new URL('/metrics', server.url))).text();
    expect(metrics).to.match(/composer_mcp_tool_calls_total\{[^}]*tool="composer_list_widgets"[^}]*\} [1-9]/);
    expect(metrics).to.match(/composer_mcp_tool_duration_seconds_bucket/);
  });
});
