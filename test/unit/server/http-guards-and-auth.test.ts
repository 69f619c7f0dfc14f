import { expect } from 'chai';
import { SignJWT } from 'jose';
import { bearerTokenOf } from '#server/auth/bearer-middleware.ts';
import { createBearerVerifier, InvalidTokenError } from '#server/auth/bearer-verifier.ts';
import { unsafeExposure } from '#server/auth/exposure-check.ts';
import { metadataUrlFor, protectedResourceMetadata, resourceUrlFor, wwwAuthenticate } from '#server/auth/protected-resource.ts';
import { callerOf, isInitializeRequest } from '#server/http/caller-identity.ts';
import { retryAfterSeconds } from '#server/auth/rate-limit.ts';
import { effectiveAllowedHosts, hostnameOf, isOriginAllowed } from '#server/http/request-guards.ts';

describe('HTTP guards', () => {
  it('accepts loopback Host names on a loopback listener, the configured names when set, anything on 0.0.0.0 without a list', () => {
    expect(effectiveAllowedHosts('127.0.0.1', [])).to.include.members(['localhost', '127.0.0.1', '[::1]']);
    expect(effectiveAllowedHosts('0.0.0.0', ['composer-mcp.tools.svc'])).to.deep.equal(['composer-mcp.tools.svc']);
    expect(effectiveAllowedHosts('0.0.0.0', [])).to.equal(undefined);
  });

  it('parses Host headers without the port, keeping IPv6 brackets', () => {
    expect(hostnameOf('LocalHost:8080')).to.equal('localhost');
    expect(hostnameOf('[::1]:8080')).to.equal('[::1]');
    expect(hostnameOf(undefined)).to.equal(undefined);
  });

  it('accepts no Origin, listed origins, and same-host origins; refuses others', () => {
    const hosts = ['localhost', '127.0.0.1'];
    expect(isOriginAllowed(undefined, [], hosts)).to.equal(true);
    expect(isOriginAllowed('http://127.0.0.1:8080', [], hosts)).to.equal(true);
    expect(isOriginAllowed('https://claude.ai', ['https://claude.ai'], hosts)).to.equal(true);
    expect(isOriginAllowed('http://evil.example', [], hosts)).to.equal(false);
    expect(isOriginAllowed('http://evil.example', [], undefined)).to.equal(false);
    expect(isOriginAllowed('not a url', [], hosts)).to.equal(false);
  });
});

describe('protected-resource metadata (RFC 9728)', () => {
  it('puts the well-known segment before the resource path', () => {
    expect(metadataUrlFor('https://mcp.example.com/mcp')).to.equal('https://mcp.example.com/.well-known/oauth-protected-resource/mcp');
    expect(metadataUrlFor('https://mcp.example.com/')).to.equal('https://mcp.example.com/.well-known/oauth-protected-resource');
  });

  it('builds the document and a WWW-Authenticate value without quotes breaking out', () => {
    expect(protectedResourceMetadata('https://r/mcp', ['https://as'])).to.deep.include({ resource: 'https://r/mcp', authorization_servers: ['https://as'] });
    expect(wwwAuthenticate('https://r/.well-known/x', 'bad "token"')).to.equal('Bearer resource_metadata="https://r/.well-known/x", error="invalid_token", error_description="bad token"');
  });
});

describe('resource URL from the request', () => {
  const request = (host: string | undefined, protocol = 'http') => ({ protocol, get: (name: string) => (name.toLowerCase() === 'host' ? host : undefined) }) as never;

  it('uses the configured URL, else the Host the request came in on', () => {
    expect(resourceUrlFor(request('evil'), 'https://mcp.example.com/mcp')).to.equal('https://mcp.example.com/mcp');
    expect(resourceUrlFor(request('composer-mcp:8080'), undefined)).to.equal('http://composer-mcp:8080/mcp');
  });

  it('never throws on a Host that is not a host name, and never lets it add a path, query or credentials', () => {
    for (const host of ['[', '[::1', 'a b', 'evil.example/x?', 'user@evil.example', '', undefined]) {
      const url = resourceUrlFor(request(host), undefined);
      expect(url, String(host)).to.equal('http://localhost/mcp');
      expect(() => metadataUrlFor(url)).to.not.throw();
    }
  });
});

