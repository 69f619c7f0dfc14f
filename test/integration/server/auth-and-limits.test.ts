import { expect } from 'chai';
import { SignJWT } from 'jose';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { connectEraHttp } from './era-clients.ts';
import { connectHttp, startServerProcess, tempFiles, type ServerProcess } from './server-harness.ts';

const SECRET = 'hs256-test-secret-with-enough-entropy-0123456789';
const ISSUER = 'https://auth.example.test';
const AUDIENCE = 'https://composer-mcp.example.test/mcp';

async function token(options: { secret?: string; audience?: string; issuer?: string; expiresIn?: string | number; subject?: string } = {}): Promise<string> {
  return new SignJWT({ scope: 'composer' })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(options.subject ?? 'teacher-1')
    .setIssuer(options.issuer ?? ISSUER)
    .setAudience(options.audience ?? AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? '10m')
    .sign(new TextEncoder().encode(options.secret ?? SECRET));
}

const INITIALIZE = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '0' } },
});

async function post(url: string, bearer?: string): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
    body: INITIALIZE,
  });
}

describe('server HTTP authentication (jose, HS256) and per-client rate limits', function () {
  this.timeout(60000);
  let server: ServerProcess;
  let files: ReturnType<typeof tempFiles>;

  before(async () => {
    files = tempFiles({ 'jwt-secret': `${SECRET}\n` });
    server = await startServerProcess({
      env: {
        COMPOSER_MCP_AUTH__MODE: 'jwt',
        COMPOSER_MCP_AUTH__ISSUER: ISSUER,
        COMPOSER_MCP_AUTH__AUDIENCE: AUDIENCE,
        COMPOSER_MCP_AUTH__HS256_SECRET_FILE: files.path('jwt-secret'),
        COMPOSER_MCP_AUTH__AUTHORIZATION_SERVERS: ISSUER,
        COMPOSER_MCP_AUTH__RESOURCE_URL: AUDIENCE,
        COMPOSER_MCP_AUTH__CLOCK_TOLERANCE_SECONDS: '5',
        COMPOSER_MCP_RATE_LIMIT__WINDOW_SECONDS: '60',
        COMPOSER_MCP_RATE_LIMIT__MAX_REQUESTS: '12',
      },
    });
  });

  after(async () => {
    await server?.stop();
    files?.cleanup();
  });

  it('answers a missing token with 401, WWW-Authenticate naming the resource metadata, and a JSON-RPC error', async () => {
    const response = await post(server.url);
    expect(response.status).to.equal(401);
    const header = response.headers.get('www-authenticate') ?? '';
    expect(header).to.match(/^Bearer /);
    expect(header).to.include('resource_metadata="https://composer-mcp.example.test/.well-known/oauth-protected-resource/mcp"');
    expect(header).to.include('error="invalid_token"');
    expect(header).to.match(/error_description="Missing bearer token/);
    const body = (await response.json()) as { jsonrpc: string; error: { message: string } };
    expect(body.jsonrpc).to.equal('2.0');
    expect(body.error.message).to.match(/Unauthorized/);
  });

  it('publishes RFC 9728 protected-resource metadata naming the authorization server', async () => {
    const response = await fetch(new URL('/.well-known/oauth-protected-resource/mcp', server.url));
    expect(response.status).to.equal(200);
    const metadata = (await response.json()) as Record<string, unknown>;
    expect(metadata).to.deep.include({ resource: AUDIENCE, authorization_servers: [ISSUER], bearer_methods_supported: ['header'] });
  });

  const refusals: Array<[string, () => Promise<string>, RegExp]> = [
    ['a token signed with another key', () => token({ secret: 'another-secret-of-the-same-sufficient-length-000' }), /signature is invalid/],
    ['an expired token', () => token({ expiresIn: Math.floor(Date.now() / 1000) - 60 }), /expired/],
    ['a token for another audience', () => token({ audience: 'https://other.example.test/mcp' }), /another audience/],
    ['a token from another issuer', () => token({ issuer: 'https://evil.example.test' }), /untrusted issuer/],
    ['garbage', async () => 'not-a-jwt', /malformed/],
  ];
  for (const [name, make, description] of refusals) {
    it(`refuses ${name} with 401 and says why`, async () => {
      const response = await post(server.url, await make());
      expect(response.status).to.equal(401);
      expect(response.headers.get('www-authenticate') ?? '').to.match(description);
    });
  }

  it('accepts a valid token, and audits the call under the token subject', async () => {
    const response = await post(server.url, await token());
    expect(response.status).to.equal(200);
    await response.body?.cancel();
    const client = await connectHttp(server.url, { headers: { authorization: `Bearer ${await token({ subject: 'teacher-42' })}` } });
    try {
      const result = (await client.callTool({ name: 'composer_list_widgets', arguments: {} })) as CallToolResult;
      expect(result.isError).to.not.equal(true);
    } finally {
      await client.close();
    }
    const audit = server.logs().find((l) => l['message'] === 'Tool call completed' && l['subject'] === 'teacher-42');
    expect(audit).to.include({ tool: 'composer_list_widgets', outcome: 'ok' });
  });

  it('hands tools the verified subject in both eras: a 2026-07-28 client\'s call is audited under its token subject too', async () => {
    const client = await connectEraHttp('v2-2026', server.url, { headers: { authorization: `Bearer ${await token({ subject: 'teacher-2026' })}` } });
    try {
      expect(client.era).to.equal('modern');
      const result = await client.callTool('composer_list_widgets', {});
      expect(result.isError).to.not.equal(true);
    } finally {
      await client.close();
    }
    const audit = server.logs().find((l) => l['message'] === 'Tool call completed' && l['subject'] === 'teacher-2026');
    expect(audit).to.include({ tool: 'composer_list_widgets', outcome: 'ok', protocol: 'modern' });
    const anonymous = await connectEraHttp('v2-2026', server.url).then(() => 'connected', (e: unknown) => String(e));
    expect(anonymous, 'a 2026-07-28 client without a token is refused').to.match(/401|Unauthorized/);
  });

  it('rate-limits one subject with 429, Retry-After and a JSON-RPC error, without affecting another subject', async () => {
    const flooder = await token({ subject: 'flooder' });
    let limited: Response | undefined;
    for (let i = 0; i < 20 && !limited; i++) {
      const response = await post(server.url, flooder);
      if (response.status === 429) limited = response;
      else await response.body?.cancel();
    }
    expect(limited, 'no 429 within 20 requests for a limit of 12').to.not.equal(undefined);
    const retryAfter = Number(limited!.headers.get('retry-after'));
    expect(retryAfter).to.be.within(1, 60);
    const body = (await limited!.json()) as { jsonrpc: string; error: { message: string } };
    expect(body.jsonrpc).to.equal('2.0');
    expect(body.error.message).to.match(/retry after \d+ s/);
    const other = await post(server.url, await token({ subject: 'someone-else' }));
    expect(other.status).to.equal(200);
    await other.body?.cancel();
  });

  it('never logs the HS256 secret or a bearer token', async () => {
    const valid = await token({ subject: 'teacher-42' });
    expect(server.stderr()).to.not.include(SECRET);
    expect(server.stderr()).to.not.include(valid.split('.')[2]!);
  });
});
