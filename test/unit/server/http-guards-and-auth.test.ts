import { expect } from 'chai';
import { SignJWT } from 'jose';
import { bearerTokenOf } from '#server/auth/bearer-middleware.ts';
import { createBearerVerifier, InvalidTokenError } from '#server/auth/bearer-verifier.ts';
import { metadataUrlFor, protectedResourceMetadata, wwwAuthenticate } from '#server/auth/protected-resource.ts';
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
});

describe('rate limit', () => {
  it('computes Retry-After from the window reset, at least 1 s', () => {
    expect(retryAfterSeconds(new Date(10_500), 1_000, 60)).to.equal(10);
    expect(retryAfterSeconds(new Date(1_000), 1_000, 60)).to.equal(1);
    expect(retryAfterSeconds(undefined, 0, 60)).to.equal(60);
  });
});
