import { expect } from 'chai';
import { request } from 'node:http';
import { allTools } from '#server/tools/index.ts';
import { startRoundRobinProxy, type RoundRobinProxy } from '#support/round-robin-proxy.ts';
import { ALL_CLIENT_KINDS, connectEraHttp, connectEraStdio, type EraClient } from './era-clients.ts';
import { freshConnectionFetch } from './fresh-connection-fetch.ts';
import { modernRequest, modernResult } from './modern-wire.ts';
import { SAMPLE_OUTLINE, startServerProcess, type ServerProcess } from './server-harness.ts';

const DIALECT = 'https://json-schema.org/draft/2020-12/schema';

/** What clients compare: every field of a listed tool, in list order. */
function listing(tools: Awaited<ReturnType<EraClient['listTools']>>): unknown[] {
  return tools.map((t) => ({ name: t.name, title: t.title, description: t.description, inputSchema: t.inputSchema, outputSchema: t.outputSchema, annotations: t.annotations }));
}

describe('one server, both protocol eras: MCP 2026-07-28 and the 2025 initialize handshake', function () {
  this.timeout(60_000);

  describe('a single replica', () => {
    let server: ServerProcess;

    before(async () => {
      server = await startServerProcess({});
    });

    after(async () => {
      await server?.stop();
    });

    it('lists the same tools, in the order of the code, with the same JSON Schema 2020-12 schemas, to the v1 client and the v2 client in every negotiation mode', async () => {
      const listings: unknown[][] = [];
      for (const kind of ALL_CLIENT_KINDS) {
        const client = await connectEraHttp(kind, server.url);
        try {
          expect(client.era, kind).to.equal(kind === 'v1' || kind === 'v2-legacy' ? 'legacy' : 'modern');
          expect(client.serverName).to.equal('composer-mcp');
          const tools = await client.listTools();
          expect(tools.map((t) => t.name), kind).to.deep.equal(allTools().map((t) => t.name));
          for (const tool of tools) {
            expect(tool.inputSchema['$schema'], `${kind} ${tool.name} input`).to.equal(DIALECT);
            if (tool.outputSchema) expect(tool.outputSchema['$schema'], `${kind} ${tool.name} output`).to.equal(DIALECT);
          }
          expect(tools.filter((t) => t.outputSchema).length).to.be.greaterThan(5);
          listings.push(listing(tools));
        } finally {
          await client.close();
        }
      }
      for (const other of listings.slice(1)) expect(other).to.deep.equal(listings[0]);
    });

    it('answers 2026-07-28 requests with resultType, server identity in _meta and cache hints for what changes only between versions; 2025 answers carry none', async () => {
      const discover = await modernResult(server.url, 'server/discover');
      expect(discover['resultType']).to.equal('complete');
      expect((discover['capabilities'] as { extensions?: Record<string, unknown> }).extensions).to.have.property('io.modelcontextprotocol/tasks');
      expect(discover['supportedVersions']).to.include('2026-07-28');
      for (const [method, params] of [['tools/list', {}], ['prompts/list', {}], ['resources/list', {}], ['resources/read', { uri: 'composer://catalog/widgets' }]] as const) {
        const result = await modernResult(server.url, method, params);
        expect(result, method).to.include({ resultType: 'complete', ttlMs: 300_000, cacheScope: 'public' });
        expect((result['_meta'] as Record<string, { name: string }>)['io.modelcontextprotocol/serverInfo']?.name, method).to.equal('composer-mcp');
      }
      const call = await modernResult(server.url, 'tools/call', { name: 'composer_list_widgets', arguments: {} });
      expect(call['resultType']).to.equal('complete');
      expect(call).to.not.have.property('ttlMs');
      const legacy = await fetch(server.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-11-25' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
      });
      const legacyText = await legacy.text();
      expect(legacyText).to.include('composer_list_widgets').and.not.include('ttlMs').and.not.include('resultType');
    });

    it('refuses a 2026-07-28 request whose headers disagree with its body (400 -32020) and a revision it does not serve (400 -32022)', async () => {
      const mismatch = await modernRequest(server.url, 'tools/call', { name: 'composer_list_widgets', arguments: {} }, { headers: { 'mcp-name': 'composer_status' } });
      expect(mismatch.status).to.equal(400);
      expect(mismatch.message.error?.code).to.equal(-32020);
      const future = await modernRequest(server.url, 'tools/list', {}, { headers: { 'mcp-protocol-version': '2099-01-01' }, meta: { 'io.modelcontextprotocol/protocolVersion': '2099-01-01' } });
      expect(future.status).to.equal(400);
      expect(future.message.error?.code).to.equal(-32022);
      expect(JSON.stringify(future.message.error?.data)).to.include('2026-07-28');
    });

    it('answers invalid arguments with INVALID_INPUT (code, message, fix) and an unknown tool with -32602, in both eras', async () => {
      for (const kind of ['v1', 'v2-2026'] as const) {
        const client = await connectEraHttp(kind, server.url);
        try {
          const invalid = await client.callTool('composer_build_composition', { ...SAMPLE_OUTLINE, sections: 'not a list' });
          expect(invalid.isError, kind).to.equal(true);
          const error = (invalid._meta as Record<string, { code: string; message: string; fix: string }>)['composer-mcp/error'];
          expect(error?.code, kind).to.equal('INVALID_INPUT');
          expect(error?.message, kind).to.match(/sections/);
          expect(error?.fix, kind).to.have.length.greaterThan(10);
          const unknown = await client.callTool('composer_no_such_tool', {}).then(() => undefined, (e: unknown) => e as { code?: number });
          expect(unknown?.code, kind).to.equal(-32602);
        } finally {
          await client.close();
        }
      }
      const audited = server.logs().filter((l) => l['message'] === 'Tool call completed' && l['outcome'] === 'INVALID_INPUT');
      expect(new Set(audited.map((l) => l['protocol']))).to.deep.equal(new Set(['legacy', 'modern']));
    });

    it('serves the Server Card at /.well-known/mcp/server-card.json: this endpoint, both eras, the tools tools/list answers', async () => {
      const response = await fetch(new URL('/.well-known/mcp/server-card.json', server.url));
      expect(response.status).to.equal(200);
      expect(response.headers.get('access-control-allow-origin')).to.equal('*');
      const card = (await response.json()) as { name: string; remotes: Array<{ url: string; supportedProtocolVersions: string[] }>; _meta: Record<string, { tools: Array<{ name: string; task?: string }> }> };
      expect(card.remotes[0]!.url).to.equal(server.url);
      expect(card.remotes[0]!.supportedProtocolVersions).to.include.members(['2026-07-28', '2025-11-25']);
      const client = await connectEraHttp('v2-2026', server.url);
      try {
        expect(card._meta['io.github.composer-mcp/server']!.tools.map((t) => t.name)).to.deep.equal((await client.listTools()).map((t) => t.name));
      } finally {
        await client.close();
      }
      // fetch cannot set Host: a raw request with a foreign Host (DNS rebinding) gets no card.
      const foreign = await new Promise<number>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port: server.port, path: '/.well-known/mcp/server-card.json', headers: { host: 'attacker.example' } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end();
      });
      expect(foreign, 'a foreign Host gets no card').to.equal(403);
    });

    it('over stdio, a 2026-07-28 client lists exactly what HTTP lists', async () => {
      const http = await connectEraHttp('v2-2026', server.url);
      const { client } = await connectEraStdio('v2-2026');
      try {
        expect(client.era).to.equal('modern');
        expect(listing(await client.listTools())).to.deep.equal(listing(await http.listTools()));
      } finally {
        await client.close();
        await http.close();
      }
    });
  });

  describe('two replicas behind a round-robin proxy, clients of both eras interleaved', () => {
    let replicas: ServerProcess[] = [];
    let proxy: RoundRobinProxy;
    let clients: EraClient[] = [];

    before(async () => {
      replicas = await Promise.all([startServerProcess({}), startServerProcess({})]);
      proxy = await startRoundRobinProxy(replicas.map((r) => r.port));
      clients = await Promise.all((['v1', 'v2-2026', 'v2-legacy', 'v2-auto'] as const).map((kind) => connectEraHttp(kind, `${proxy.url}/mcp`, { fetch: freshConnectionFetch })));
    });

    after(async () => {
      await Promise.all(clients.map((c) => c.close()));
      await proxy?.close();
      await Promise.all(replicas.map((r) => r.stop()));
    });

    it('answers 100 calls of four clients, taking turns, each with its own right answer, and both replicas serve both eras', async () => {
      for (let i = 0; i < 100; i++) {
        // Each call is one POST on a new connection and the proxy alternates replicas per connection: two calls per
        // turn put every client on both replicas.
        const client = clients[Math.floor(i / 2) % clients.length]!;
        const title = `Lição ${i} (${client.kind})`;
        const built = await client.callTool('composer_build_composition', { ...SAMPLE_OUTLINE, title });
        expect(built.isError, `${i} ${client.kind}`).to.not.equal(true);
        expect(JSON.stringify((built.structuredContent as { composition: unknown }).composition)).to.include(title);
      }
      for (const [index, replica] of replicas.entries()) {
        const eras = [...new Set(replica.logs().filter((l) => l['message'] === 'Tool call completed').map((l) => String(l['protocol'])))].toSorted();
        expect(eras, `replica ${index}`).to.deep.equal(['legacy', 'modern']);
      }
      const calls = replicas.map((r) => r.logs().filter((l) => l['message'] === 'Tool call completed').length);
      expect(calls[0]! + calls[1]!, 'one audit line per call').to.equal(100);
    });
  });
});
