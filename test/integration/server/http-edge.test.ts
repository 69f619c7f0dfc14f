import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { connectHttp, MAIN, parseLogLines, REPO_ROOT, serverEnv, startServerProcess, tempFiles, type ServerProcess } from './server-harness.ts';

/** The server plus the test-only probe tools (test_wait, test_unhandled_rejection). */
const PROBE_SERVER = join(REPO_ROOT, 'test/integration/server/fixtures/probe-server.ts');
const SECRET = 'hs256-edge-secret-with-enough-entropy-0123456789';
const ISSUER = 'https://auth.example.test';
const AUDIENCE = 'https://composer-mcp.example.test/mcp';
const HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-11-25' };

function jwtEnv(secretFile: string): Record<string, string> {
  return {
    COMPOSER_MCP_AUTH__MODE: 'jwt',
    COMPOSER_MCP_AUTH__ISSUER: ISSUER,
    COMPOSER_MCP_AUTH__AUDIENCE: AUDIENCE,
    COMPOSER_MCP_AUTH__HS256_SECRET_FILE: secretFile,
    COMPOSER_MCP_AUTH__RESOURCE_URL: AUDIENCE,
  };
}

function token(subject: string, secret = SECRET): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(subject)
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt()
    .setExpirationTime('10m')
    .sign(new TextEncoder().encode(secret));
}

function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const tick = (): void => {
      const value = probe();
      if (value !== undefined) return resolve(value);
      if (Date.now() > deadline) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(tick, 50);
    };
    tick();
  });
}

const audits = (server: ServerProcess, tool: string) => server.logs().filter((l) => l['message'] === 'Tool call completed' && l['tool'] === tool);

