import { expect } from 'chai';
import { decodeJwt, decodeProtectedHeader, SignJWT } from 'jose';
import { isDecodableJwt, lookAlikeKey, lookAlikeToken, sameShapeRandom, uniqueLookAlike } from '#server/composer/broker/look-alike.ts';

describe('look-alike credentials', () => {
  it('a JWT look-alike has the same header and claims, a different signature of the same length, and decodes alike', async () => {
    const token = await new SignJWT({ name: 'Ana', pad: 'x'.repeat(2400) }).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setSubject('ana').setExpirationTime('1h').sign(new TextEncoder().encode('k'.repeat(32)));
    const fake = lookAlikeToken(token);
    const [h, p, s] = token.split('.');
    const [fh, fp, fs] = fake.split('.');
    expect([fh, fp]).to.deep.equal([h, p]);
    expect(fs).to.not.equal(s);
    expect(fs!.length).to.equal(s!.length);
    expect(fs).to.match(/^[A-Za-z0-9_-]+$/);
    expect(decodeJwt(fake)).to.deep.equal(decodeJwt(token));
    expect(decodeProtectedHeader(fake)).to.deep.equal(decodeProtectedHeader(token));
    expect(fake.length).to.equal(token.length);
  });

  it('two look-alikes of the same token differ (each names its lease)', async () => {
    const token = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode('k'.repeat(32)));
    const seen = new Set(Array.from({ length: 200 }, () => lookAlikeToken(token)));
    expect(seen.size).to.equal(200);
  });

  it('an opaque token or project key gets a random value of the same shape', () => {
    expect(isDecodableJwt('not-a-jwt-value')).to.equal(false);
    expect(isDecodableJwt('a.b.c')).to.equal(false);
    const key = 'project-key-1A2b-3C4d';
    const fake = lookAlikeKey(key);
    expect(fake).to.not.equal(key);
    expect(fake.length).to.equal(key.length);
    expect(fake.replace(/[a-z]/g, 'a').replace(/[A-Z]/g, 'A').replace(/\d/g, '0')).to.equal(key.replace(/[a-z]/g, 'a').replace(/[A-Z]/g, 'A').replace(/\d/g, '0'));
    expect(lookAlikeToken('opaque_token_9f8e7d')).to.match(/^[a-z]{6}_[a-z]{5}_\d[a-z]\d[a-z]\d[a-z]$/);
    expect(sameShapeRandom('550e8400-e29b-41d4-a716-446655440000')).to.match(/^[a-z0-9]{8}-[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{12}$/);
  });

  it('a unique look-alike avoids the real value and the taken ones, even for a secret with nothing to randomise', () => {
    const taken = new Set(['aaaaaa']);
    expect(uniqueLookAlike('------', lookAlikeKey, (c) => taken.has(c))).to.not.equal('------');
    let calls = 0;
    const out = uniqueLookAlike('abcdef', () => (calls++ < 3 ? 'aaaaaa' : 'bbbbbb'), (c) => taken.has(c));
    expect(out).to.equal('bbbbbb');
  });
});
