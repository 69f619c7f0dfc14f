import { expect } from 'chai';
import { createHmac, createPublicKey } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { createBearerVerifier, InvalidTokenError, type BearerVerifier } from '#server/auth/bearer-verifier.ts';

const ISSUER = 'https://idp.example.test';
const AUDIENCE = 'composer-mcp';
const b64url = (value: string | Buffer) => Buffer.from(value).toString('base64url');
const claims = () => ({ iss: ISSUER, aud: AUDIENCE, sub: 'attacker', exp: Math.floor(Date.now() / 1000) + 300 });

/** A token signed by hand with HMAC-SHA of `key`, whatever `alg` its header names (what an attacker writes). */
function hmacToken(header: Record<string, unknown>, key: string | Buffer, hash = 'sha256'): string {
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims()))}`;
  return `${input}.${createHmac(hash, key).update(input).digest('base64url')}`;
}

/** An unsecured JWT (RFC 7519 §6): no signature at all. */
function unsecuredToken(alg: string): string {
  return `${b64url(JSON.stringify({ alg, typ: 'JWT' }))}.${b64url(JSON.stringify(claims()))}.`;
}

async function refusal(verifier: BearerVerifier, token: string): Promise<string> {
  const outcome = await verifier.verify(token).then((v) => v, (e: unknown) => e);
  expect(outcome, `verify(${token.slice(0, 60)}…) resolved`).to.be.instanceOf(InvalidTokenError);
  return (outcome as InvalidTokenError).description;
}

describe('JWT algorithms pinned per key type: no token is accepted under an algorithm its key was not meant for', () => {
  const secret = 'unit-test-secret-0123456789-abcdefghij';
  const hs = createBearerVerifier({ issuer: ISSUER, audience: AUDIENCE, hs256Secret: new TextEncoder().encode(secret), clockToleranceSeconds: 0 });
  let jwksServer: Server;
  let jwks: BearerVerifier;
  let rsaPrivate: CryptoKey;
  let rsaPublicPem: string;
  /** A symmetric key a JWKS wrongly publishes beside its RSA key: anyone can read it, so nothing it signs may count. */
  const publishedOctKey = Buffer.from('a-symmetric-key-in-a-public-jwks-0123456789');

  before(async () => {
    const rsa = await generateKeyPair('RS256', { extractable: true });
    rsaPrivate = rsa.privateKey;
    rsaPublicPem = await exportSPKI(rsa.publicKey);
    const keys = [
      { ...(await exportJWK(rsa.publicKey)), kid: 'rsa-1', use: 'sig' },
      { kty: 'oct', k: publishedOctKey.toString('base64url'), kid: 'oct-1' },
    ];
    jwksServer = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys }));
    });
    await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
    const port = (jwksServer.address() as AddressInfo).port;
    jwks = createBearerVerifier({ issuer: ISSUER, audience: AUDIENCE, jwksUrl: `http://127.0.0.1:${port}/jwks.json`, clockToleranceSeconds: 0 });
  });

  after(async () => {
    jwksServer.closeAllConnections();
    await new Promise<void>((resolve) => jwksServer.close(() => resolve()));
  });

  it('the control: each verifier accepts a token of its own key and algorithm (HS256 secret, RS256 JWKS)', async () => {
    expect((await hs.verify(hmacToken({ alg: 'HS256', typ: 'JWT' }, secret))).subject).to.equal('attacker');
    const rs256 = await new SignJWT({}).setProtectedHeader({ alg: 'RS256', kid: 'rsa-1' }).setIssuer(ISSUER).setAudience(AUDIENCE).setSubject('svc').setExpirationTime('5m').sign(rsaPrivate);
    expect((await jwks.verify(rs256)).subject).to.equal('svc');
  });

  it('refuses unsecured tokens (alg none, in any case) with an HS256 secret or a JWKS', async () => {
    for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
      expect(await refusal(hs, unsecuredToken(alg)), `${alg} against the HS256 secret`).to.match(/malformed|algorithm|could not be verified/);
      expect(await refusal(jwks, unsecuredToken(alg)), `${alg} against the JWKS`).to.match(/malformed|algorithm|could not be verified|No key/);
    }
  });

  it("refuses algorithm confusion: HS256 keyed with the JWKS's RSA public key (PEM, DER, its JWK modulus)", async () => {
    const der = createPublicKey(rsaPublicPem).export({ type: 'spki', format: 'der' });
    const jwk = createPublicKey(rsaPublicPem).export({ format: 'jwk' });
    for (const [form, key] of [['PEM', rsaPublicPem], ['PEM without newline', rsaPublicPem.trim()], ['DER', der], ['modulus', Buffer.from(jwk.n!, 'base64url')]] as const) {
      for (const kid of ['rsa-1', undefined]) {
        const header = kid ? { alg: 'HS256', kid } : { alg: 'HS256' };
        expect(await refusal(jwks, hmacToken(header, key)), `HS256 with the ${form} as secret, kid ${kid}`).to.match(/algorithm|No key/);
      }
    }
  });

  it('refuses an HMAC token keyed with a symmetric key a JWKS wrongly publishes: a JWKS admits asymmetric algorithms only', async () => {
    for (const [alg, hash] of [['HS256', 'sha256'], ['HS384', 'sha384'], ['HS512', 'sha512']] as const) {
      expect(await refusal(jwks, hmacToken({ alg, kid: 'oct-1' }, publishedOctKey, hash)), alg).to.equal('The token is signed with an algorithm this server does not accept.');
    }
  });

  it('refuses an algorithm the HS256 secret is not pinned to, even signed with the right secret (HS384, HS512), or an RS256 token', async () => {
    for (const [alg, hash] of [['HS384', 'sha384'], ['HS512', 'sha512']] as const) {
      expect(await refusal(hs, hmacToken({ alg }, secret, hash)), alg).to.equal('The token is signed with an algorithm this server does not accept.');
    }
    const rs256 = await new SignJWT({}).setProtectedHeader({ alg: 'RS256' }).setIssuer(ISSUER).setAudience(AUDIENCE).setSubject('svc').setExpirationTime('5m').sign(rsaPrivate);
    expect(await refusal(hs, rs256), 'RS256 against the HS256 secret').to.equal('The token is signed with an algorithm this server does not accept.');
  });

  it('refuses a JWKS token naming an algorithm of another key type than the key it names (ES256 on the RSA key)', async () => {
    const input = `${b64url(JSON.stringify({ alg: 'ES256', kid: 'rsa-1' }))}.${b64url(JSON.stringify(claims()))}`;
    expect(await refusal(jwks, `${input}.${b64url(Buffer.alloc(64, 1))}`)).to.match(/No key|algorithm|signature/);
  });
});
