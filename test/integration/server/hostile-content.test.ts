import { expect } from 'chai';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { startComposerStandin, type ComposerStandin } from '#support/composer-standin/standin.ts';
import { canaryLeaks, makeCanaries, type Canaries } from '#support/hostile/canaries.ts';
import { APP_SCRIPTS, credentialThiefComposition, credentialThiefScript } from '#support/hostile/hostile-compositions.ts';
import { pdfText } from '#support/pdf/pdf-text.ts';
import { everyWidgetComposition } from '#support/fixtures/every-widget-composition.ts';
import { connectHttp, startServerProcess, type ServerProcess } from './server-harness.ts';

const JWT_SECRET = 'hostile-server-secret-0123456789abcdef';

describe('hostile compositions through the real server: no canary in any result or log line, and the server stays healthy', function () {
  this.timeout(120_000);
  let standin: ComposerStandin;
  let canaries: Canaries;
  let server: ServerProcess;
  let client: Client;

  before(async () => {
    standin = await startComposerStandin({ jwtSecret: JWT_SECRET });
    canaries = await makeCanaries(JWT_SECRET);
    server = await startServerProcess({
      env: {
        COMPOSER_MCP_COMPOSER__COMPOSER_URL: standin.appUrl,
        COMPOSER_MCP_COMPOSER__API_URL: standin.apiUrl,
        COMPOSER_MCP_COMPOSER__ACCESS_TOKEN: canaries.token,
        COMPOSER_MCP_COMPOSER__PROJECT_KEY: canaries.projectKey,
        COMPOSER_MCP_COMPOSER__CONNECTOR_UID: 'connector-1',
        COMPOSER_MCP_BROWSERS__SOURCE: 'local',
        COMPOSER_MCP_BROWSERS__LOCAL__COUNT: '1',
        COMPOSER_MCP_BROWSERS__LEASE_DEADLINE_MS: '8000',
        COMPOSER_MCP_LOG_LEVEL: 'debug',
      },
    });
    client = await connectHttp(server.url);
  });
  afterEach(() => standin.setAppScript(undefined));
  after(async () => {
    await client?.close();
    await server?.stop();
    await standin?.stop();
  });

  const call = async (name: string, args: Record<string, unknown>) => (await client.callTool({ name, arguments: args })) as CallToolResult;

  it('open, preview png and preview pdf of a credential thief leak nothing, write nothing, and the server serves the next call', async () => {
    const saved = await call('composer_save_composition', { composition: everyWidgetComposition('Vítima') });
    const victim = (saved.structuredContent as { uid: string }).uid;
    const thiefOptions = { otherUid: victim, exfiltrationOrigin: 'http://127.0.0.1:9' };
    const thief = standin.storeRaw(credentialThiefComposition(thiefOptions));
    const sanitised = await call('composer_open_composition', { uid: thief });
    expect((sanitised.structuredContent as { sanitizedFields: string[] }).sanitizedFields, 'the composition is served sanitised').to.deep.equal(['$.structure[0].content']);
    expect((sanitised.structuredContent as { refusedApiCalls: unknown[] }).refusedApiCalls, 'so its script never ran').to.deep.equal([]);
    // The same script running anyway (an XSS hole of the app): only the broker is left to stop it.
    standin.setAppScript(credentialThiefScript(thiefOptions));
    const before = { compositions: standin.compositions().length, requests: standin.apiRequests().length };
    const results = [await call('composer_open_composition', { uid: thief }), await call('composer_preview_composition', { uid: thief, format: 'png' }), await call('composer_preview_composition', { uid: thief, format: 'pdf' })];
    for (const result of results) {
      expect(result.isError, JSON.stringify(result.content).slice(0, 500)).to.not.equal(true);
      expect(canaryLeaks(JSON.stringify(result), canaries), 'tool result').to.deep.equal([]);
    }
    const blob = (results[2]!.content.find((c) => c.type === 'resource') as { resource: { blob: string } }).resource.blob;
    expect(canaryLeaks((await pdfText(Buffer.from(blob, 'base64'))).text, canaries), 'PDF text').to.deep.equal([]);
    expect(canaryLeaks(`${server.stderr()}\n${server.stdout()}`, canaries), 'server log lines').to.deep.equal([]);
    expect(standin.compositions().length, 'nothing stored by a page').to.equal(before.compositions);
    for (const r of standin.apiRequests().slice(before.requests)) {
      const real = r.bearer === canaries.token || r.queryToken === canaries.token || r.projectKey === canaries.projectKey;
      if (real) expect(r.method === 'GET' && (r.path === '/auth/v1.0/user/me' || (r.path === '/storage/v1.0/content' && new URLSearchParams(r.query).get('uid') === thief)), `${r.method} ${r.path}`).to.equal(true);
    }
    expect(server.logs().some((l) => l['message'] === 'Refused API calls from a read-only page')).to.equal(true);
    standin.setAppScript(undefined);
    const next = await call('composer_open_composition', { uid: victim });
    expect(next.isError).to.not.equal(true);
    expect((next.structuredContent as { ready: boolean }).ready).to.equal(true);
    expect(server.proc.exitCode).to.equal(null);
  });

  it('a spinning composition answers within the lease deadline, and the pool is whole again', async () => {
    const saved = await call('composer_save_composition', { composition: everyWidgetComposition('Gira') });
    const uid = (saved.structuredContent as { uid: string }).uid;
    standin.setAppScript(APP_SCRIPTS.spin);
    // The lesson renders after the spin begins (readiness by content answers within ~100 ms of a render).
    standin.setFaults({ render: { delayMs: 2_000 } });
    const started = Date.now();
    const result = await call('composer_preview_composition', { uid, format: 'pdf' });
    standin.resetFaults();
    expect(result.isError).to.equal(true);
    expect(JSON.stringify(result.content)).to.contain('UPSTREAM_TIMEOUT').and.contain('deadline of 8000 ms');
    expect(Date.now() - started).to.be.below(8_000 + 4_000);
    const status = await call('composer_status', {});
    expect((status.structuredContent as { browsers: { healthy: number; sessionsInUse: number } }).browsers).to.include({ healthy: 1, sessionsInUse: 0 });
    expect((await fetch(new URL('/healthz', server.url))).status).to.equal(200);
    expect(canaryLeaks(`${server.stderr()}\n${JSON.stringify(result)}`, canaries)).to.deep.equal([]);
  });
});
