import { expect } from 'chai';
import { formPairs } from '#common/secret-encodings.ts';
import { credentialCandidates } from '#server/composer/broker/request-credentials.ts';
import { relayedHeaders, scrubBytes, scrubText } from '#server/composer/broker/response-scrub.ts';
import { relayRequestHeaders } from '#server/composer/broker/upstream-relay.ts';

const REAL = 'real-token-0123456789abcdef';
const FAKE = 'fake-token-9876543210fedcba';

describe('broker: credentials in a request, scrubbing an answer', () => {
  it('finds look-alike candidates in the Authorization and Project-Key headers and the credential query parameters', () => {
    expect(credentialCandidates({ method: 'GET', url: 'https://api/x?access_token=q1&project_key=q2&other=q3', headers: { authorization: 'Bearer h1', 'Project-Key': 'h2', Cookie: 'c' } })).to.deep.equal(['h1', 'h2', 'q1', 'q2']);
    expect(credentialCandidates({ method: 'GET', url: 'https://api/x', headers: { Authorization: 'Basic abc' } })).to.deep.equal([]);
  });

  it('sends upstream only harmless page headers and the real credentials', () => {
    const headers = relayRequestHeaders({ Accept: 'application/json', Origin: 'https://app', Cookie: 'session=1', Authorization: 'Bearer fake', 'Project-Key': 'fake', 'X-Evil': '1' }, { accessToken: REAL, projectKey: 'pk-real', apiEnv: 'prd' });
    expect(headers).to.deep.equal({ accept: 'application/json', origin: 'https://app', authorization: `Bearer ${REAL}`, 'project-key': 'pk-real', 'api-env': 'prd' });
  });

  it('replaces every form of a real secret in an answer with the same form of the look-alike, and drops cookies', () => {
    const pairs = formPairs(REAL, FAKE);
    const body = Buffer.from(`{"token":"${REAL}","enc":"${encodeURIComponent(REAL)}","b64":"${Buffer.from(`x${REAL}`).toString('base64')}"}`);
    const out = scrubBytes(body, pairs).toString();
    expect(out).to.not.include(REAL);
    expect(out).to.include(FAKE);
    for (const [real] of pairs) expect(out).to.not.include(real);
    expect(scrubText(`Bearer ${REAL} ${REAL}`, pairs)).to.equal(`Bearer ${FAKE} ${FAKE}`);
    const headers = relayedHeaders([['content-type', 'application/json'], ['set-cookie', `s=${REAL}`], ['x-echo', REAL], ['content-encoding', 'gzip'], ['access-control-allow-origin', 'https://app']], pairs);
    expect(headers).to.deep.equal([{ name: 'content-type', value: 'application/json' }, { name: 'x-echo', value: FAKE }, { name: 'access-control-allow-origin', value: 'https://app' }]);
  });
});
