import { expect } from 'chai';
import { MAX_REPORTED_TEXT, reportedText, reportedUrl } from '#server/composer/session/reported-url.ts';

const SECRET = 'Zm9vYmFyLXNlY3JldC1zaWduYXR1cmUtMDEyMzQ1Njc4OWFiY2RlZg';

/**
 * Red team: what a page logs or throws is reduced by reportedText before it reaches a result. A page controls
 * its size and its characters.
 */
describe('red team: page text that attacks its own reduction', () => {
  it('an 8 MB console message is reduced, not thrown on (before: a RangeError out of the console handler killed the server)', () => {
    for (const text of ['x'.repeat(8_000_000), `${'ab+/'.repeat(3_000_000)} tail`, `see https://evil.example/${'p'.repeat(8_000_000)}`]) {
      let out = '';
      expect(() => {
        out = reportedText(text);
      }).to.not.throw();
      expect(out.length).to.be.at.most(MAX_REPORTED_TEXT);
    }
    expect(() => reportedUrl(`https://evil.example/${'q'.repeat(2_000_000)}?${'r'.repeat(2_000_000)}`)).to.not.throw();
  });

  it('a long opaque run that collapses does not pull a cut-off piece of what follows into view', () => {
    // After the 5 000-character run elides to "[5000 chars]", text that was far down the message moves up.
    for (const pad of [3_990, 4_000, 4_010, 4_050, 8_180, 8_200]) {
      const out = reportedText(`${'A'.repeat(pad)} ${SECRET}${'B'.repeat(30_000)}`);
      for (let i = 0; i + 12 <= SECRET.length; i += 1) expect(out, `pad ${pad}`).to.not.include(SECRET.slice(i, i + 12));
    }
  });

  it('terminal escapes, other control characters and bidi overrides never reach a result', () => {
    const out = reportedText('ok\u001b[2J\u001b]0;owned\u0007 \u009b31m red\u202e txet desrever\u2066x\u2069 \u200b\u0000end');
    expect(out).to.not.match(/[\p{Cc}\p{Cf}]/u);
    expect(out).to.include('ok');
    expect(out).to.include('end');
    // An opaque run split by invisible characters into pieces shorter than the elision length is still one run.
    const split = reportedText(`t ${SECRET.slice(0, 30)}\u200b${SECRET.slice(30)}`);
    expect(split).to.not.include(SECRET.slice(0, 30));
  });
});
