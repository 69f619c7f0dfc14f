import { expect } from 'chai';
import { cacheableFor, isCacheableRequest, primingDocument, SharedAssetCache } from '#server/composer/session/asset-cache.ts';

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

  it('primes a page with the app origin\'s fresh classic scripts and stylesheets only, most recently used first', () => {
    let now = 0;
    const cache = new SharedAssetCache({ maxBytes: 1_000_000, now: () => now });
    const entry = { status: 200, headers: [], body: Buffer.alloc(300).toString('base64'), noCors: true };
    cache.put(`Script ${APP}/old.js`, entry, 10);
    // A module script (stored from a CORS-mode request) is never primed: its failed integrity check would stick to it.
    cache.put(`Script ${APP}/module.js`, { ...entry, noCors: false }, 3600);
    cache.put(`Script ${APP}/unknown-mode.js`, { status: 200, headers: [], body: entry.body }, 3600);
    cache.put(`Script ${APP}/app.js`, entry, 3600);
    cache.put(`Stylesheet ${APP}/app.css`, entry, 3600);
    cache.put(`Font ${APP}/font.woff2`, entry, 3600);
    cache.put(`Image ${APP}/logo.png`, entry, 3600);
    cache.put('Script https://other.example/app.js', entry, 3600);
    cache.get(`Script ${APP}/app.js`);
    now = 20_000;
    expect(cache.primable(APP)).to.deep.equal([
      { resourceType: 'Script', url: `${APP}/app.js` },
      { resourceType: 'Stylesheet', url: `${APP}/app.css` },
    ]);
    expect(cache.primable('https://nothing.example')).to.deep.equal([]);
    // After a deploy: the new build's script used, the old one not for over a minute — only the new one is primed.
    cache.put(`Script ${APP}/app.v2.js`, entry, 3600);
    now = 81_000;
    cache.get(`Script ${APP}/app.v2.js`);
    expect(cache.primable(APP)).to.deep.equal([{ resourceType: 'Script', url: `${APP}/app.v2.js` }]);
    // A priming's own request is not a page's use of the entry.
    now = 200_000;
    cache.get(`Script ${APP}/app.js`, false);
    expect(cache.primable(APP)).to.deep.equal([{ resourceType: 'Script', url: `${APP}/app.v2.js` }]);
  });

  it('lists primed assets in a document whose integrity never matches and that cannot break out of an attribute', () => {
    const html = primingDocument([
      { resourceType: 'Script', url: `${APP}/a.js?x="><script>alert(1)</script>` },
      { resourceType: 'Stylesheet', url: `${APP}/a.css` },
    ]);
    expect(html).to.include(`<script src="${APP}/a.js?x=&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" integrity="sha256-`);
    expect(html).to.include(`<link rel="stylesheet" href="${APP}/a.css" integrity="sha256-`);
    // Exactly the two elements: no inline script, nothing else that loads.
    expect(html.match(/<script/g)).to.have.length(1);
    expect(html.match(/<link/g)).to.have.length(1);
    expect(html.match(/integrity="sha256-A{43}="/g)).to.have.length(2);
  });
});
