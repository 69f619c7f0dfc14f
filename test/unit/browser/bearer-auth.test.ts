import { expect } from 'chai';
import { checkBearer, parseBearer, parseTokenFile, secretsEqual } from '#browser/gateway/bearer-auth.ts';

describe('bearer auth', () => {
  it('parses the token of a Bearer header, case-insensitively, and nothing else', () => {
    expect(parseBearer('Bearer abc.DEF-123')).to.equal('abc.DEF-123');
    expect(parseBearer('bearer   abc ')).to.equal('abc');
    expect(parseBearer('Basic dXNlcjpwYXNz')).to.equal(undefined);
    expect(parseBearer('Bearer')).to.equal(undefined);
    expect(parseBearer('Bearer a b')).to.equal(undefined);
    expect(parseBearer(undefined)).to.equal(undefined);
    expect(parseBearer(['Bearer a', 'Bearer b'])).to.equal(undefined);
  });

  it('compares secrets of any lengths without throwing', () => {
    expect(secretsEqual('same-token', 'same-token')).to.equal(true);
    expect(secretsEqual('same-token', 'same-tokeN')).to.equal(false);
    expect(secretsEqual('short', 'a-much-longer-token')).to.equal(false);
    expect(secretsEqual('', '')).to.equal(true);
  });

  it('lets through exactly the accepted tokens and says why it refused the rest', () => {
    const accepted = ['token-one-aaaa', 'token-two-bbbb'];
    expect(checkBearer('Bearer token-one-aaaa', accepted)).to.equal(undefined);
    expect(checkBearer('Bearer token-two-bbbb', accepted)).to.equal(undefined);
    expect(checkBearer('Bearer token-three', accepted)).to.equal('invalid');
    expect(checkBearer('Bearer token-one-aaa', accepted)).to.equal('invalid');
    expect(checkBearer(undefined, accepted)).to.equal('missing');
    expect(checkBearer('token-one-aaaa', accepted)).to.equal('malformed');
    expect(checkBearer('Bearer token-one-aaaa', [])).to.equal('no-token-configured');
  });

  it('reads one token per non-empty line, trimmed', () => {
    expect(parseTokenFile('abc\n')).to.deep.equal(['abc']);
    expect(parseTokenFile('  abc  \r\n\n def\n')).to.deep.equal(['abc', 'def']);
    expect(parseTokenFile('\n \n')).to.deep.equal([]);
  });
});
