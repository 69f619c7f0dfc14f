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
    const progress: Array<{ progress: number; total?: number; message?: string }> = [];
    const saved = (await client.callTool({ name: 'composer_save_composition', arguments: { composition } }, undefined, { onprogress: (p) => progress.push(p) })) as CallToolResult;
    expect(progress.map((p) => p.progress)).to.deep.equal([0, 1, 2]);
    expect(progress.every((p) => p.total === 2 && typeof p.message === 'string')).to.equal(true);
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

  it('cancels a slow call when the client cancels it, and audits it as CANCELLED', async () => {
    const built = (await client.callTool({ name: 'composer_build_composition', arguments: { ...SAMPLE_OUTLINE, title: 'Cancelled save' } })) as CallToolResult;
    const composition = (built.structuredContent as { composition: Record<string, unknown> }).composition;
    standin.setFaults({ latencyMs: { upload: 5000 } });
    try {
      const controller = new AbortController();
      const started = Date.now();
      const call = client.callTool({ name: 'composer_save_composition', arguments: { composition } }, undefined, { signal: controller.signal });
      setTimeout(() => controller.abort(new Error('user cancelled')), 500);
      let rejected: unknown;
      await call.catch((error: unknown) => (rejected = error));
      expect(rejected, 'the client call rejects when cancelled').to.be.instanceOf(Error);
      const deadline = Date.now() + 4000;
      let audit: Record<string, unknown> | undefined;
      while (!audit && Date.now() < deadline) {
        audit = parseLogLines(stderr()).find((l) => l['message'] === 'Tool call completed' && l['tool'] === 'composer_save_composition' && l['outcome'] !== 'ok');
        if (!audit) await new Promise((r) => setTimeout(r, 100));
      }
      expect(audit, 'audit line of the cancelled call').to.include({ outcome: 'CANCELLED' });
      expect(Number(audit!['durationMs'])).to.be.lessThan(Math.max(4000, Date.now() - started));
    } finally {
      standin.resetFaults();
    }
  });
});
