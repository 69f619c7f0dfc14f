import { Agent, get as httpGet, request as httpRequest, type IncomingMessage } from 'node:http';
import { expect } from 'chai';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { startComposerStandin, type ComposerStandin } from '#support/composer-standin/standin.ts';
import { startRoundRobinProxy, type RoundRobinProxy } from '#support/round-robin-proxy.ts';
import { freshConnectionFetch } from './fresh-connection-fetch.ts';
import { connectHttp, SAMPLE_OUTLINE, startServerProcess, type ServerProcess } from './server-harness.ts';

const TOKEN = 'standin-token-for-replicas-0001';

/** One MCP initialize POST (answered as an event stream) over `agent`: its status, Connection header, and whether it reused a connection. */
function initializeOver(agent: Agent, url: string): Promise<{ status: number; connection: string | undefined; reused: boolean }> {
  const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'drain-test', version: '1' } } });
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, reused: req.reusedSocket }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

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

    it('lets the in-flight call complete, serves a call that arrives meanwhile, then exits 0', async () => {
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
      // A call that still reaches the replica while it finishes the old one is served, not refused: a load balancer
      // may route to a terminating replica for a while (endpoint removal lags SIGTERM), and the process is waiting
      // anyway. (Until this changed, it was refused with 503 once the drain ended: calls failed during rollouts.)
      const late = await connectHttp(server.url, { fetch: freshConnectionFetch });
      const listed = (await late.callTool({ name: 'composer_list_widgets', arguments: {} })) as CallToolResult;
      expect(listed.isError, 'a call arriving during the shutdown is served').to.not.equal(true);
      await late.close().catch(() => undefined);
      const saved = await pending;
      expect(saved.isError, JSON.stringify(saved.content)).to.not.equal(true);
      expect(Date.now() - started).to.be.greaterThan(2500);
      expect(standin.compositions().some((c) => JSON.stringify(c).includes('Slow save'))).to.equal(true);
      const exit = await server.exited;
      expect(exit).to.deep.equal({ code: 0, signal: null });
      expect(server.logs().some((l) => l['message'] === 'Finished graceful shutdown' && l['exitCode'] === 0)).to.equal(true);
      await client.close().catch(() => undefined);
    });

    it('with a drain period: fails readiness at once, keeps serving new calls with answers that close their connection, then exits 0', async () => {
      server = await startServerProcess({ env: { COMPOSER_MCP_SHUTDOWN_DRAIN_SECONDS: '2', COMPOSER_MCP_SHUTDOWN_GRACE_SECONDS: '5' } });
      const readyz = new URL('/readyz', server.url);
      expect((await fetch(readyz)).status).to.equal(200);
      // A client holding a kept-alive connection from before SIGTERM.
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      expect(await initializeOver(agent, server.url)).to.include({ status: 200, connection: 'keep-alive', reused: false });
      server.proc.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 300));
      expect((await fetch(readyz)).status, 'readiness fails during the drain').to.equal(503);
      // Every answer during the drain closes its connection, so clients reconnect (to a ready replica) instead of
      // reusing a connection this replica closes when it stops accepting.
      const answer = await new Promise<IncomingMessage>((resolve, reject) => httpGet(readyz, resolve).on('error', reject));
      answer.resume();
      expect(answer.headers.connection, 'Connection header of an answer during the drain').to.equal('close');
      // The kept-alive connection's next MCP answer (an event stream, whose handler writes keep-alive) closes it, and
      // the client's call after that opens a new connection (which a Service would send to a ready replica).
      expect(await initializeOver(agent, server.url), 'the kept-alive connection\'s next answer').to.include({ status: 200, connection: 'close', reused: true });
      expect(await initializeOver(agent, server.url), 'the call after it').to.include({ status: 200, reused: false });
      agent.destroy();
      const client = await connectHttp(server.url);
      const listed = (await client.callTool({ name: 'composer_list_widgets', arguments: {} })) as CallToolResult;
      expect(listed.isError, 'a new call during the drain is served').to.not.equal(true);
      await client.close();
      const exit = await server.exited;
      expect(exit).to.deep.equal({ code: 0, signal: null });
    });

    it('keeps serving the calls a lagging load balancer still sends after its drain, and exits 0 once they stop (probes do not count)', async () => {
      // Two replicas behind one address; the first is terminated, but the balancer (like kube-proxy before it sees
      // the endpoint removed) keeps sending it new connections for 2 s past its 1 s drain.
      const env = { COMPOSER_MCP_SHUTDOWN_DRAIN_SECONDS: '1', COMPOSER_MCP_SHUTDOWN_GRACE_SECONDS: '20' };
      const [leaving, staying] = await Promise.all([startServerProcess({ env }), startServerProcess({ env })]);
      const balancer = await startRoundRobinProxy([leaving!.port, staying!.port]);
      const client = await connectHttp(`${balancer.url}/mcp`, { fetch: freshConnectionFetch });
      const failures: string[] = [];
      let calls = 0;
      // A call every 50 ms or so (each on a new connection), well inside the per-client rate limit.
      const call = async (): Promise<void> => {
        await new Promise((r) => setTimeout(r, 50));
        calls++;
        try {
          const r = (await client.callTool({ name: 'composer_list_widgets', arguments: {} })) as CallToolResult;
          if (r.isError) failures.push(JSON.stringify(r.content));
        } catch (error) {
          failures.push(String(error));
        }
      };
      // The kubelet goes on probing a terminating pod: that is not a call, and must not keep the replica alive.
      const probes = setInterval(() => void fetch(new URL('/readyz', leaving!.url)).then((r) => r.body?.cancel(), () => undefined), 1000);
      try {
        leaving!.proc.kill('SIGTERM');
        const drainEnds = Date.now() + 1000;
        while (Date.now() < drainEnds) await call();
        const atDrainEnd = balancer.connectionsPerBackend()[0] ?? 0;
        while (Date.now() < drainEnds + 2000) await call();
        const afterDrain = (balancer.connectionsPerBackend()[0] ?? 0) - atDrainEnd;
        // The balancer catches up: no new connection goes to the leaving replica any more.
        balancer.routeTo([staying!.port]);
        const routedAway = Date.now();
        const calling = (async () => { while (leaving!.proc.exitCode === null) await call(); })();
        const exit = await leaving!.exited;
        await calling;
        expect(failures, `failed calls (of ${calls}): ${failures.slice(0, 3).join(' | ')}`).to.have.length(0);
        expect(afterDrain, 'connections the leaving replica took after its drain').to.be.greaterThan(2);
        expect(exit).to.deep.equal({ code: 0, signal: null });
        // It left once nothing had arrived for a keep-alive timeout (5 s), not at the end of its 20 s grace.
        expect(Date.now() - routedAway, 'time from the last routed call to the exit').to.be.within(4000, 10_000);
        expect(leaving!.logs().some((l) => l['message'] === 'Cancelled in-flight calls after the shutdown grace')).to.equal(false);
      } finally {
        clearInterval(probes);
        await client.close().catch(() => undefined);
        await balancer.close();
        await Promise.all([leaving!.stop(), staying!.stop()]);
      }
    });
  });
});
