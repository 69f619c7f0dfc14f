import { expect } from 'chai';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { startComposerStandin, type ComposerStandin } from '#support/composer-standin/standin.ts';
import { startRoundRobinProxy, type RoundRobinProxy } from '#support/round-robin-proxy.ts';
import { freshConnectionFetch } from './fresh-connection-fetch.ts';
import { connectHttp, SAMPLE_OUTLINE, startServerProcess, type ServerProcess } from './server-harness.ts';

const TOKEN = 'standin-token-for-replicas-0001';

function standinEnv(standin: ComposerStandin): Record<string, string> {
  return {
    COMPOSER_MCP_COMPOSER__COMPOSER_URL: standin.appUrl,
    COMPOSER_MCP_COMPOSER__API_URL: standin.apiUrl,
    COMPOSER_MCP_COMPOSER__ACCESS_TOKEN: TOKEN,
    COMPOSER_MCP_COMPOSER__PROJECT_KEY: 'project-key-1',
    COMPOSER_MCP_COMPOSER__CONNECTOR_UID: 'connector-1',
  };
}

describe('stateless HTTP: two replicas behind one address, and graceful shutdown', function () {
  this.timeout(90000);
  let standin: ComposerStandin;

  before(async () => {
    standin = await startComposerStandin({ tokens: [TOKEN] });
  });

  after(async () => {
    await standin?.stop();
  });

  describe('two replicas behind a round-robin TCP proxy', () => {
    let replicas: ServerProcess[] = [];
    let proxy: RoundRobinProxy;
    let client: Client;

    before(async () => {
      replicas = await Promise.all([startServerProcess({ env: standinEnv(standin) }), startServerProcess({ env: standinEnv(standin) })]);
      proxy = await startRoundRobinProxy(replicas.map((r) => r.port));
      client = await connectHttp(`${proxy.url}/mcp`, { fetch: freshConnectionFetch });
    });

    after(async () => {
      await client?.close();
      await proxy?.close();
      await Promise.all(replicas.map((r) => r.stop()));
    });

    it('serves one client session whose calls land on both replicas in any order', async () => {
      const built = (await client.callTool({ name: 'composer_build_composition', arguments: SAMPLE_OUTLINE })) as CallToolResult;
      expect(built.isError).to.not.equal(true);
      const composition = (built.structuredContent as { composition: Record<string, unknown> }).composition;
      for (let i = 0; i < 3; i++) {
        const listed = await client.listTools();
        expect(listed.tools).to.have.length(10);
        const validated = (await client.callTool({ name: 'composer_validate_composition', arguments: { composition } })) as CallToolResult;
        expect((validated.structuredContent as { valid: boolean }).valid).to.equal(true);
      }
      const saved = (await client.callTool({ name: 'composer_save_composition', arguments: { composition } })) as CallToolResult;
      expect(saved.isError).to.not.equal(true);
      const uid = (saved.structuredContent as { uid: string }).uid;
      // The read may land on the other replica: it works because no state lives in a replica.
      for (let i = 0; i < 2; i++) {
        const got = (await client.callTool({ name: 'composer_get_composition', arguments: { uid } })) as CallToolResult;
        expect(got.isError).to.not.equal(true);
      }
      const audited = replicas.map((r) => r.logs().filter((l) => l['message'] === 'Tool call completed').length);
      expect(audited[0], 'replica 1 served tool calls').to.be.greaterThan(0);
      expect(audited[1], 'replica 2 served tool calls').to.be.greaterThan(0);
      expect(audited[0]! + audited[1]!, 'one audit line per call').to.equal(7);
      expect(proxy.connectionsPerBackend().every((n) => n > 2)).to.equal(true);
    });
  });

  describe('cancellation over HTTP', () => {
    let server: ServerProcess | undefined;

    after(async () => {
      standin.resetFaults();
      await server?.stop();
    });

    it('aborts a call when the client closes its request, and audits it as CANCELLED', async () => {
      server = await startServerProcess({ env: standinEnv(standin) });
      const client = await connectHttp(server.url);
      const built = (await client.callTool({ name: 'composer_build_composition', arguments: { ...SAMPLE_OUTLINE, title: 'Abandoned save' } })) as CallToolResult;
      const composition = (built.structuredContent as { composition: Record<string, unknown> }).composition;
      await client.close();
      standin.setFaults({ latencyMs: { upload: 5000 } });
      const controller = new AbortController();
      const request = fetch(server.url, {
        method: 'POST',
        signal: controller.signal,
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 99, method: 'tools/call', params: { name: 'composer_save_composition', arguments: { composition } } }),
      });
      // The answer (and its headers) comes when the call ends: close the request while it runs.
      await new Promise((r) => setTimeout(r, 500));
      controller.abort();
      await request.catch(() => undefined);
      const deadline = Date.now() + 4000;
      let audit: Record<string, unknown> | undefined;
      while (!audit && Date.now() < deadline) {
        audit = server.logs().find((l) => l['message'] === 'Tool call completed' && l['tool'] === 'composer_save_composition');
        if (!audit) await new Promise((r) => setTimeout(r, 100));
      }
      expect(audit, 'audit line of the abandoned call within 4 s (the upload alone takes 5 s)').to.include({ outcome: 'CANCELLED' });
    });

    it('cancels a call when the SDK client aborts it: the cancel notification arrives in its own request', async () => {
      await server?.stop();
      server = await startServerProcess({ env: standinEnv(standin) });
      const own = server;
      const client = await connectHttp(own.url);
      try {
        const built = (await client.callTool({ name: 'composer_build_composition', arguments: { ...SAMPLE_OUTLINE, title: 'Cancelled over HTTP' } })) as CallToolResult;
        const composition = (built.structuredContent as { composition: Record<string, unknown> }).composition;
        standin.setFaults({ latencyMs: { upload: 5000 } });
        const controller = new AbortController();
        const call = client.callTool({ name: 'composer_save_composition', arguments: { composition } }, undefined, { signal: controller.signal });
        setTimeout(() => controller.abort(new Error('user cancelled')), 500);
        const rejected = await call.then(() => undefined, (error: unknown) => error);
        expect(rejected, 'the client call rejects when cancelled').to.be.instanceOf(Error);
        const deadline = Date.now() + 4000;
        let audit: Record<string, unknown> | undefined;
        while (!audit && Date.now() < deadline) {
          audit = own.logs().find((l) => l['message'] === 'Tool call completed' && l['tool'] === 'composer_save_composition' && l['outcome'] !== 'ok');
          if (!audit) await new Promise((r) => setTimeout(r, 100));
        }
        expect(audit, 'audit line of the cancelled call within 4 s (the upload alone takes 5 s)').to.include({ outcome: 'CANCELLED' });
        expect(own.logs().some((l) => l['message'] === 'Received cancellation' && l['outcome'] === 'cancelled')).to.equal(true);
      } finally {
        standin.resetFaults();
        await client.close();
      }
    });
  });

  describe('SIGTERM during a slow call', () => {
    let server: ServerProcess | undefined;

    after(async () => {
      standin.resetFaults();
      await server?.stop();
    });

    it('lets the in-flight call complete, refuses new work, then exits 0', async () => {
      server = await startServerProcess({ env: { ...standinEnv(standin), COMPOSER_MCP_SHUTDOWN_GRACE_SECONDS: '20' } });
      const client = await connectHttp(server.url);
      const built = (await client.callTool({ name: 'composer_build_composition', arguments: { ...SAMPLE_OUTLINE, title: 'Slow save' } })) as CallToolResult;
      const composition = (built.structuredContent as { composition: Record<string, unknown> }).composition;
      standin.setFaults({ latencyMs: { upload: 3000 } });
      const started = Date.now();
      const pending = client.callTool({ name: 'composer_save_composition', arguments: { composition } }) as Promise<CallToolResult>;
      await new Promise((r) => setTimeout(r, 700));
      server.proc.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 300));
      // New work is refused while the old call finishes (503 or the listener is already closed).
      const late = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: '{}' }).then(
        (r) => r.status,
        () => 'refused',
      );
      expect([503, 'refused']).to.include(late);
      const saved = await pending;
      expect(saved.isError, JSON.stringify(saved.content)).to.not.equal(true);
      expect(Date.now() - started).to.be.greaterThan(2500);
      expect(standin.compositions().some((c) => JSON.stringify(c).includes('Slow save'))).to.equal(true);
      const exit = await server.exited;
      expect(exit).to.deep.equal({ code: 0, signal: null });
      expect(server.logs().some((l) => l['message'] === 'Finished graceful shutdown' && l['exitCode'] === 0)).to.equal(true);
      await client.close().catch(() => undefined);
    });

    it('with a drain period: fails readiness at once but keeps serving new calls until the drain ends, then exits 0', async () => {
      server = await startServerProcess({ env: { COMPOSER_MCP_SHUTDOWN_DRAIN_SECONDS: '2', COMPOSER_MCP_SHUTDOWN_GRACE_SECONDS: '5' } });
      const readyz = new URL('/readyz', server.url);
      expect((await fetch(readyz)).status).to.equal(200);
      server.proc.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 300));
      expect((await fetch(readyz)).status, 'readiness fails during the drain').to.equal(503);
      const client = await connectHttp(server.url);
      const listed = (await client.callTool({ name: 'composer_list_widgets', arguments: {} })) as CallToolResult;
      expect(listed.isError, 'a new call during the drain is served').to.not.equal(true);
      await client.close();
      const exit = await server.exited;
      expect(exit).to.deep.equal({ code: 0, signal: null });
    });
  });
});
