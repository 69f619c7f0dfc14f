import { expect } from 'chai';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { loadConfig } from '#common/config.ts';
import { HealthRegistry } from '#common/health.ts';
import { createLogger } from '#common/logger.ts';
import { InFlightTracker } from '#common/shutdown.ts';
import { bearerVerifierFromConfig } from '#server/auth/bearer-verifier.ts';
import { SERVER_ENV_PREFIX, serverConfigSchema } from '#server/config.ts';
import { createHttpApp } from '#server/http/create-http-app.ts';
import { ToolMetrics } from '#server/mcp/tool-metrics.ts';
import { buildServices, type BuiltServices } from '#server/services-factory.ts';
import { allTools } from '#server/tools/index.ts';

const INITIALIZE = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '0' } } });

/** POSTs an initialize (or sends `method`) with the given headers (Host included: fetch cannot set it). */
function postInitialize(port: number, headers: Record<string, string>, method = 'POST'): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/mcp', method, headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(method === 'POST' ? INITIALIZE : undefined);
  });
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

async function close(server: Server | undefined): Promise<void> {
  if (!server) return;
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

describe('HTTP app in process: in-cluster Host names, and JWKS-verified tokens', function () {
  this.timeout(30000);
  const logger = createLogger({ component: 'test', level: 'error', format: 'json' });
  let built: BuiltServices;
  let jwks: Server;
  let app: Server;
  let port: number;
  let privateKey: CryptoKey;

  before(async () => {
    const keys = await generateKeyPair('RS256', { extractable: true });
    privateKey = keys.privateKey;
    const jwk = { ...(await exportJWK(keys.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    jwks = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    const jwksPort = await listen(jwks);
    const config = loadConfig(serverConfigSchema, {
      envPrefix: SERVER_ENV_PREFIX,
      env: {},
      argv: [
        '--http.host=0.0.0.0',
        '--http.allowed-hosts=composer-mcp.tools.svc,composer-mcp',
        '--http.allowed-origins=https://claude.ai',
        '--auth.mode=jwt',
        '--auth.issuer=https://idp.example.test',
        '--auth.audience=composer-mcp',
        `--auth.jwks-url=http://127.0.0.1:${jwksPort}/jwks.json`,
      ],
    });
    built = await buildServices(config, logger);
    const verifier = bearerVerifierFromConfig(config.auth);
    const express = createHttpApp({
      config,
      logger,
      verifier,
      health: new HealthRegistry(),
      metricsHandler: (_req, res) => res.end(),
      requests: new InFlightTracker(),
      isShuttingDown: () => false,
      mcp: { services: built.services, catalog: built.catalog, tools: allTools(), logger, metrics: new ToolMetrics(), inFlight: new InFlightTracker(), defaultSubject: 'anonymous' },
    });
    app = createServer(express);
    port = await listen(app);
  });

  after(async () => {
    await close(app);
    await close(jwks);
    await built?.stop();
  });

  const sign = (audience = 'composer-mcp') =>
    new SignJWT({}).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setIssuer('https://idp.example.test').setAudience(audience).setSubject('svc-account').setExpirationTime('5m').sign(privateKey);

  it('accepts a configured in-cluster Host name with a token signed by a JWKS key', async () => {
    const response = await postInitialize(port, { host: 'composer-mcp.tools.svc:8080', authorization: `Bearer ${await sign()}` });
    expect(response.status, response.body).to.equal(200);
  });

  it('refuses a Host name that is not configured with 403, before authentication', async () => {
    const response = await postInitialize(port, { host: 'attacker.example:8080', authorization: `Bearer ${await sign()}` });
    expect(response.status).to.equal(403);
    expect(response.body).to.include('http.allowedHosts');
  });

  it('refuses a JWKS-signed token for another audience with 401 and the metadata pointer', async () => {
    const response = await postInitialize(port, { host: 'composer-mcp', authorization: `Bearer ${await sign('someone-else')}` });
    expect(response.status).to.equal(401);
    expect(String(response.headers['www-authenticate'])).to.include('resource_metadata="http://composer-mcp/.well-known/oauth-protected-resource/mcp"');
  });

  it('answers a CORS preflight from a listed browser origin, and exposes the headers a browser client must read', async () => {
    const preflight = await postInitialize(port, { host: 'composer-mcp', origin: 'https://claude.ai', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' }, 'OPTIONS');
    expect(preflight.status).to.equal(204);
    expect(preflight.headers['access-control-allow-origin']).to.equal('https://claude.ai');
    expect(String(preflight.headers['access-control-allow-headers'])).to.include('Authorization');
    const response = await postInitialize(port, { host: 'composer-mcp', origin: 'https://claude.ai', authorization: `Bearer ${await sign()}` });
    expect(response.status).to.equal(200);
    expect(response.headers['access-control-allow-origin']).to.equal('https://claude.ai');
    expect(String(response.headers['access-control-expose-headers'])).to.include('WWW-Authenticate');
  });

  it('gives an unlisted browser origin no CORS headers and refuses its requests with 403', async () => {
    const preflight = await postInitialize(port, { host: 'composer-mcp', origin: 'https://evil.example', 'access-control-request-method': 'POST' }, 'OPTIONS');
    expect(preflight.headers['access-control-allow-origin']).to.equal(undefined);
    const response = await postInitialize(port, { host: 'composer-mcp', origin: 'https://evil.example', authorization: `Bearer ${await sign()}` });
    expect(response.status).to.equal(403);
  });
});
