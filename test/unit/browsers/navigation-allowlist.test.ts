import { expect } from 'chai';
import { isUrlAllowed, normaliseOrigins } from '#server/browsers/navigation-allowlist.ts';

describe('navigation allowlist', () => {
  const allowed = normaliseOrigins(['https://Composer.Example.com/', 'http://127.0.0.1:8080', 'https://*.cdn.example.org']);

  it('normalises origins and rejects what is not an http(s) origin', () => {
    expect(allowed).to.deep.equal(['https://composer.example.com', 'http://127.0.0.1:8080', 'https://*.cdn.example.org']);
    expect(() => normaliseOrigins(['composer'])).to.throw(/not a URL/);
    expect(() => normaliseOrigins(['ftp://x.example'])).to.throw(/http or https/);
  });

  it('allows the configured origins only, port and scheme included', () => {
    expect(isUrlAllowed('https://composer.example.com/editor#/x', allowed)).to.equal(true);
    expect(isUrlAllowed('http://127.0.0.1:8080/a.js', allowed)).to.equal(true);
    expect(isUrlAllowed('http://127.0.0.1:8081/a.js', allowed)).to.equal(false);
    expect(isUrlAllowed('http://composer.example.com/', allowed)).to.equal(false);
    expect(isUrlAllowed('https://evil.example.net/', allowed)).to.equal(false);
  });

  it('allows subdomains of a wildcard origin but not the look-alikes', () => {
    expect(isUrlAllowed('https://a.cdn.example.org/x.png', allowed)).to.equal(true);
    expect(isUrlAllowed('https://evilcdn.example.org/x.png', allowed)).to.equal(false);
    expect(isUrlAllowed('http://a.cdn.example.org/x.png', allowed)).to.equal(false);
  });

  it('always allows data:, blob: and about:blank, and rejects garbage', () => {
    expect(isUrlAllowed('data:text/html,hi', allowed)).to.equal(true);
    expect(isUrlAllowed('blob:https://composer.example.com/1234', allowed)).to.equal(true);
    expect(isUrlAllowed('about:blank', allowed)).to.equal(true);
    expect(isUrlAllowed('not a url', allowed)).to.equal(false);
  });

  it('allows everything when no allowlist is configured', () => {
    expect(isUrlAllowed('https://anything.example/', undefined)).to.equal(true);
  });
});
