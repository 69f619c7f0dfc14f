import { expect } from 'chai';
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { encodedForms } from '#common/secret-encodings.ts';
import { LeaseCredentials, type LeaseCredentialsOptions } from '#server/composer/broker/lease-credentials.ts';
import { lookAlikeKey, lookAlikeToken } from '#server/composer/broker/look-alike.ts';
import { parseApiCallRule } from '#server/composer/broker/read-only-policy.ts';
import { startLocalHttpServer, type LocalHttpServer } from '#support/local-http-server.ts';

const TOKEN = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJyZWxheSJ9.cmVsYXktY2FuYXJ5LXNpZ25hdHVyZS0wMTIzNDU2Nzg5';
const KEY = 'relay-canary-project-key-7731';
const UID = 'H4sIrelay+uid/=';

describe('a read-only lease relays its allowed calls with the real credentials and scrubs the answers', function () {
  this.timeout(20_000);
  let server: LocalHttpServer | undefined;
  let apiUrl: string;
  const seen: Array<{ method: string; url: string; headers: IncomingHttpHeaders }> = [];
  let reply: (headers: IncomingHttpHeaders) => { status: number; headers?: Record<string, string>; body: string } = () => ({ status: 200, body: '{}' });

  before(async () => {
    server = await startLocalHttpServer((req, res) => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
      const { status, headers, body } = reply(req.headers);
      res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(body);
    });
    apiUrl = server.url;
  });
  after(() => server?.close());
  beforeEach(() => {
    seen.length = 0;
  });

  const lease = (options: Partial<LeaseCredentialsOptions> = {}) =>
    new LeaseCredentials({ uid: UID, apiUrl, apiEnv: 'prd', accessToken: TOKEN, projectKey: KEY, lookAlikeToken: lookAlikeToken(TOKEN), lookAlikeProjectKey: lookAlikeKey(KEY), rules: [], upstreamTimeoutMs: 2_000, maxResponseBytes: 100_000, maxRelayedCalls: 10, ...options });
  const pageHeaders = (l: LeaseCredentials) => ({ Authorization: `Bearer ${l.token}`, 'Project-Key': l.projectKey!, Origin: 'http://app.example', Cookie: 'x=1' });
  const noCanary = (text: string) => [TOKEN, TOKEN.split('.')[2]!, KEY].flatMap((v) => [v, ...encodedForms(v)]).filter((f) => text.includes(f));

  it('the sign-in check goes upstream with the real credentials; an answer echoing them reaches the page with the look-alikes instead', async () => {
    const l = lease();
    reply = (headers) => ({ status: 200, headers: { 'x-echo': String(headers['authorization']), 'set-cookie': `s=${KEY}` }, body: JSON.stringify({ you: headers, b64: Buffer.from(`k:${KEY}`).toString('base64'), enc: encodeURIComponent(TOKEN) }) });
    const answer = await l.answer({ method: 'GET', url: `${apiUrl}/auth/v1.0/user/me?access_token=${l.token}`, headers: pageHeaders(l) });
    expect(seen).to.have.length(1);
    expect(seen[0]!.url).to.equal('/auth/v1.0/user/me');
    expect(seen[0]!.headers).to.include({ authorization: `Bearer ${TOKEN}`, 'project-key': KEY, 'api-env': 'prd', origin: 'http://app.example' });
    expect(seen[0]!.headers['cookie']).to.equal(undefined);
    expect(answer.kind).to.equal('fulfil');
    if (answer.kind !== 'fulfil') return;
    const relayed = `${JSON.stringify(answer.headers)}\n${answer.body.toString()}`;
    expect(noCanary(relayed)).to.deep.equal([]);
    expect(relayed).to.include(l.token).and.include(l.projectKey!);
    expect(answer.headers.some((h) => h.name.toLowerCase() === 'set-cookie')).to.equal(false);
  });

  it('the read of this composition is rebuilt from configuration and its document passes the viewing sanitiser', async () => {
    const l = lease({ viewDocument: (json) => ({ ok: true, json: JSON.stringify({ ...(JSON.parse(json) as object), sanitised: true }), fields: [{ path: '$.sanitised' }] }) });
    reply = () => ({ status: 200, body: JSON.stringify({ version: '1.1', structure: [] }) });
    const answer = await l.answer({ method: 'GET', url: `${apiUrl}/storage/v1.0/content?uid=${encodeURIComponent(UID)}&access_token=${l.token}&project_key=${l.projectKey}`, headers: { Origin: 'http://app.example' } });
    expect(seen[0]!.url).to.equal(`/storage/v1.0/content?uid=${encodeURIComponent(UID)}`);
    expect(answer.kind === 'fulfil' && JSON.parse(answer.body.toString())).to.deep.equal({ version: '1.1', structure: [], sanitised: true });
    expect(l.sanitizedFields).to.deep.equal(['$.sanitised']);
    const failing = lease({ viewDocument: () => ({ ok: false, reason: 'not JSON' }) });
    const refused = await failing.answer({ method: 'GET', url: `${apiUrl}/storage/v1.0/content?uid=${encodeURIComponent(UID)}`, headers: {} });
    expect(refused.kind === 'fulfil' && refused.status).to.equal(502);
    expect(failing.failedRelays).to.deep.equal([{ method: 'GET', origin: apiUrl, path: '/storage/v1.0/content', reason: 'the composition could not be prepared for viewing: it is not JSON' }]);
    expect(failing.notAComposition).to.equal('not JSON');
    // JSON that is not an object is no composition either: the page gets a 502, not an array to render.
    const arrayLease = lease({ viewDocument: (json) => ({ ok: true, json, fields: [] }) });
    reply = () => ({ status: 200, body: '[{"type":"text-1"}]' });
    const array = await arrayLease.answer({ method: 'GET', url: `${apiUrl}/storage/v1.0/content?uid=${encodeURIComponent(UID)}`, headers: {} });
    expect(array.kind === 'fulfil' && array.status).to.equal(502);
    expect(arrayLease.notAComposition).to.equal('a JSON array');
    expect(arrayLease.failedRelays.map((f) => f.reason)).to.deep.equal(['the composition could not be prepared for viewing: it is a JSON array, not a JSON object']);
  });

  it('keeps the composition exactly as the page got it (sanitised, scrubbed) from the first successful read, and nothing else', async () => {
    const l = lease({ viewDocument: (json) => ({ ok: true, json: JSON.stringify({ ...(JSON.parse(json) as object), sanitised: true }), fields: [] }) });
    const read = () => l.answer({ method: 'GET', url: `${apiUrl}/storage/v1.0/content?uid=${encodeURIComponent(UID)}`, headers: {} });
    reply = () => ({ status: 200, body: JSON.stringify({ you: KEY }) });
    await l.answer({ method: 'GET', url: `${apiUrl}/auth/v1.0/user/me`, headers: {} });
    expect(l.servedDocument, 'not the sign-in check').to.equal(undefined);
    reply = () => ({ status: 500, body: JSON.stringify({ error: 'busy' }) });
    await read();
    expect(l.servedDocument, 'not an error answer').to.equal(undefined);
    reply = () => ({ status: 200, body: JSON.stringify({ title: 'Primeira', echo: KEY }) });
    const answer = await read();
    expect(answer.kind === 'fulfil' && answer.body.toString()).to.equal(l.servedDocument);
    expect(JSON.parse(l.servedDocument!)).to.deep.equal({ title: 'Primeira', echo: l.projectKey, sanitised: true });
    reply = () => ({ status: 200, body: JSON.stringify({ title: 'Segunda' }) });
    await read();
    expect(JSON.parse(l.servedDocument!)).to.include({ title: 'Primeira' });
  });

  it('makes the sign-in check and the read before the page asks, with the headers the last page sent, and answers the page from them', async () => {
    const page = { accept: '*/*', 'accept-language': 'pt-BR', origin: 'http://app.example' };
    const told: Array<[string, Record<string, string>]> = [];
    const l = lease({ appOrigin: 'http://app.example', prefetchHeaders: { 'sign-in': page, read: page }, onPageHeaders: (kind, headers) => told.push([kind, headers]) });
    reply = (headers) => ({ status: 200, body: JSON.stringify({ echo: headers['authorization'], version: '1.1', structure: [] }) });
    l.prefetch();
    l.prefetch(); // once
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(seen.map((r) => r.url).toSorted(), 'both calls went upstream before the page asked').to.deep.equal(['/auth/v1.0/user/me', `/storage/v1.0/content?uid=${encodeURIComponent(UID)}`].toSorted());
    expect(seen.every((r) => r.headers['authorization'] === `Bearer ${TOKEN}` && r.headers['accept-language'] === 'pt-BR' && r.headers['origin'] === 'http://app.example')).to.equal(true);
    const signIn = await l.answer({ method: 'GET', url: `${apiUrl}/auth/v1.0/user/me`, headers: { ...pageHeaders(l), Accept: '*/*', 'Accept-Language': 'pt-BR', Origin: 'http://app.example' } });
    const read = await l.answer({ method: 'GET', url: `${apiUrl}/storage/v1.0/content?uid=${encodeURIComponent(UID)}`, headers: { Authorization: `Bearer ${l.token}`, Accept: '*/*', 'Accept-Language': 'pt-BR', Origin: 'http://app.example' } });
    expect(seen, 'no call of its own').to.have.length(2);
    // Answered as a relay is: scrubbed of the real token, the read kept as served.
    for (const answer of [signIn, read]) {
      expect(answer.kind === 'fulfil' && answer.status).to.equal(200);
      if (answer.kind === 'fulfil') expect(noCanary(answer.body.toString())).to.deep.equal([]);
    }
    expect(l.servedDocument).to.contain(l.token);
    expect(told.map(([kind]) => kind)).to.deep.equal(['sign-in', 'read']);
    expect(told[0]![1]).to.deep.equal(page);
  });

  it('relays a page that asks with other headers itself, and counts the calls made before it asked against the budget', async () => {
    const l = lease({ appOrigin: 'http://app.example', maxRelayedCalls: 3, prefetchHeaders: { read: { accept: '*/*', origin: 'http://app.example' } } });
    reply = () => ({ status: 200, body: JSON.stringify({ version: '1.1', structure: [] }) });
    l.prefetch();
    const asked = (accept: string) => l.answer({ method: 'GET', url: `${apiUrl}/storage/v1.0/content?uid=${encodeURIComponent(UID)}`, headers: { Accept: accept, Origin: 'http://app.example' } });
    expect((await asked('application/json')).kind).to.equal('fulfil');
    expect(seen.map((r) => r.headers['accept']).toSorted(), 'its own call, with its own headers').to.deep.equal(['*/*', 'application/json']);
    expect((await asked('application/json')).kind).to.equal('fulfil');
    // 3 calls made (one before the page asked): the next is refused.
    const over = await asked('*/*');
    expect(over.kind === 'fulfil' && over.status).to.equal(403);
    expect(seen).to.have.length(3);
  });

  it('waits for what is left of a call made before the page asked, not for a whole call', async () => {
    const slow = createServer((_req, res) => {
      setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{"structure":[]}'), 600);
    }).listen(0, '127.0.0.1');
    await once(slow, 'listening');
    const slowUrl = `http://127.0.0.1:${(slow.address() as AddressInfo).port}`;
    const l = lease({ apiUrl: slowUrl, appOrigin: 'http://app.example', prefetchHeaders: { read: { origin: 'http://app.example' } } });
    try {
      l.prefetch();
      await new Promise((resolve) => setTimeout(resolve, 300));
      const asked = Date.now();
      const answer = await l.answer({ method: 'GET', url: `${slowUrl}/storage/v1.0/content?uid=${encodeURIComponent(UID)}`, headers: { Origin: 'http://app.example' } });
      expect(answer.kind === 'fulfil' && answer.status).to.equal(200);
      expect(Date.now() - asked, 'a call of its own would take the whole 600 ms').to.be.below(550);
    } finally {
      l.end();
      slow.closeAllConnections();
      slow.close();
    }
  });

  it('refuses everything else with 403 without calling upstream, and reports method, origin and path only', async () => {
    const l = lease();
    const calls = [
      { method: 'POST', url: `${apiUrl}/storage/v1.0/upload/connector/uid/c1?access_token=${l.token}` },
      { method: 'GET', url: `${apiUrl}/storage/v1.0/content?uid=someone-elses` },
      { method: 'DELETE', url: `${apiUrl}/storage/v1.0/content?uid=${encodeURIComponent(UID)}` },
      { method: 'OPTIONS', url: `${apiUrl}/storage/v1.0/upload/connector/uid/c1`, headers: { 'Access-Control-Request-Method': 'POST', Origin: 'http://app.example' } },
    ];
    for (const call of calls) {
      const answer = await l.answer({ method: call.method, url: call.url, headers: { ...pageHeaders(l), ...call.headers } });
      expect(answer.kind === 'fulfil' && answer.status, `${call.method} ${call.url}`).to.equal(403);
    }
    expect(seen).to.deep.equal([]);
    expect(l.refused).to.deep.equal([
      { method: 'POST', origin: apiUrl, path: '/storage/v1.0/upload/connector/uid/c1' },
      { method: 'GET', origin: apiUrl, path: '/storage/v1.0/content' },
      { method: 'DELETE', origin: apiUrl, path: '/storage/v1.0/content' },
      { method: 'POST', origin: apiUrl, path: '/storage/v1.0/upload/connector/uid/c1' },
    ]);
  });

  it('answers a worker\'s preflight for an allowed call itself, follows no redirect, and stops relaying past the budget', async () => {
    const l = lease({ maxRelayedCalls: 2, rules: [parseApiCallRule('GET /assets/**')] });
    const preflight = await l.answer({ method: 'OPTIONS', url: `${apiUrl}/auth/v1.0/user/me`, headers: { 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'authorization', Origin: 'http://app.example' } });
    expect(preflight.kind === 'fulfil' && preflight.status).to.equal(204);
    expect(seen).to.deep.equal([]);
    reply = () => ({ status: 302, headers: { location: 'https://elsewhere.example/steal' }, body: '' });
    const redirected = await l.answer({ method: 'GET', url: `${apiUrl}/assets/a.png`, headers: pageHeaders(l) });
    expect(redirected).to.deep.equal({ kind: 'fail', errorReason: 'Failed' });
    expect(l.failedRelays).to.deep.equal([{ method: 'GET', origin: apiUrl, path: '/assets/a.png', reason: 'the API answered 302 (a redirect, not followed)' }]);
    expect(l.failedRelayTotal).to.equal(1);
    reply = () => ({ status: 200, body: '{}' });
    await l.answer({ method: 'GET', url: `${apiUrl}/assets/b.png`, headers: pageHeaders(l) });
    const third = await l.answer({ method: 'GET', url: `${apiUrl}/assets/c.png`, headers: pageHeaders(l) });
    expect(third.kind === 'fulfil' && third.status).to.equal(403);
    expect(seen).to.have.length(2);
  });
});
