import { expect } from 'chai';
import { describeBlocked, isEgressRefusal, MAX_PATH_CHARS, normaliseOrigins } from '#server/browsers/blocked-requests.ts';

describe('reporting requests the egress proxy refused', () => {
  it('normalises configured origins and rejects what is not an http(s) origin', () => {
    expect(normaliseOrigins(['https://Composer.Example.com/', 'http://127.0.0.1:8080'])).to.deep.equal(['https://composer.example.com', 'http://127.0.0.1:8080']);
    expect(() => normaliseOrigins(['composer'])).to.throw(/not a URL/);
    expect(() => normaliseOrigins(['ftp://x.example'])).to.throw(/http or https/);
  });

  it('reports origin and a truncated path, never the query, fragment or host labels a page chose', () => {
    const b = describeBlocked('https://c2VjcmV0LXRva2Vu.exfil.attacker.example:8443/steal/it?token=SECRET#frag', 'fetch')!;
    expect(b).to.deep.equal({ url: 'https://*.attacker.example:8443/steal/it', origin: 'https://*.attacker.example:8443', path: '/steal/it', resourceType: 'fetch' });
    const long = describeBlocked(`http://127.0.0.2:1/${'a'.repeat(200)}`, 'image')!;
    expect(long.path.length).to.equal(MAX_PATH_CHARS);
    expect(long.path.endsWith('…')).to.equal(true);
    expect(describeBlocked('not a url', 'other')).to.equal(undefined);
  });

  it('takes a tunnel failure for a refusal unless the origin is one the pool admits', () => {
    const allowed = ['https://api.example.com'];
    expect(isEgressRefusal('net::ERR_TUNNEL_CONNECTION_FAILED', 'https://evil.example/x', allowed)).to.equal(true);
    expect(isEgressRefusal('net::ERR_TUNNEL_CONNECTION_FAILED', 'https://api.example.com/x', allowed)).to.equal(false);
    expect(isEgressRefusal('net::ERR_ABORTED', 'https://evil.example/x', allowed)).to.equal(false);
    expect(isEgressRefusal(undefined, 'https://evil.example/x', allowed)).to.equal(false);
  });
});

describe('a gateway\'s load report', () => {
  it('reads contexts, own contexts and the cap, and refuses what is not a report', async () => {
    const { parseLoadReport } = await import('#server/browsers/browser-connection.ts');
    expect(parseLoadReport({ contexts: 3, yours: 1, maxContexts: 4, leased: 2, warm: 1 })).to.deep.equal({ contexts: 3, yours: 1, maxContexts: 4 });
    expect(parseLoadReport({ contexts: 1, yours: 5, maxContexts: 4 })?.yours, 'never more of ours than there are').to.equal(1);
    for (const bad of [undefined, null, 'x', {}, { contexts: -1, yours: 0, maxContexts: 4 }, { contexts: 1, yours: 0, maxContexts: 0 }, { contexts: 1.5, yours: 0, maxContexts: 4 }]) {
      expect(parseLoadReport(bad), JSON.stringify(bad)).to.equal(undefined);
    }
  });
});
