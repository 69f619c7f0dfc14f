import { expect } from 'chai';
import { reportedOrigin, reportedOriginAndPath, reportedText, reportedUrl } from '#server/composer/session/reported-url.ts';

const B64 = Buffer.from('eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.secret-signature project-key-123').toString('base64');

describe('reported URLs and page text', () => {
  it('keeps origin and path, drops query and fragment', () => {
    expect(reportedUrl('https://api.example.com/storage/v1.0/content?uid=x&access_token=abc#frag')).to.equal('https://api.example.com/storage/v1.0/content');
    expect(reportedOriginAndPath('https://api.example.com/a/b?x=1')).to.deep.equal({ origin: 'https://api.example.com', path: '/a/b' });
    expect(reportedOrigin('https://evil.example:8443/whatever?x=1')).to.equal('https://evil.example:8443');
  });

  it('elides a long opaque path segment (a page that base64-encodes something into a URL) and truncates', () => {
    const out = reportedUrl(`https://evil.example/${B64}/x`);
    expect(out).to.equal(`https://evil.example/[${B64.length} chars]/x`);
    expect(reportedUrl(`https://evil.example/${'a/'.repeat(200)}`).length).to.be.at.most(160);
  });

  it('reports non-http URLs by scheme only and survives garbage', () => {
    expect(reportedUrl(`data:text/html;base64,${B64}`)).to.equal('data:…');
    expect(reportedUrl(`javascript:alert(1)`)).to.equal('javascript:…');
    expect(reportedUrl('not a url')).to.equal('(invalid URL)');
  });

  it('reduces URLs inside console text, elides opaque runs, collapses whitespace and truncates', () => {
    const text = reportedText(`stolen ${B64}\n\n see https://evil.example/p?t=${encodeURIComponent(B64)} done`);
    expect(text).to.equal(`stolen [${B64.length} chars] see https://evil.example/p done`);
    expect(reportedText('x'.repeat(1000) + ' y').length).to.be.at.most(300);
    expect(reportedText('Uncaught TypeError: cannot read properties of undefined (reading "a")')).to.equal('Uncaught TypeError: cannot read properties of undefined (reading "a")');
  });
});
