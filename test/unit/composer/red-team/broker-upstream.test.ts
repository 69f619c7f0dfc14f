import { expect } from 'chai';
import { encodedForms } from '#common/secret-encodings.ts';
import { LeaseCredentials, type LeaseCredentialsOptions } from '#server/composer/broker/lease-credentials.ts';
import { lookAlikeKey, lookAlikeToken } from '#server/composer/broker/look-alike.ts';
import { parseApiCallRule } from '#server/composer/broker/read-only-policy.ts';
import { sanitizeCompositionJsonForView } from '#server/composer/html/sanitize-composition.ts';

const API = 'http://api.test';
const TOKEN = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJyZWQtdGVhbSJ9.cmVkLXRlYW0tY2FuYXJ5LXNpZ25hdHVyZS0wMTIzNDU2Nzg5';
const SIGNATURE = TOKEN.split('.')[2]!;
const KEY = 'red-team-project-key-4471';
const UID = 'red-team-uid';

/** An upstream that answers every call with `reply`. */
function upstream(reply: { status?: number; headers?: Record<string, string>; body: string | Uint8Array<ArrayBuffer> }): typeof fetch {
  return (async () => new Response(reply.body, { status: reply.status ?? 200, headers: reply.headers ?? { 'content-type': 'application/json' } })) as typeof fetch;
}

function lease(fetchImpl: typeof fetch, options: Partial<LeaseCredentialsOptions> = {}): LeaseCredentials {
  return new LeaseCredentials({ uid: UID, apiUrl: API, apiEnv: 'prd', accessToken: TOKEN, projectKey: KEY, lookAlikeToken: lookAlikeToken(TOKEN), lookAlikeProjectKey: lookAlikeKey(KEY), rules: [], upstreamTimeoutMs: 2_000, maxResponseBytes: 1_000_000, maxRelayedCalls: 10, viewDocument: sanitizeCompositionJsonForView, fetch: fetchImpl, ...options });
}

const read = (l: LeaseCredentials) => l.answer({ method: 'GET', url: `${API}/storage/v1.0/content?uid=${UID}`, headers: { Authorization: `Bearer ${l.token}`, Origin: 'http://app.test' } });
const signIn = (l: LeaseCredentials) => l.answer({ method: 'GET', url: `${API}/auth/v1.0/user/me`, headers: { Authorization: `Bearer ${l.token}`, Origin: 'http://app.test' } });

async function served(answer: Promise<Awaited<ReturnType<LeaseCredentials['answer']>>>): Promise<{ status: number; type: string; body: string; headers: string }> {
  const a = await answer;
  if (a.kind !== 'fulfil') throw new Error(`not fulfilled: ${a.errorReason}`);
  const type = a.headers.filter((h) => h.name.toLowerCase() === 'content-type').map((h) => h.value).join(', ');
  return { status: a.status, type, body: a.body.toString('utf8'), headers: JSON.stringify(a.headers) };
}

const doc = (content: string) => `{"version":"1.1","metadata":{"title":"t"},"structure":[{"id":"w1","type":"text-1","content":${content}}]}`;

/**
 * Red team: a malicious or buggy storage API (threat c). What the broker serves a page must be what the
 * sanitiser checked, labelled so the page reads it the same way, and free of any piece of a real secret.
 */
describe('red team: upstream answers that attack the broker', () => {
  it('duplicate keys: the page gets the bytes the sanitiser checked, not the first copy it never looked at', async () => {
    const body = doc('"<img src=x onerror=alert(1)>","content":"<p>ok</p>"');
    const page = await served(read(lease(upstream({ body }))));
    expect(page.status).to.equal(200);
    expect(page.body).to.not.include('onerror');
    expect(JSON.parse(page.body)).to.deep.equal(JSON.parse(body));
  });

  it('a byte-order mark before the JSON (which the browser\'s res.json() accepts) is served, not refused with 502', async () => {
    const page = await served(read(lease(upstream({ body: `\ufeff${doc('"<p>olá</p>"')}` }))));
    expect(page.status).to.equal(200);
    expect(JSON.parse(page.body)).to.have.nested.property('structure[0].content', '<p>olá</p>');
  });

  it('the read is served as UTF-8 JSON whatever type the upstream gave it (text/html, UTF-16, UTF-7, none), never sniffed', async () => {
    for (const type of ['text/html', 'application/json; charset=utf-16le', 'text/plain; charset=utf-7', '']) {
      const page = await served(read(lease(upstream({ headers: type ? { 'content-type': type } : {}, body: doc('"<p>x</p>"') }))));
      expect(page.type, type).to.equal('application/json; charset=utf-8');
      expect(page.headers).to.match(/"X-Content-Type-Options","value":"nosniff"/i);
    }
  });

  it('an answer echoing the token\'s signature alone (raw or base64) does not hand the page the missing third of the real token', async () => {
    const body = JSON.stringify({ uid: 'u', session: { sig: SIGNATURE, sigB64: Buffer.from(`s=${SIGNATURE}`).toString('base64') } });
    for (const l of [lease(upstream({ body }))]) {
      const page = await served(signIn(l));
      const leaked = [SIGNATURE, ...encodedForms(SIGNATURE)].filter((form) => page.body.includes(form) || page.headers.includes(form));
      expect(leaked).to.deep.equal([]);
      expect(page.body).to.include(l.token.split('.')[2]!);
    }
  });

  it('HTML in the JSON of the sign-in check and of configured reads reaches the page sanitised', async () => {
    const hostile = JSON.stringify({ name: '<img src=x onerror=alert(1)>Ana', items: [{ caption: '<svg onload=alert(1)>' }] });
    const me = await served(signIn(lease(upstream({ body: hostile }))));
    expect(me.body).to.not.include('onerror');
    expect(JSON.parse(me.body)).to.have.property('name').that.includes('Ana');
    const configured = lease(upstream({ body: hostile }), { rules: [parseApiCallRule('GET /storage/v1.0/assets/**')] });
    const asset = await served(configured.answer({ method: 'GET', url: `${API}/storage/v1.0/assets/list`, headers: { Authorization: `Bearer ${configured.token}` } }));
    expect(asset.body).to.not.include('onload');
    // An error answer whose message carries HTML (an upstream echoing what it was sent) keeps its status, sanitised.
    const notFound = await served(read(lease(upstream({ status: 404, body: '{"error":"No content <img src=x onerror=alert(1)>"}' }))));
    expect(notFound.status).to.equal(404);
    expect(notFound.body).to.not.include('onerror');
    // A binary answer (an image) is relayed as it is.
    const png = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 1, 2, 3]);
    const image = lease(upstream({ headers: { 'content-type': 'image/png' }, body: png }), { rules: [parseApiCallRule('GET /storage/v1.0/assets/**')] });
    const pic = await image.answer({ method: 'GET', url: `${API}/storage/v1.0/assets/a.png`, headers: { Authorization: `Bearer ${image.token}` } });
    expect(pic.kind === 'fulfil' && Buffer.compare(pic.body, Buffer.from(png))).to.equal(0);
  });
});
