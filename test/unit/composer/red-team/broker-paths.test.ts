import { expect } from 'chai';
import { decideApiCall, parseApiCallRule } from '#server/composer/broker/read-only-policy.ts';
import { relayRequestHeaders } from '#server/composer/broker/upstream-relay.ts';

const API = 'http://127.0.0.1:8443';
const UID = 'this-composition';
const ASSETS = ['GET /storage/v1.0/assets/**'];

/** The decision for a URL as Chromium would send it (the WHATWG parser normalises it first, as the browser does). */
const decide = (method: string, url: string, rules: string[] = []) => decideApiCall({ method, url: new URL(url).toString(), apiUrl: API, uid: UID, rules: rules.map(parseApiCallRule) });

/**
 * Red team: a page (script running through an app XSS hole) asks the broker, with its look-alike, for calls the
 * read-only lease must not make with the real credentials — by writing the URL so the broker's matcher and the
 * upstream server read different paths, or by changing the origin, method or query.
 */
describe('red team: URLs that try to get a refused call relayed with the real credentials', () => {
  describe('held: the read and the sign-in check are rebuilt from configuration', () => {
    for (const [name, url] of [
      ['dot segments', `${API}/storage/v1.0/content/../upload/connector/uid/c1?uid=${UID}`],
      ['encoded dot segments', `${API}/storage/v1.0/content/%2e%2e/%2E%2E/auth/v1.0/users?uid=${UID}`],
      ['backslashes', `${API}/storage\\v1.0\\content\\..\\..\\auth/v1.0/users?uid=${UID}`],
    ] as const) {
      it(`${name}: normalised before the decision, never read as the read of this composition`, () => {
        const decision = decide('GET', url);
        if (decision.allowed) expect(decision.upstreamUrl).to.be.oneOf([`${API}/storage/v1.0/content?uid=${UID}`, `${API}/auth/v1.0/user/me`]);
        else expect(decision.reason).to.be.oneOf(['path', 'method']);
      });
    }

    it('another uid by duplicate, encoded, empty or array-style parameters is refused', () => {
      for (const query of [`uid=${UID}&uid=other`, `uid=other&uid=${UID}`, `uid[]=${UID}&uid=other`, `uid=${UID}%26uid%3Dother`, `UID=${UID}`, 'uid=', `uid=${UID}#&uid=other`]) {
        const decision = decide('GET', `${API}/storage/v1.0/content?${query}`);
        if (decision.allowed) expect(decision.upstreamUrl, query).to.equal(`${API}/storage/v1.0/content?uid=${UID}`);
      }
      expect(decide('GET', `${API}/storage/v1.0/content?uid=${UID}%26uid%3Dother`).allowed).to.equal(false);
    });

    it('look-alike origins (another port, a trailing dot, localhost for 127.0.0.1, an IPv4-mapped IPv6 literal, https) are not the API', () => {
      for (const origin of ['http://127.0.0.1:8444', 'http://localhost:8443', 'http://[::ffff:127.0.0.1]:8443', 'https://127.0.0.1:8443', 'http://127.0.0.1.:8443x']) {
        let url: string;
        try {
          url = new URL(`${origin}/auth/v1.0/user/me`).toString();
        } catch {
          continue;
        }
        expect(decideApiCall({ method: 'GET', url, apiUrl: API, uid: UID, rules: [] }), origin).to.deep.equal({ allowed: false, reason: 'not-api' });
      }
      // The same origin written otherwise is the same origin for the browser too, and is treated as the API.
      expect(decide('GET', 'http://0x7f.0.0.1:8443/auth/v1.0/user/me').allowed).to.equal(true);
    });

    it('HEAD, OPTIONS, and methods in other cases are not the read', () => {
      expect(decide('HEAD', `${API}/storage/v1.0/content?uid=${UID}`).allowed).to.equal(false);
      expect(decide('OPTIONS', `${API}/storage/v1.0/content?uid=${UID}`).allowed).to.equal(false);
      expect(decide('post', `${API}/auth/v1.0/user/me`).allowed).to.equal(false);
      expect(decide('gEt', `${API}/auth/v1.0/user/me`).allowed).to.equal(true);
    });
  });

  describe('broke: a configured read\'s path is relayed as the page wrote it', () => {
    // Servers decode and normalise paths in ways the WHATWG parser does not: Tomcat/Spring read "..;" as "..",
    // many proxies decode %2F and collapse "//", a matrix parameter ";x" is dropped. Each of these, allowed by a
    // configured "assets/**" rule, would have the server read another composition with the real credentials.
    for (const path of [
      '/storage/v1.0/assets/..;/content',
      '/storage/v1.0/assets/..%2Fcontent',
      '/storage/v1.0/assets/..%2fcontent',
      '/storage/v1.0/assets/%2e%2e%2fcontent',
      '/storage/v1.0/assets/..%5Ccontent',
      '/storage/v1.0/assets//content',
      '/storage/v1.0/assets/x;/../../content',
      '/storage/v1.0/assets/%2E%2E;/content',
      '/storage/v1.0/assets/%C0%AE%C0%AE/content',
      '/storage/v1.0/assets/a%00.png',
      '/storage/v1.0/assets/%252e%252e/content',
    ]) {
      it(`${path} is refused`, () => {
        const decision = decide('GET', `${API}${path}?uid=other`, ASSETS);
        expect(decision.allowed, decision.allowed ? decision.upstreamUrl : '').to.equal(false);
      });
    }

    it('an ordinary asset path (letters, digits, dashes, dots in names, UTF-8) is still allowed', () => {
      for (const path of ['/storage/v1.0/assets/a/b.png', '/storage/v1.0/assets/2024-05/foto_1.jpeg', '/storage/v1.0/assets/fotoss%C3%ADntese.png', '/storage/v1.0/assets/a+b(1).png']) {
        expect(decide('GET', `${API}${path}?size=2`, ASSETS).allowed, path).to.equal(true);
      }
    });
  });
});

describe('red team (held): page headers that try to change what the relayed call does', () => {
  it('Range, method overrides, forwarding, cookies and a second Authorization never go upstream', () => {
    const sent = relayRequestHeaders(
      {
        Accept: 'application/json',
        Range: 'bytes=0-10',
        'If-Range': 'x',
        'X-HTTP-Method-Override': 'DELETE',
        'X-Method-Override': 'PUT',
        'X-Forwarded-For': '10.0.0.1',
        'X-Forwarded-Host': 'evil.example',
        Forwarded: 'for=10.0.0.1',
        Host: 'evil.example',
        Cookie: 'session=x',
        authorization: 'Bearer page-value',
        'Project-Key': 'page-value',
        'Api-Env': 'dev',
        'Content-Type': 'multipart/form-data; boundary=x',
        'Transfer-Encoding': 'chunked',
      },
      { accessToken: 'real-token', projectKey: 'real-key', apiEnv: 'prd' },
    );
    expect(sent).to.deep.equal({ accept: 'application/json', authorization: 'Bearer real-token', 'project-key': 'real-key', 'api-env': 'prd' });
  });
});