describe('HTTP edge: no request crashes the server, batches, failed authentication, callers and cancellation', function () {
  this.timeout(60000);
  let files: ReturnType<typeof tempFiles>;

  before(() => {
    files = tempFiles({ 'jwt-secret': `${SECRET}\n` });
  });

  after(() => files?.cleanup());

  it('refuses to start with auth.mode=jwt on a non-loopback address without http.allowedHosts or auth.resourceUrl, saying what to set', async () => {
    const env = { ...jwtEnv(files.path('jwt-secret')) };
    delete (env as Record<string, string | undefined>)['COMPOSER_MCP_AUTH__RESOURCE_URL'];
    const proc = spawn(process.execPath, [MAIN, '--http.host=0.0.0.0', '--http.port=0'], { cwd: REPO_ROOT, env: serverEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    proc.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const outcome = await Promise.race([
      new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code))),
      waitFor('the server to start', () => (parseLogLines(stderr).some((l) => l['message'] === 'Started MCP server') ? 'started' : undefined), 15000),
    ]);
    if (proc.exitCode === null) proc.kill('SIGKILL');
    expect(outcome, stderr).to.equal(2);
    expect(stderr).to.match(/http\.allowedHosts/).and.match(/auth\.resourceUrl/);
  });

  describe('auth none (probe tools)', () => {
    let server: ServerProcess;

    before(async () => {
      server = await startServerProcess({ entry: PROBE_SERVER });
    });

    after(async () => {
      await server?.stop();
    });

    it('logs an unhandled promise rejection and keeps serving', async () => {
      const client = await connectHttp(server.url);
      try {
        const result = (await client.callTool({ name: 'test_unhandled_rejection', arguments: {} })) as CallToolResult;
        expect(result.isError).to.not.equal(true);
        await waitFor('the rejection to be logged', () => server.logs().find((l) => l['message'] === 'Unhandled promise rejection'));
        expect(server.proc.exitCode).to.equal(null);
        expect((await fetch(new URL('/healthz', server.url))).status).to.equal(200);
        const again = (await client.callTool({ name: 'test_wait', arguments: { ms: 1 } })) as CallToolResult;
        expect(again.isError).to.not.equal(true);
      } finally {
        await client.close();
      }
    });

    it('refuses a JSON-RPC batch with 400 and runs none of its calls', async () => {
      const before = audits(server, 'test_wait').length;
      const batch = Array.from({ length: 40 }, (_, i) => ({ jsonrpc: '2.0', id: i + 1, method: 'tools/call', params: { name: 'test_wait', arguments: { ms: 200 } } }));
      const response = await fetch(server.url, { method: 'POST', headers: HEADERS, body: JSON.stringify(batch) });
      expect(response.status).to.equal(400);
      const body = (await response.json()) as { error: { code: number; message: string } };
      expect(body.error.code).to.equal(-32600);
      expect(body.error.message).to.match(/batch/i);
      await new Promise((r) => setTimeout(r, 500));
      expect(audits(server, 'test_wait').length).to.equal(before);
    });

    it('lets only the caller cancel its call: a notification naming its request id from another client is ignored', async () => {
      const sent: Array<{ id?: unknown; method?: string }> = [];
      const recordingFetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
        if (typeof init?.body === 'string') sent.push(JSON.parse(init.body) as { id?: unknown; method?: string });
        return fetch(input, init);
      };
      const victim = await connectHttp(server.url, { fetch: recordingFetch });
      try {
        const call = victim.callTool({ name: 'test_wait', arguments: { ms: 2500 } }) as Promise<CallToolResult>;
        const callMessage = await waitFor('the call to be sent', () => sent.find((m) => m.method === 'tools/call'));
        // The attacker knows the id (ids are small integers) and sends the cancel in its own request.
        const attack = await fetch(server.url, {
          method: 'POST',
          headers: HEADERS,
          body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: callMessage.id, reason: 'attack' } }),
        });
        expect(attack.status).to.be.within(200, 299);
        const result = await call;
        expect(result.isError, JSON.stringify(result.content)).to.not.equal(true);
        expect((result.structuredContent as { cancelled: boolean }).cancelled).to.equal(false);
      } finally {
        await victim.close();
      }
    });

    it('still lets a client cancel its own call with notifications/cancelled (a legacy client over stateless HTTP)', async () => {
      const client = await connectHttp(server.url);
      try {
        const before = audits(server, 'test_wait').filter((l) => l['outcome'] === 'CANCELLED').length;
        const controller = new AbortController();
        const call = client.callTool({ name: 'test_wait', arguments: { ms: 5000 } }, undefined, { signal: controller.signal });
        await new Promise((r) => setTimeout(r, 300));
        const cancelledAt = Date.now();
        controller.abort(new Error('the user pressed stop'));
        await call.then(() => undefined, () => undefined);
        await waitFor('the call to be audited CANCELLED', () => (audits(server, 'test_wait').filter((l) => l['outcome'] === 'CANCELLED').length > before ? true : undefined), 3000);
        expect(Date.now() - cancelledAt).to.be.below(1500);
      } finally {
        await client.close();
      }
    });
  });

  describe('auth jwt', () => {
    let server: ServerProcess;

    before(async () => {
      server = await startServerProcess({
        entry: PROBE_SERVER,
        env: { ...jwtEnv(files.path('jwt-secret')), COMPOSER_MCP_RATE_LIMIT__MAX_FAILED_AUTHENTICATIONS: '5', COMPOSER_MCP_RATE_LIMIT__WINDOW_SECONDS: '60' },
      });
    });

    after(async () => {
      await server?.stop();
    });

    it('refuses a token whose subject is empty', async () => {
      const response = await fetch(server.url, {
        method: 'POST',
        headers: { ...HEADERS, authorization: `Bearer ${await token('')}` },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '0' } } }),
      });
      expect(response.status).to.equal(401);
      expect(response.headers.get('www-authenticate') ?? '').to.match(/subject/);
    });

    it('lets a subject cancel only its own calls', async () => {
      const owner = await connectHttp(server.url, { headers: { authorization: `Bearer ${await token('owner')}` } });
      try {
        const call = owner.callTool({ name: 'test_wait', arguments: { ms: 2500 } }) as Promise<CallToolResult>;
        await new Promise((r) => setTimeout(r, 300));
        for (const id of [0, 1, 2, 3]) {
          const attack = await fetch(server.url, {
            method: 'POST',
            headers: { ...HEADERS, authorization: `Bearer ${await token('intruder')}` },
            body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id, reason: 'attack' } }),
          });
          expect(attack.status).to.be.within(200, 299);
        }
        const result = await call;
        expect(result.isError, JSON.stringify(result.content)).to.not.equal(true);
        expect((result.structuredContent as { cancelled: boolean }).cancelled).to.equal(false);
      } finally {
        await owner.close();
      }
    });

    it('rate-limits failed authentication by client address before verifying: 429 after the limit, and the verifier no longer runs', async () => {
      const rejectedLines = () => server.logs().filter((l) => l['message'] === 'Rejected bearer token').length;
      const bad = await token('someone', 'another-secret-of-the-same-sufficient-length-000');
      const statuses: number[] = [];
      for (let i = 0; i < 8; i++) {
        const response = await fetch(server.url, { method: 'POST', headers: { ...HEADERS, authorization: `Bearer ${bad}` }, body: '{}' });
        statuses.push(response.status);
        if (response.status === 429) {
          expect(Number(response.headers.get('retry-after'))).to.be.within(1, 60);
          expect(((await response.json()) as { error: { message: string } }).error.message).to.match(/failed authentication/i);
        } else await response.body?.cancel();
      }
      // Earlier tests of this server already failed authentication from this address; the limit (5) counts them too.
      const firstLimited = statuses.indexOf(429);
      expect(firstLimited, `statuses ${statuses.join(', ')}`).to.be.greaterThan(0);
      expect(statuses.slice(0, firstLimited).every((s) => s === 401)).to.equal(true);
      expect(statuses.slice(firstLimited).every((s) => s === 429)).to.equal(true);
      expect(rejectedLines(), 'failed authentications before the first 429').to.equal(5);
      const verifiedBefore = rejectedLines();
      const more = await fetch(server.url, { method: 'POST', headers: { ...HEADERS, authorization: `Bearer ${bad}` }, body: '{}' });
      expect(more.status).to.equal(429);
      await more.body?.cancel();
      expect(rejectedLines(), 'the verifier ran for a request over the failed-authentication limit').to.equal(verifiedBefore);
    });
  });
});
