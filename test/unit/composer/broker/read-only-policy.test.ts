import { expect } from 'chai';
import { decideApiCall, parseApiCallRule } from '#server/composer/broker/read-only-policy.ts';

const API = 'https://api.example.com';
const UID = 'H4sIAAAA+b/c=';

describe('read-only lease policy', () => {
  const decide = (method: string, url: string, rules: string[] = [], apiUrl = API) => decideApiCall({ method, url, apiUrl, uid: UID, rules: rules.map(parseApiCallRule) });

  it('allows the sign-in check and the read of this composition, rebuilt from configuration', () => {
    expect(decide('GET', `${API}/auth/v1.0/user/me?access_token=x`)).to.deep.equal({ allowed: true, kind: 'sign-in', upstreamUrl: `${API}/auth/v1.0/user/me` });
    const read = decide('GET', `${API}/storage/v1.0/content?uid=${encodeURIComponent(UID)}&access_token=fake&project_key=fake&api_env=prd`);
    expect(read).to.deep.equal({ allowed: true, kind: 'read', upstreamUrl: `${API}/storage/v1.0/content?uid=${encodeURIComponent(UID)}` });
    // An app that writes the uid unencoded (its '+' and '/' raw) still gets its read.
    expect(decide('GET', `${API}/storage/v1.0/content?uid=${UID}`).allowed).to.equal(true);
  });

  it('refuses writes, other compositions, other paths, other origins and ambiguous reads', () => {
    expect(decide('POST', `${API}/storage/v1.0/upload/connector/uid/c1`)).to.deep.equal({ allowed: false, reason: 'method' });
    expect(decide('PUT', `${API}/storage/v1.0/content?uid=${encodeURIComponent(UID)}`)).to.deep.equal({ allowed: false, reason: 'method' });
    expect(decide('GET', `${API}/storage/v1.0/content?uid=other`)).to.deep.equal({ allowed: false, reason: 'other-composition' });
    expect(decide('GET', `${API}/storage/v1.0/content?uid=${encodeURIComponent(UID)}&uid=other`)).to.deep.equal({ allowed: false, reason: 'other-composition' });
    expect(decide('GET', `${API}/storage/v1.0/content`)).to.deep.equal({ allowed: false, reason: 'other-composition' });
    expect(decide('GET', `${API}/auth/v1.0/users`)).to.deep.equal({ allowed: false, reason: 'path' });
    expect(decide('GET', `${API}/evil/auth/v1.0/user/me`)).to.deep.equal({ allowed: false, reason: 'path' });
    expect(decide('GET', `https://evil.example/auth/v1.0/user/me`)).to.deep.equal({ allowed: false, reason: 'not-api' });
    expect(decide('GET', `${API}/auth/v1.0/user/me`, [], `${API}/base`)).to.deep.equal({ allowed: false, reason: 'not-api' });
    expect(decide('GET', `${API}/base/auth/v1.0/user/me`, [], `${API}/base`).allowed).to.equal(true);
  });

  it('allows configured reads by method and path pattern, passing the query on without credentials', () => {
    const rules = ['GET /storage/v1.0/assets/**', 'HEAD /auth/v1.0/user/*/avatar'];
    expect(decide('GET', `${API}/storage/v1.0/assets/a/b.png?size=2&access_token=fake`, rules)).to.deep.equal({ allowed: true, kind: 'configured', upstreamUrl: `${API}/storage/v1.0/assets/a/b.png?size=2` });
    expect(decide('HEAD', `${API}/auth/v1.0/user/u1/avatar`, rules).allowed).to.equal(true);
    expect(decide('HEAD', `${API}/auth/v1.0/user/u1/x/avatar`, rules).allowed).to.equal(false);
    expect(decide('GET', `${API}/auth/v1.0/user/u1/avatar`, rules).allowed).to.equal(false);
    expect(decide('POST', `${API}/storage/v1.0/assets/a`, rules).allowed).to.equal(false);
  });

  it('refuses to configure anything but a read, with a message that says why', () => {
    expect(() => parseApiCallRule('POST /storage/v1.0/upload/**')).to.throw(/read-only.*GET and HEAD/);
    expect(() => parseApiCallRule('GET storage')).to.throw(/must start with "\/"/);
    expect(() => parseApiCallRule('GET /a?b=c')).to.throw(/without a query/);
    expect(() => parseApiCallRule('/only/a/path')).to.throw(/METHOD \/path/);
    expect(parseApiCallRule('get /a.b/(c)').regex.test('/a.b/(c)')).to.equal(true);
    expect(parseApiCallRule('get /a.b/(c)').regex.test('/aXb/(c)')).to.equal(false);
  });
});