describe('start-up exposure check', () => {
  const settings = (host: string, allowedHosts: string[], resourceUrl?: string, mode: 'jwt' | 'none' = 'jwt') => ({ http: { host, allowedHosts }, auth: { mode, resourceUrl } });

  it('refuses jwt on a non-loopback address without allowedHosts or resourceUrl, naming both settings', () => {
    const problem = unsafeExposure(settings('0.0.0.0', []));
    expect(problem).to.match(/http\.allowedHosts/).and.match(/auth\.resourceUrl/);
  });

  it('accepts loopback, either setting, or auth none', () => {
    expect(unsafeExposure(settings('127.0.0.1', []))).to.equal(undefined);
    expect(unsafeExposure(settings('0.0.0.0', ['mcp.example.com']))).to.equal(undefined);
    expect(unsafeExposure(settings('0.0.0.0', [], 'https://mcp.example.com/mcp'))).to.equal(undefined);
    expect(unsafeExposure(settings('0.0.0.0', [], undefined, 'none'))).to.equal(undefined);
  });
});

describe('caller identity (who may cancel a call)', () => {
  it('is the subject when authenticated, else a well-formed caller nonce, else nobody', () => {
    expect(callerOf('alice', '2b9f8f5e-0f4c-4a53-9d55-5b0f6c7c8d9e')).to.equal('sub:alice');
    expect(callerOf(undefined, '2B9F8F5E-0F4C-4A53-9D55-5B0F6C7C8D9E')).to.equal('nonce:2b9f8f5e-0f4c-4a53-9d55-5b0f6c7c8d9e');
    expect(callerOf(undefined, undefined)).to.equal(undefined);
    expect(callerOf(undefined, '1')).to.equal(undefined);
    expect(callerOf(undefined, ['a', 'b'])).to.equal(undefined);
  });

  it('recognises an initialize request (it gets a nonce), not a batch or a notification', () => {
    expect(isInitializeRequest({ jsonrpc: '2.0', id: 1, method: 'initialize' })).to.equal(true);
    expect(isInitializeRequest([{ jsonrpc: '2.0', id: 1, method: 'initialize' }])).to.equal(false);
    expect(isInitializeRequest({ jsonrpc: '2.0', method: 'initialize' })).to.equal(false);
  });
});

describe('bearer tokens', () => {
  const secret = new TextEncoder().encode('unit-test-secret-0123456789-abcdefghij');
  const verifier = createBearerVerifier({ issuer: 'iss', audience: 'aud', hs256Secret: secret, clockToleranceSeconds: 0 });
  const sign = (claims: { aud?: string; exp?: number; sub?: string | null } = {}) => {
    const jwt = new SignJWT({ client_id: 'client-7' }).setProtectedHeader({ alg: 'HS256' }).setIssuer('iss').setAudience(claims.aud ?? 'aud').setExpirationTime(claims.exp ?? '5m');
    if (claims.sub !== null) jwt.setSubject(claims.sub ?? 'user-1');
    return jwt.sign(secret);
  };

  it('extracts the token of a Bearer header only', () => {
    expect(bearerTokenOf('Bearer abc.def.ghi')).to.equal('abc.def.ghi');
    expect(bearerTokenOf('bearer xyz')).to.equal('xyz');
    expect(bearerTokenOf('Basic Zm9vOmJhcg==')).to.equal(undefined);
    expect(bearerTokenOf(undefined)).to.equal(undefined);
  });

  it('returns subject, client id and expiry of a valid token', async () => {
    const verified = await verifier.verify(await sign());
    expect(verified).to.include({ subject: 'user-1', clientId: 'client-7' });
    expect(verified.expiresAt).to.be.a('number');
  });

  it('says why a token is refused: expired, other audience, no subject', async () => {
    const refusal = async (token: string) => verifier.verify(token).then(() => undefined, (e: unknown) => e);
    const expired = await refusal(await sign({ exp: Math.floor(Date.now() / 1000) - 10 }));
    expect(expired).to.be.instanceOf(InvalidTokenError);
    expect((expired as InvalidTokenError).description).to.match(/expired/);
    expect(((await refusal(await sign({ aud: 'other' }))) as InvalidTokenError).description).to.match(/audience/);
    expect(((await refusal(await sign({ sub: null }))) as InvalidTokenError).description).to.match(/"sub" claim/);
  });

  it('refuses a token whose subject is empty or blank: nobody could be audited or rate-limited by it', async () => {
    for (const sub of ['', '   ']) {
      const refused = await verifier.verify(await sign({ sub })).then(() => undefined, (e: unknown) => e);
      expect(refused, JSON.stringify(sub)).to.be.instanceOf(InvalidTokenError);
      expect((refused as InvalidTokenError).description).to.match(/empty subject/);
    }
  });
});

describe('rate limit', () => {
  it('computes Retry-After from the window reset, at least 1 s', () => {
    expect(retryAfterSeconds(new Date(10_500), 1_000, 60)).to.equal(10);
    expect(retryAfterSeconds(new Date(1_000), 1_000, 60)).to.equal(1);
    expect(retryAfterSeconds(undefined, 0, 60)).to.equal(60);
  });
});
