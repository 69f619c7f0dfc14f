import { expect } from 'chai';
import { canonicalJson, contentIdempotencyKey, keyDigest } from '#server/composer/storage/idempotency-key.ts';
import { LruIdempotencyStore } from '#server/composer/storage/idempotency-store.ts';
import { editorUrl, embedUrl, isReadOf, isUserMe, readUrl, uploadUrl } from '#server/composer/storage/composer-urls.ts';
import { isRetryableStatus, storageStatusError } from '#server/composer/storage/upstream-errors.ts';
import { missingStorageSettings } from '#server/composer/storage-client.ts';
import { pngSize } from '#server/composer/session/page-capture.ts';
import { safeUrl } from '#server/composer/session/page-diagnostics.ts';
import { resolvePageSettings } from '#server/composer/session/page-settings.ts';
import { sessionEntries } from '#server/composer/session/session-seed.ts';
import { egressRefusal, visitFailure, widgetsOf } from '#server/composer/session/visit-composition.ts';
import { applyFaultsPatch, noFaults, takeFailure, takeHang, takeStoreThenHang } from '#support/composer-standin/faults.ts';

describe('composer storage and session decisions', () => {
  it('gives the same content key whatever the key order or formatting, and a different one for other content', () => {
    const a = { b: [1, { y: 2, x: 1 }], a: 'é', u: undefined };
    const b = JSON.parse('{ "a": "é",  "b": [1, {"x": 1, "y": 2}] }') as unknown;
    expect(canonicalJson(a)).to.equal('{"a":"é","b":[1,{"x":1,"y":2}]}');
    expect(contentIdempotencyKey(a)).to.equal(contentIdempotencyKey(b));
    expect(contentIdempotencyKey({ a: 'e' })).to.not.equal(contentIdempotencyKey({ a: 'é' }));
    expect(contentIdempotencyKey(a)).to.match(/^sha256:[0-9a-f]{64}$/);
    expect(keyDigest('any key / with spaces')).to.match(/^[0-9a-f]{32}$/);
  });

  it('evicts the least recently used key when the idempotency store is full', async () => {
    const store = new LruIdempotencyStore(2);
    await store.set('a', { uid: '1', contentKey: 'x' });
    await store.set('b', { uid: '2', contentKey: 'x' });
    await store.get('a');
    await store.set('c', { uid: '3', contentKey: 'x' });
    expect(await store.get('b')).to.equal(undefined);
    expect((await store.get('a'))?.uid).to.equal('1');
    expect(store.size).to.equal(2);
    expect(() => new LruIdempotencyStore(0)).to.throw(/positive integer/);
  });

  it('builds the composer.md routes with the opaque uid encoded, and recognises the app\'s read of it', () => {
    const uid = 'H4sIAA+b/c=';
    expect(editorUrl('https://c.example/', uid)).to.equal('https://c.example/#/composer/H4sIAA%2Bb%2Fc%3D');
    expect(embedUrl('https://c.example', uid)).to.equal('https://c.example/#/embed/composer/H4sIAA%2Bb%2Fc%3D');
    expect(uploadUrl('https://api.example/', 'conn 1')).to.equal('https://api.example/storage/v1.0/upload/connector/uid/conn%201');
    const read = readUrl('https://api.example', uid);
    expect(new URL(read).searchParams.get('uid')).to.equal(uid);
    expect(isReadOf(read, 'https://api.example', uid)).to.equal(true);
    expect(isReadOf(`${read}&access_token=t`, 'https://api.example', uid)).to.equal(true);
    expect(isReadOf(read, 'https://other.example', uid)).to.equal(false);
    expect(isReadOf(`https://api.example/storage/v1.0/content?uid=${uid}`, 'https://api.example', uid)).to.equal(true);
    expect(isReadOf(readUrl('https://api.example', 'H4sIother'), 'https://api.example', uid)).to.equal(false);
    expect(isUserMe('https://api.example/auth/v1.0/user/me', 'https://api.example')).to.equal(true);
  });

  it('retries only 5xx and maps statuses to the right tool error codes with fixes naming settings', () => {
    expect([400, 401, 404, 429, 500, 503, 599].map(isRetryableStatus)).to.deep.equal([false, false, false, false, true, true, true]);
    expect(storageStatusError('upload', 401, '', {}).code).to.equal('UNAUTHORIZED');
    expect(storageStatusError('read', 403, '', {}).fix).to.contain('COMPOSER_MCP_COMPOSER__ACCESS_TOKEN');
    expect(storageStatusError('read', 404, '', { uid: 'u' }).code).to.equal('NOT_FOUND');
    expect(storageStatusError('upload', 404, '', { connectorUid: 'c' }).fix).to.contain('COMPOSER_MCP_COMPOSER__CONNECTOR_UID');
    expect(storageStatusError('upload', 502, '', { attempts: 3 }).message).to.contain('after 3 attempts');
    expect(storageStatusError('upload', 400, '{"error":"Missing Project-Key header"}', {}).message).to.contain('Missing Project-Key header');
  });

  it('names every missing credential setting', () => {
    expect(missingStorageSettings({ composerUrl: 'x', apiUrl: 'y', apiEnv: 'prd' })).to.deep.equal(['COMPOSER_MCP_COMPOSER__ACCESS_TOKEN', 'COMPOSER_MCP_COMPOSER__PROJECT_KEY', 'COMPOSER_MCP_COMPOSER__CONNECTOR_UID']);
    expect(missingStorageSettings({ composerUrl: 'x', apiUrl: 'y', apiEnv: 'prd', accessToken: 't', projectKey: 'p', connectorUid: 'c' })).to.deep.equal([]);
  });

  it('seeds the two localStorage keys of composer.md from configuration', () => {
    const entries = sessionEntries({ accessToken: 'tok', projectKey: 'pk', connectorUid: 'cu' });
    expect(JSON.parse(entries['rdp-composer-user-data']!)).to.deep.equal({ access_token: 'tok' });
    expect(JSON.parse(entries['rdp-composer-active-project']!)).to.deep.equal({ uid: 'pk', connectors: [{ uid: 'cu' }] });
  });

  it('reads PNG dimensions and rejects what is not a PNG', () => {
    const png = Buffer.alloc(24);
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(png);
    png.writeUInt32BE(1280, 16);
    png.writeUInt32BE(800, 20);
    expect(pngSize(png)).to.deep.equal({ width: 1280, height: 800 });
    expect(pngSize(Buffer.from('%PDF-1.7 and more bytes here'))).to.equal(undefined);
  });

  it('reports URLs without their query, which may carry access_token and project_key', () => {
    expect(safeUrl('https://a.example/x?uid=1&access_token=secret&project_key=k')).to.equal('https://a.example/x');
  });

  it('lists document widgets and maps page failures to tool errors', () => {
    expect(widgetsOf({ structure: [{ type: 'text-1', id: 'a' }, { id: 3 }, null] })).to.deep.equal([{ type: 'text-1', id: 'a' }, { type: 'unknown', id: null }, { type: 'unknown', id: null }]);
    expect(widgetsOf('nope')).to.deep.equal([]);
    expect(visitFailure({ kind: 'me-failed', status: 401 }, 'u', 1000, {}).code).to.equal('UNAUTHORIZED');
    expect(visitFailure({ kind: 'read-status', status: 404 }, 'u', 1000, {}).code).to.equal('NOT_FOUND');
    expect(visitFailure({ kind: 'read-status', status: 500 }, 'u', 1000, {}).code).to.equal('UPSTREAM_ERROR');
    expect(visitFailure({ kind: 'request-failed', url: 'https://x/', failure: 'net::ERR_CONNECTION_RESET' }, 'u', 1000, {}).code).to.equal('UPSTREAM_ERROR');
    expect(visitFailure({ kind: 'timeout' }, 'u', 1000, {}).code).to.equal('UPSTREAM_TIMEOUT');
  });

  it('tells the egress proxy\'s refusals from the platform\'s answers: marked 4xx for certain, a tunnel failure as refused or unreachable', () => {
    const marked = { 'x-composer-mcp-egress': 'refused' };
    expect(egressRefusal({ status: 403, headers: marked })).to.deep.equal({ certain: true });
    expect(egressRefusal({ status: 431, headers: marked })).to.deep.equal({ certain: true });
    expect(egressRefusal({ status: 403, headers: {} }), 'the API\'s own 403').to.equal(undefined);
    expect(egressRefusal({ status: 200, headers: marked }), 'not a refusal without an error status').to.equal(undefined);
    expect(egressRefusal({ failure: 'net::ERR_TUNNEL_CONNECTION_FAILED' })).to.deep.equal({ certain: false });
    expect(egressRefusal({ failure: 'net::ERR_CONNECTION_REFUSED' })).to.equal(undefined);
    const refused = visitFailure({ kind: 'egress-refused', url: 'https://api.example.com/auth/v1.0/user/me?access_token=x', certain: true, what: 'sign-in' }, 'u', 1000, {});
    expect(refused.code).to.equal('NAVIGATION_BLOCKED');
    expect(refused.message).to.contain('https://api.example.com').and.contain('sign-in check').and.not.contain('access_token');
    expect(refused.fix).to.contain('spec.egress.allowedOrigins').and.contain('COMPOSER_MCP_COMPOSER__API_URL');
    expect(refused.details).to.include({ refusedOrigin: 'https://api.example.com' });
    const page = visitFailure({ kind: 'egress-refused', url: 'https://composer.example.com/#/composer/u', certain: false, what: 'page' }, 'u', 1000, {});
    expect(page.code).to.equal('NAVIGATION_BLOCKED');
    expect(page.message).to.contain('ERR_TUNNEL_CONNECTION_FAILED').and.contain('Composer app at https://composer.example.com');
    expect(page.fix).to.contain('COMPOSER_MCP_COMPOSER__COMPOSER_URL').and.contain('check that the browsers can reach it');
  });

  it('merges page setting overrides over the defaults', () => {
    // Nothing DOM-specific by default: widgets are found by their content on any Composer.
    expect(resolvePageSettings({ readyTimeoutMs: 5 })).to.include({ readyTimeoutMs: 5, widgetSelector: '', domQuietMs: 30 });
    expect(resolvePageSettings({ viewport: { width: 640 } as never }).viewport).to.deep.equal({ width: 640, height: 800 });
    expect(resolvePageSettings(undefined).viewport).to.deep.equal({ width: 1280, height: 800 });
  });

  it('validates stand-in fault patches and counts injected failures down', () => {
    const faults = applyFaultsPatch(noFaults(), { failNext: { upload: 2 }, failStatus: 502 });
    expect([takeFailure(faults, 'upload'), takeFailure(faults, 'upload'), takeFailure(faults, 'upload')]).to.deep.equal([502, 502, undefined]);
    expect(() => applyFaultsPatch(noFaults(), { latencyMs: { nowhere: 1 } as never })).to.throw(/latencyMs.nowhere: unknown route/);
    expect(() => applyFaultsPatch(noFaults(), { failStatus: 404 })).to.throw(/500..599/);
    expect(() => applyFaultsPatch(noFaults(), { failNext: { read: -1 } })).to.throw(/>= 0/);
  });

  it('validates the stand-in render switches and counts hangs and store-then-hang uploads down', () => {
    const faults = applyFaultsPatch(noFaults(), { render: { app: 'foreign', delayMs: 300 }, hangNext: { upload: 1 }, storeThenHangNext: 1 });
    expect(faults.render).to.deep.include({ app: 'foreign', delayMs: 300, placeholder: false, maxWidgets: null });
    expect(applyFaultsPatch(faults, { render: { maxWidgets: 2 } }).render).to.deep.include({ app: 'foreign', maxWidgets: 2 });
    expect([takeHang(faults, 'upload'), takeHang(faults, 'upload')]).to.deep.equal([true, false]);
    expect([takeStoreThenHang(faults), takeStoreThenHang(faults)]).to.deep.equal([true, false]);
    expect(() => applyFaultsPatch(noFaults(), { render: { app: 'angular' as never } })).to.throw(/render.app/);
    expect(() => applyFaultsPatch(noFaults(), { render: { colour: 1 } as never })).to.throw(/render.colour: unknown setting/);
  });
});
