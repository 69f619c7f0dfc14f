import { expect } from 'chai';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { startComposerStandin, type ComposerStandin } from '#support/composer-standin/standin.ts';
import { connectStdio, parseLogLines, SAMPLE_OUTLINE } from './server-harness.ts';

const CANARY = 'canary-secret-7f3a9c1e5b2d4086';
const PROJECT_KEY = 'project-key-canary-91b2';

function text(result: CallToolResult): string {
  return result.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');
}

describe('server over stdio (spawned by the SDK client) with a canary access token', function () {
  this.timeout(60000);
  let standin: ComposerStandin;
  let client: Client;
  let stderr: () => string;

  before(async () => {
    standin = await startComposerStandin({ tokens: [CANARY], projectKey: PROJECT_KEY, connectorUids: ['connector-1'] });
    ({ client, stderr } = await connectStdio({
      LOG_LEVEL: 'debug',
      COMPOSER_MCP_COMPOSER__COMPOSER_URL: standin.appUrl,
      COMPOSER_MCP_COMPOSER__API_URL: standin.apiUrl,
      COMPOSER_MCP_COMPOSER__ACCESS_TOKEN: CANARY,
      COMPOSER_MCP_COMPOSER__PROJECT_KEY: PROJECT_KEY,
      COMPOSER_MCP_COMPOSER__CONNECTOR_UID: 'connector-1',
    }));
  });

  after(async () => {
    await client?.close();
    await standin?.stop();
  });

  it('lists the same tools with schemas and annotations as over HTTP', async () => {
    const { tools } = await client.listTools();
    expect(tools).to.have.length(10);
    for (const tool of tools) {
      expect(tool.inputSchema.type).to.equal('object');
      expect(tool.annotations).to.include.keys('readOnlyHint', 'destructiveHint', 'idempotentHint', 'openWorldHint');
    }
  });

  it('runs catalog, build, validate, save and get, never logging the access token or project key', async () => {
    const catalog = (await client.callTool({ name: 'composer_list_widgets', arguments: {} })) as CallToolResult;
    expect(catalog.isError).to.not.equal(true);
    const built = (await client.callTool({ name: 'composer_build_composition', arguments: SAMPLE_OUTLINE })) as CallToolResult;
    expect(built.isError, text(built)).to.not.equal(true);
    const composition = (built.structuredContent as { composition: Record<string, unknown> }).composition;
    const validated = (await client.callTool({ name: 'composer_validate_composition', arguments: { composition } })) as CallToolResult;
    expect((validated.structuredContent as { valid: boolean }).valid).to.equal(true);
    const saved = (await client.callTool({ name: 'composer_save_composition', arguments: { composition } })) as CallToolResult;
    expect(saved.isError, text(saved)).to.not.equal(true);
    const uid = (saved.structuredContent as { uid: string }).uid;
    expect(standin.compositions()).to.have.length(1);
    const got = (await client.callTool({ name: 'composer_get_composition', arguments: { uid } })) as CallToolResult;
    expect(got.isError, text(got)).to.not.equal(true);
    // A wrong call too: error paths log more.
    await client.callTool({ name: 'composer_get_composition', arguments: { uid: 'no-such-uid' } });

    const logs = stderr();
    const audits = parseLogLines(logs).filter((l) => l['message'] === 'Tool call completed');
    expect(audits.length).to.be.greaterThanOrEqual(6);
    expect(audits.every((a) => a['subject'] === 'stdio')).to.equal(true);
    expect(audits.find((a) => a['tool'] === 'composer_save_composition')).to.include({ compositionUid: uid, outcome: 'ok' });
    expect(logs).to.not.include(CANARY);
    expect(logs).to.not.include(PROJECT_KEY);
    // Audit lines carry no arguments beyond the uid.
    expect(JSON.stringify(audits)).to.not.include('Fotossíntese');
  });
});
