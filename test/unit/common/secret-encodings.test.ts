import { expect } from 'chai';
import { base64Cores, encodedForms, formPairs } from '#common/secret-encodings.ts';
import { REDACTED, SecretRedactor } from '#common/redaction.ts';

const SECRET = 'canary-secret/with+odd=chars&more';

describe('secret encodings', () => {
  it('finds the secret inside the base64 of any text that contains it, at every alignment', () => {
    const cores = base64Cores(SECRET);
    for (const prefix of ['', 'x', 'xy', 'xyz', '{"token":"', 'Bearer ']) {
      for (const suffix of ['', '!', '"}', 'tail-bytes']) {
        const encoded = Buffer.from(`${prefix}${SECRET}${suffix}`).toString('base64');
        expect(cores.some((core) => encoded.includes(core)), `prefix ${JSON.stringify(prefix)}`).to.equal(true);
        const url = Buffer.from(`${prefix}${SECRET}${suffix}`).toString('base64url');
        expect(encodedForms(SECRET).some((form) => url.includes(form)), `base64url, prefix ${JSON.stringify(prefix)}`).to.equal(true);
      }
    }
  });

  it('lists the URL-encoded form and never a form short enough to match noise', () => {
    const forms = encodedForms(SECRET);
    expect(forms).to.include(encodeURIComponent(SECRET));
    expect(forms).to.not.include(SECRET);
    expect(forms.every((f) => f.length >= 8)).to.equal(true);
    expect(encodedForms('abcdef')).to.deep.equal(['YWJjZGVm']);
  });

  it('pairs every form of the real value with the same form of a same-length replacement', () => {
    const fake = 'FAKEFA-KEFAKE/with+odd=chars&more';
    const pairs = formPairs(SECRET, fake);
    expect(pairs[0]).to.deep.equal([SECRET, fake]);
    for (const [real, replacement] of pairs) expect(real.length === replacement.length || real === encodeURIComponent(SECRET)).to.equal(true);
    const text = `x${Buffer.from(`ab${SECRET}cd`).toString('base64')}y ${encodeURIComponent(SECRET)}`;
    let out = text;
    for (const [real, replacement] of pairs) out = out.split(real).join(replacement);
    expect(out).to.not.include(SECRET);
    expect(pairs.slice(1).some(([real]) => out.includes(real))).to.equal(false);
    expect(out).to.include(encodeURIComponent(fake));
  });
});

describe('SecretRedactor with encoded forms', () => {
  it('redacts a secret that was URL-encoded, base64- or base64url-encoded inside a longer text', () => {
    const redactor = new SecretRedactor();
    redactor.add(SECRET);
    const packed = [
      `https://evil.example/${Buffer.from(`stolen=${SECRET}`).toString('base64')}`,
      `https://evil.example/?t=${encodeURIComponent(SECRET)}`,
      `https://evil.example/${Buffer.from(`{"k":"${SECRET}"}`).toString('base64url')}`,
    ];
    for (const text of packed) {
      const out = redactor.redactString(text);
      expect(out, text).to.include(REDACTED);
      expect(out).to.not.include(encodeURIComponent(SECRET));
      expect(base64Cores(SECRET).some((core) => out.includes(core))).to.equal(false);
    }
  });

  it('redacts the signature of a JWT on its own', () => {
    const redactor = new SecretRedactor();
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLXNpZ25hdHVyZS1zaWduYXR1cmU';
    redactor.add(jwt);
    expect(redactor.redactString('sig=c2lnbmF0dXJlLXNpZ25hdHVyZS1zaWduYXR1cmU')).to.equal(`sig=${REDACTED}`);
    // The header and claims are not secret (anyone holding the token can decode them) and stay readable.
    expect(redactor.redactString('eyJzdWIiOiJ4In0')).to.equal('eyJzdWIiOiJ4In0');
  });
});
