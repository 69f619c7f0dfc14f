import { expect } from 'chai';
import { cacheableFor, isCacheableRequest, SharedAssetCache } from '#server/composer/session/asset-cache.ts';

const APP = 'https://composer.example';
const API = 'https://api.example/';
const req = (over: Partial<{ url: string; method: string; resourceType: string; headers: Record<string, string> }> = {}) => ({ url: `${APP}/static/app.1a2b.js`, method: 'GET', resourceType: 'Script', headers: {}, ...over });
const h = (pairs: Record<string, string>) => Object.entries(pairs).map(([name, value]) => ({ name, value }));

describe('the shared asset cache', () => {
  it('takes only GETs of the app origin\'s scripts, styles, fonts and images, without credentials, never the API', () => {
    expect(isCacheableRequest(req(), APP, API)).to.equal(true);
    expect(isCacheableRequest(req({ resourceType: 'Stylesheet', url: `${APP}/a.css` }), APP, API)).to.equal(true);
    expect(isCacheableRequest(req({ resourceType: 'Fetch' }), APP, API)).to.equal(false);
    expect(isCacheableRequest(req({ resourceType: 'XHR' }), APP, API)).to.equal(false);
    expect(isCacheableRequest(req({ resourceType: 'Document', url: `${APP}/` }), APP, API)).to.equal(false);
    expect(isCacheableRequest(req({ method: 'POST' }), APP, API)).to.equal(false);
    expect(isCacheableRequest(req({ url: 'https://cdn.example/app.js' }), APP, API)).to.equal(false);
    expect(isCacheableRequest(req({ headers: { Authorization: 'Bearer x' } }), APP, API)).to.equal(false);
    expect(isCacheableRequest(req({ headers: { cookie: 'a=b' } }), APP, API)).to.equal(false);
    // An API living under the app's origin is never cached.
    expect(isCacheableRequest(req({ url: `${APP}/api/storage/x.js` }), APP, `${APP}/api`)).to.equal(false);
  });

  it('keeps only complete 200 answers marked immutable or fresh for an hour, without cookies, private or no-store', () => {
    expect(cacheableFor(200, h({ 'cache-control': 'public, max-age=31536000, immutable' }))).to.equal(31536000);
    expect(cacheableFor(200, h({ 'Cache-Control': 'max-age=3600' }))).to.equal(3600);
    expect(cacheableFor(200, h({ 'cache-control': 'max-age=60' }))).to.equal(0);
    expect(cacheableFor(200, h({}))).to.equal(0);
    expect(cacheableFor(200, h({ 'cache-control': 'private, max-age=31536000' }))).to.equal(0);
    expect(cacheableFor(200, h({ 'cache-control': 'no-store, max-age=31536000' }))).to.equal(0);
    expect(cacheableFor(200, h({ 'cache-control': 'max-age=31536000', 'set-cookie': 'a=b' }))).to.equal(0);
    expect(cacheableFor(200, h({ 'cache-control': 'max-age=31536000', vary: 'Cookie' }))).to.equal(0);
    expect(cacheableFor(200, h({ 'cache-control': 'max-age=31536000', vary: 'Accept-Encoding' }))).to.equal(31536000);
    expect(cacheableFor(206, h({ 'cache-control': 'max-age=31536000' }))).to.equal(0);
    expect(cacheableFor(404, h({ 'cache-control': 'max-age=31536000' }))).to.equal(0);
  });

  it('stays within its byte budget, least recently used first out, and drops what expired', () => {
    let now = 0;
    const cache = new SharedAssetCache({ maxBytes: 3000, now: () => now });
    const body = (n: number) => Buffer.alloc(n).toString('base64');
    cache.put('a', { status: 200, headers: [], body: body(1000) }, 60);
    cache.put('b', { status: 200, headers: [], body: body(1000) }, 60);
    expect(cache.get('a')).to.not.equal(undefined);
    cache.put('c', { status: 200, headers: [], body: body(1500) }, 60);
    expect(cache.get('b')).to.equal(undefined);
    expect(cache.get('a')).to.not.equal(undefined);
    expect(cache.totalBytes).to.be.at.most(3000);
    cache.put('huge', { status: 200, headers: [], body: body(5000) }, 60);
    expect(cache.get('huge')).to.equal(undefined);
    now = 61_000;
    expect(cache.get('a')).to.equal(undefined);
  });
});
