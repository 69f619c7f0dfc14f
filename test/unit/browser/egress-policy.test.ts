import { expect } from 'chai';
import { decideAbsoluteUrl, decideConnect, describeHost, parseAllowedOrigins, parseAuthority } from '#browser/egress/egress-policy.ts';

describe('egress policy', () => {
  const allowed = parseAllowedOrigins(['https://composer.example.com', 'https://api.example.com:8443', 'http://127.0.0.1:4567', 'http://[::1]:9000']);

  it('parses exact origins with default ports', () => {
    expect(allowed.map((o) => [o.scheme, o.host, o.port, o.origin])).to.deep.equal([
      ['https:', 'composer.example.com', 443, 'https://composer.example.com'],
      ['https:', 'api.example.com', 8443, 'https://api.example.com:8443'],
      ['http:', '127.0.0.1', 4567, 'http://127.0.0.1:4567'],
      ['http:', '[::1]', 9000, 'http://[::1]:9000'],
    ]);
    expect(parseAllowedOrigins(['', ' HTTPS://Composer.Example.COM:443/ '])[0]?.origin).to.equal('https://composer.example.com');
  });

  it('refuses entries that are not bare http(s) origins, and wildcards', () => {
    for (const bad of ['composer', 'ftp://x.example', 'https://*.example.com', 'https://u:p@x.example', 'https://x.example/path', 'https://x.example/?q', 'https://x.example#f']) {
      expect(() => parseAllowedOrigins([bad]), bad).to.throw(TypeError, /Allowed origin/);
    }
  });

  it('admits CONNECT only to the host and port of an allowed origin', () => {
    expect(decideConnect('composer.example.com:443', allowed)).to.include({ allowed: true, origin: 'https://composer.example.com' });
    expect(decideConnect('COMPOSER.example.com:443', allowed).allowed).to.equal(true);
    expect(decideConnect('api.example.com:8443', allowed).allowed).to.equal(true);
    expect(decideConnect('127.0.0.1:4567', allowed).allowed).to.equal(true, 'a WebSocket to an http origin tunnels too');
    expect(decideConnect('[::1]:9000', allowed).allowed).to.equal(true);
    for (const bad of ['composer.example.com:444', 'api.example.com:443', 'evil.example:443', '127.0.0.2:4567', 'canary-data.composer.example.com:443', '127.0.0.1:4568']) {
      expect(decideConnect(bad, allowed), bad).to.include({ allowed: false, reason: 'not-allowed' });
    }
    for (const bad of ['composer.example.com', 'composer.example.com:0', 'a b:443', 'x/y:443', 'user@composer.example.com:443', ':443', 'composer.example.com:99999']) {
      expect(decideConnect(bad, allowed), bad).to.include({ allowed: false, reason: 'malformed' });
    }
  });

  it('admits plain HTTP only to allowed http origins, matching scheme, host and port', () => {
    expect(decideAbsoluteUrl('http://127.0.0.1:4567/path?q=1', allowed)).to.include({ allowed: true, origin: 'http://127.0.0.1:4567' });
    expect(decideAbsoluteUrl('http://127.0.0.1:4568/', allowed)).to.include({ allowed: false, reason: 'not-allowed', origin: 'http://127.0.0.1:4568' });
    expect(decideAbsoluteUrl('http://127.0.0.1/', allowed)).to.include({ allowed: false, origin: 'http://127.0.0.1:80' });
    expect(decideAbsoluteUrl('http://composer.example.com:443/', allowed).allowed).to.equal(false, 'https origin does not admit plain http');
    expect(decideAbsoluteUrl('https://composer.example.com/', allowed)).to.include({ allowed: false, reason: 'scheme' });
    expect(decideAbsoluteUrl('/relative', allowed)).to.include({ allowed: false, reason: 'malformed' });
    expect(decideAbsoluteUrl('ftp://127.0.0.1:4567/', allowed)).to.include({ allowed: false, reason: 'scheme' });
  });

  it('reports a refused origin without path, query or the labels a page chose (they carry what a page put in them)', () => {
    expect(decideAbsoluteUrl('http://127.0.0.2:18080/x?token=CANARY', allowed).origin).to.equal('http://127.0.0.2:18080');
    const named = decideAbsoluteUrl('http://c2VjcmV0LXRva2Vu.exfil.attacker.example/x', allowed);
    expect(named.origin).to.equal('http://*.attacker.example:80');
    expect(named.allowed === false && named.hostHash).to.match(/^[0-9a-f]{8}$/);
    expect(decideConnect('c2VjcmV0.attacker.example:443', allowed).origin).to.equal('*.attacker.example:443');
    expect(decideConnect('[2001:db8::dead:beef]:443', allowed).origin).to.equal('[ipv6]:443');
    expect(describeHost('localhost')).to.include({ host: 'localhost' });
    expect(describeHost('a.b').host).to.equal('a.b');
  });

  it('splits CONNECT authorities, normalising host names and IPs the way URLs do', () => {
    expect(parseAuthority('Example.COM:443')).to.deep.equal({ host: 'example.com', port: 443 });
    expect(parseAuthority('[::1]:80')).to.deep.equal({ host: '[::1]', port: 80 });
    expect(parseAuthority('127.1:80')).to.deep.equal({ host: '127.0.0.1', port: 80 });
    expect(parseAuthority('a'.repeat(400) + ':1')).to.equal(undefined);
  });
});
