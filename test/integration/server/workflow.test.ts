import { expect } from 'chai';
import type { CallToolResult } from '@modelcontextprotocol/client';
import { startComposerStandin, type ComposerStandin } from '#support/composer-standin/standin.ts';
import { connectEraHttp, connectEraStdio, type ClientKind, type EraClient } from './era-clients.ts';
import { SAMPLE_OUTLINE, startServerProcess, type ServerProcess } from './server-harness.ts';

const TOKEN = 'workflow-token-standin-0042';

function envFor(standin: ComposerStandin): Record<string, string> {
  return {
    COMPOSER_MCP_COMPOSER__COMPOSER_URL: standin.appUrl,
    COMPOSER_MCP_COMPOSER__API_URL: standin.apiUrl,
    COMPOSER_MCP_COMPOSER__ACCESS_TOKEN: TOKEN,
    COMPOSER_MCP_COMPOSER__PROJECT_KEY: 'project-key-1',
    COMPOSER_MCP_COMPOSER__CONNECTOR_UID: 'connector-1',
    COMPOSER_MCP_BROWSERS__SOURCE: 'local',
    COMPOSER_MCP_BROWSERS__LOCAL__COUNT: '1',
  };
}

function text(result: CallToolResult): string {
  return result.content.map((c) => (c.type === 'text' ? c.text : `[${c.type}]`)).join('\n');
}

/** Every tool, in workflow order: catalog, guidance → build → validate → save → get → open → preview (png, pdf), status. */
async function wholeWorkflow(client: EraClient, title: string): Promise<{ uid: string }> {
  const call = async (name: string, args: Record<string, unknown>): Promise<CallToolResult> => {
    const result = await client.callTool(name, args);
    expect(result.isError, `${name}: ${text(result)}`).to.not.equal(true);
    return result;
  };
  const listed = await call('composer_list_widgets', {});
  expect(JSON.stringify(listed.structuredContent)).to.include('quiz-1');
  const described = await call('composer_describe_widget', { type: 'quiz-1' });
  expect(described.structuredContent).to.have.property('type', 'quiz-1');
  const guidance = await call('composer_guidance', { topic: 'Fotossíntese', subject: 'Ciências', grade: '7º ano' });
  expect(guidance.structuredContent).to.have.property('topic', 'Fotossíntese');
  const built = await call('composer_build_composition', { ...SAMPLE_OUTLINE, title });
  const composition = (built.structuredContent as { composition: Record<string, unknown> }).composition;
  const validated = await call('composer_validate_composition', { composition });
  expect((validated.structuredContent as { valid: boolean }).valid).to.equal(true);
  const saved = await call('composer_save_composition', { composition });
  const uid = (saved.structuredContent as { uid: string }).uid;
  const got = await call('composer_get_composition', { uid });
  expect(JSON.stringify(got.structuredContent)).to.include(title);
  const opened = await call('composer_open_composition', { uid });
  const image = opened.content.find((c) => c.type === 'image');
  expect(image, 'open returns a screenshot as image content').to.include({ mimeType: 'image/png' });
  expect(Buffer.from((image as { data: string }).data, 'base64').subarray(1, 4).toString()).to.equal('PNG');
  const png = await call('composer_preview_composition', { uid, format: 'png' });
  expect(png.content.some((c) => c.type === 'image')).to.equal(true);
  const pdf = await call('composer_preview_composition', { uid, format: 'pdf' });
  expect((pdf.structuredContent as { preview: { mimeType: string } }).preview.mimeType).to.equal('application/pdf');
  const status = await call('composer_status', {});
  expect(JSON.stringify(status.structuredContent)).to.match(/"healthy":1\b/);
  return { uid };
}

/** The clients of both eras that run the whole workflow: a 2025-11-25 client (v1 SDK) and 2026-07-28 ones (v2 SDK). */
const HTTP_KINDS: ClientKind[] = ['v1', 'v2-2026', 'v2-auto'];
const STDIO_KINDS: ClientKind[] = ['v1', 'v2-2026'];

describe('the whole workflow through the real server, a local browser pool and the Composer stand-in, for clients of both eras', function () {
  this.timeout(120000);
  let standin: ComposerStandin;

  before(async () => {
    standin = await startComposerStandin({ tokens: [TOKEN] });
  });

  after(async () => {
    await standin?.stop();
  });

  describe('over Streamable HTTP, one server for every client', () => {
    let server: ServerProcess;

    before(async () => {
      server = await startServerProcess({ env: envFor(standin) });
    });

    after(async () => {
      await server?.stop();
    });

    for (const kind of HTTP_KINDS) {
      it(`${kind}: runs every tool (catalog, guidance → build → validate → save → get → open → preview, status), auditing every call`, async () => {
        const client = await connectEraHttp(kind, server.url);
        try {
          expect(client.era).to.equal(kind === 'v1' ? 'legacy' : 'modern');
          const title = `Fluxo HTTP ${kind}`;
          const { uid } = await wholeWorkflow(client, title);
          expect(standin.compositions().some((c) => JSON.stringify(c).includes(title))).to.equal(true);
          const audits = server.logs().filter((l) => l['message'] === 'Tool call completed' && l['compositionUid'] === uid);
          expect(audits.map((a) => a['tool'])).to.include.members(['composer_open_composition', 'composer_preview_composition']);
          expect(new Set(audits.map((a) => a['protocol']))).to.deep.equal(new Set([client.era]));
          expect(server.stderr()).to.not.include(TOKEN);
        } finally {
          await client.close();
        }
      });
    }
  });

  describe('over stdio', () => {
    for (const kind of STDIO_KINDS) {
      it(`${kind}: runs every tool (catalog, guidance → build → validate → save → get → open → preview, status)`, async () => {
        const { client, stderr } = await connectEraStdio(kind, envFor(standin));
        try {
          expect(client.era).to.equal(kind === 'v1' ? 'legacy' : 'modern');
          await wholeWorkflow(client, `Fluxo stdio ${kind}`);
          expect(stderr()).to.not.include(TOKEN);
          expect(stderr()).to.include(`"protocol":"${client.era}"`);
        } finally {
          await client.close();
        }
      });
    }
  });
});
