import { randomUUID } from 'node:crypto';
import type { CDPSession } from 'playwright-core';

/**
 * The Composer's immutable app assets (its script bundles, styles, fonts, images), kept by the server and served
 * to every lease. Each call opens a fresh browser context, whose HTTP cache starts empty, and the real Composer's
 * bundle is large: without this every call downloads it again.
 *
 * What may enter, so that no lease can poison another and no API answer is ever kept:
 * - only GET requests of the configured Composer app origin, never of the API (nor any URL under the API's base),
 *   of resource type Script, Stylesheet, Font or Image (never a document, fetch or XHR), carrying no Authorization
 *   or Cookie header;
 * - only a complete 200 answer the browser received from the network (service workers are blocked in the pool's
 *   contexts, so a page cannot answer its own requests), marked immutable or fresh for at least an hour, neither
 *   no-store, no-cache nor private, without Set-Cookie and without a Vary beyond Accept-Encoding, within the size
 *   bounds;
 * - keyed by resource type and exact URL, and dropped when its max-age runs out.
 * A page can only make the origin serve it something; whatever it gets is what the origin sends to anyone.
 *
 * Answering from the cache still carries every asset's bytes to the browser over CDP on the call's path (a 1.5 MB
 * bundle: 40–60 ms, growing with its size). A page made ahead of its lease is therefore *primed* (`prime`): it loads a
 * document of the server's own at the app origin that lists the cached classic scripts and stylesheets with an
 * integrity that cannot match, so the renderer fetches them (from this cache) into its memory cache but never runs or applies
 * them; the lease's app then finds them there and asks nothing (measured: 9 MB of script, 295 → 18 ms to the app's
 * load). That document never reaches the network: it is answered only by this cache, on its session's own URL.
 */

/** One kept answer. */
interface Entry {
  status: number;
  headers: { name: string; value: string }[];
  /** The body, base64 (as CDP carries it). */
  body: string;
  bytes: number;
  expiresAt: number;
  /** When a page last asked for it (a priming document's requests do not count). */
  usedAt: number;
  /**
   * Stored from a no-cors request (no Origin header: a classic script, a plain stylesheet), which a priming document
   * may list. A CORS-mode one (a module script) never is: Chromium reuses a module whose integrity check failed as
   * failed, so the lease's app would not run it (measured).
   */
  noCors?: boolean;
}

/** What the cache needs to decide. */
export interface AssetRequest {
  url: string;
  method: string;
  resourceType: string;
  headers: Record<string, string>;
}

const CACHED_TYPES = new Set(['Script', 'Stylesheet', 'Font', 'Image']);
const MIN_FRESH_SECONDS = 3_600;
/** What a priming document lists: the types whose elements check integrity before running or applying anything. */
const PRIMED_TYPES = new Set(['Script', 'Stylesheet']);
/** Bounds of one priming: the most recently used entries first. */
const MAX_PRIMED_ENTRIES = 24;
const MAX_PRIMED_BYTES = 24 * 1024 * 1024;
/**
 * Primed are the entries a page used within this long of the last use: the assets of the app's current build, not
 * those of a build a deploy replaced (still fresh, never asked for again).
 */
const RECENT_USE_WINDOW_MS = 60_000;
/** An SRI digest no answer has (32 zero bytes): the element fetches, the check fails, nothing runs. */
const NEVER_MATCHING_INTEGRITY = `sha256-${'A'.repeat(43)}=`;

/** One cached asset a page may be primed with. */
export interface PrimedAsset {
  resourceType: string;
  url: string;
}

const escapeAttribute = (value: string) => value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * The priming document (pure): each stylesheet and script by a `<link>` or `<script>` whose integrity never matches,
 * so the renderer fetches them into its memory cache and neither applies nor runs any of them; no inline script.
 */
export function primingDocument(assets: readonly PrimedAsset[]): string {
  const tags = [
    ...assets.filter((a) => a.resourceType === 'Stylesheet').map((a) => `<link rel="stylesheet" href="${escapeAttribute(a.url)}" integrity="${NEVER_MATCHING_INTEGRITY}">`),
    ...assets.filter((a) => a.resourceType === 'Script').map((a) => `<script src="${escapeAttribute(a.url)}" integrity="${NEVER_MATCHING_INTEGRITY}"></script>`),
  ];
  return `<!doctype html><html><head><meta charset="utf-8"><title>composer-mcp</title>\n${tags.join('\n')}\n</head><body></body></html>`;
}

/** The headers of the priming document: nothing but the listed elements of the app origin may load, nothing runs inline. */
function primingHeaders(appOrigin: string): Array<{ name: string; value: string }> {
  return [
    { name: 'Content-Type', value: 'text/html; charset=utf-8' },
    { name: 'Cache-Control', value: 'no-store' },
    { name: 'Content-Security-Policy', value: `default-src 'none'; script-src ${appOrigin}; style-src ${appOrigin}; base-uri 'none'; form-action 'none'` },
  ];
}

/** The Fetch pattern of exactly `url`. */
const exactPattern = (url: string) => url.replace(/[*?\\]/g, (c) => `\\${c}`);

/** A page session the cache answers for: its own priming URL and, once primed, the document served there. */
interface AttachedSession {
  appOrigin: string;
  primingUrl: string;
  primingBody: string | undefined;
  /** While its priming document loads: the cache's answers then are not a page's use of them. */
  priming: boolean;
}

/** Whether a request may be answered from, or fill, the cache (pure). */
export function isCacheableRequest(request: AssetRequest, appOrigin: string, apiBase: string): boolean {
  if (request.method !== 'GET' || !CACHED_TYPES.has(request.resourceType)) return false;
  let url: URL;
  try {
    url = new URL(request.url);
  } catch {
    return false;
  }
  if (url.origin !== appOrigin || url.username || url.password) return false;
  if (request.url.startsWith(apiBase.replace(/\/*$/, '/')) || request.url === apiBase) return false;
  return !Object.keys(request.headers).some((name) => /^(authorization|cookie)$/i.test(name));
}

/** How long an answer may be kept, in seconds, or 0 when it must not be (pure). */
export function cacheableFor(status: number, headers: readonly { name: string; value: string }[]): number {
  if (status !== 200) return 0;
  const get = (name: string) => headers.filter((h) => h.name.toLowerCase() === name).map((h) => h.value).join(', ');
  if (headers.some((h) => h.name.toLowerCase() === 'set-cookie')) return 0;
  const vary = get('vary').toLowerCase().split(',').map((v) => v.trim()).filter(Boolean);
  if (vary.some((v) => v !== 'accept-encoding')) return 0;
  const control = get('cache-control').toLowerCase();
  if (/\b(no-store|no-cache|private)\b/.test(control)) return 0;
  const maxAge = Number(/\bmax-age=(\d+)/.exec(control)?.[1] ?? 0);
  if (maxAge < MIN_FRESH_SECONDS) return 0;
  return maxAge;
}

/** A bounded, least-recently-used store of asset answers shared by every lease of this process. */
export class SharedAssetCache {
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;
  private readonly maxBytes: number;
  private readonly maxEntryBytes: number;
  private readonly now: () => number;
  private readonly sessions = new WeakMap<CDPSession, AttachedSession>();
  /** Answers served from the cache, and answers put in. */
  hits = 0;
  stores = 0;
  /** Pages primed, and the assets they were primed with. */
  primedPages = 0;
  primedAssets = 0;

  constructor(options: { maxBytes: number; maxEntryBytes?: number; now?: () => number }) {
    this.maxBytes = options.maxBytes;
    this.maxEntryBytes = options.maxEntryBytes ?? Math.min(options.maxBytes, 32 * 1024 * 1024);
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  get totalBytes(): number {
    return this.bytes;
  }

  /** The fresh entry for `key`, or undefined; marked recently used unless `use` is false (a priming's request). */
  get(key: string, use = true): Entry | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.entries.delete(key);
      this.bytes -= entry.bytes;
      return undefined;
    }
    if (use) {
      this.entries.delete(key);
      entry.usedAt = this.now();
      this.entries.set(key, entry);
    }
    return entry;
  }

  /** Keeps an answer for `seconds` (or less, bounded), evicting the least recently used beyond the byte budget. */
  put(key: string, entry: Omit<Entry, 'expiresAt' | 'bytes' | 'usedAt'>, seconds: number): void {
    const bytes = Math.floor((entry.body.length * 3) / 4);
    if (bytes > this.maxEntryBytes || bytes > this.maxBytes) return;
    const old = this.entries.get(key);
    if (old) {
      this.entries.delete(key);
      this.bytes -= old.bytes;
    }
    this.entries.set(key, { ...entry, bytes, expiresAt: this.now() + seconds * 1000, usedAt: this.now() });
    this.bytes += bytes;
    this.stores += 1;
    for (const [oldest, value] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.bytes -= value.bytes;
    }
  }

  /**
   * The fresh scripts and stylesheets kept for `appOrigin` from no-cors requests (never a module script) that a page
   * used within a minute of the last use (the current build's), most recently used first, within the priming bounds.
   */
  primable(appOrigin: string): PrimedAsset[] {
    const now = this.now();
    const candidates: Array<PrimedAsset & { entry: Entry }> = [];
    for (const [key, entry] of [...this.entries].toReversed()) {
      const space = key.indexOf(' ');
      const resourceType = key.slice(0, space);
      const url = key.slice(space + 1);
      if (!PRIMED_TYPES.has(resourceType) || entry.noCors !== true || entry.expiresAt <= now) continue;
      let origin: string;
      try {
        origin = new URL(url).origin;
      } catch {
        continue;
      }
      if (origin === appOrigin) candidates.push({ resourceType, url, entry });
    }
    const lastUse = Math.max(...candidates.map((c) => c.entry.usedAt));
    const out: PrimedAsset[] = [];
    let bytes = 0;
    for (const { resourceType, url, entry } of candidates) {
      if (out.length >= MAX_PRIMED_ENTRIES) break;
      if (entry.usedAt < lastUse - RECENT_USE_WINDOW_MS || bytes + entry.bytes > MAX_PRIMED_BYTES) continue;
      bytes += entry.bytes;
      out.push({ resourceType, url });
    }
    return out;
  }

  /**
   * Loads the cached scripts and stylesheets of the app origin into the renderer of the page behind `cdp` (attached
   * before, see `attach`), without running or applying any: the page navigates to this session's priming document,
   * answered by the cache alone, and stays there. For a page made ahead of its lease only: its lease's navigation then
   * takes them from the renderer's memory cache, with no request and no bytes over CDP. Resolves how many assets were
   * listed (0: nothing to prime, no navigation) once the document has loaded, or when `timeoutMs` is over (the lease's
   * navigation replaces an unfinished one).
   */
  async prime(cdp: CDPSession, options: { timeoutMs: number }): Promise<number> {
    const session = this.sessions.get(cdp);
    if (session === undefined) return 0;
    const assets = this.primable(session.appOrigin);
    if (assets.length === 0) return 0;
    session.primingBody = Buffer.from(primingDocument(assets), 'utf8').toString('base64');
    session.priming = true;
    const { promise: loaded, resolve: onLoad } = Promise.withResolvers<void>();
    const listener = () => onLoad();
    let timer: NodeJS.Timeout | undefined;
    try {
      await cdp.send('Page.enable');
      cdp.on('Page.loadEventFired', listener);
      const timedOut = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, options.timeoutMs);
      });
      const navigated = (async () => {
        const result = (await cdp.send('Page.navigate', { url: session.primingUrl })) as { errorText?: string };
        if (result.errorText !== undefined) return;
        await loaded;
      })();
      await Promise.race([navigated, timedOut]);
      this.primedPages += 1;
      this.primedAssets += assets.length;
      return assets.length;
    } finally {
      session.priming = false;
      clearTimeout(timer);
      cdp.off('Page.loadEventFired', listener);
    }
  }

  /**
   * Serves the app origin's assets of the page behind `cdp` from the cache and fills it from the network (CDP Fetch
   * interception limited to those resource types on that origin: no other request of the page is paused). Call
   * before navigating; the interception ends with the session.
   */
  async attach(cdp: CDPSession, appOrigin: string, apiBase: string, phases?: { add(name: string, ms: number): void }): Promise<void> {
    const keyOf = (type: string, url: string) => `${type} ${url}`;
    cdp.on('Fetch.requestPaused', (event: FetchPaused) => {
      const paused = performance.now();
      void this.onPaused(cdp, event, appOrigin, apiBase, keyOf).then(
        (how) => phases?.add(`asset.${how}`, performance.now() - paused),
        () => {
          // The page or its context went away mid-request: nothing to answer any more.
        },
      );
    });
    // The session's own priming URL (never a path of the app): only the cache answers it, and only while this session lives.
    const primingUrl = `${appOrigin}/.composer-mcp-priming/${randomUUID()}`;
    this.sessions.set(cdp, { appOrigin, primingUrl, primingBody: undefined, priming: false });
    const pattern = `${exactPattern(appOrigin)}/*`;
    await cdp.send('Fetch.enable', {
      patterns: [
        ...[...CACHED_TYPES].map((resourceType) => ({ urlPattern: pattern, resourceType: resourceType as 'Script', requestStage: 'Request' as const })),
        { urlPattern: exactPattern(primingUrl), resourceType: 'Document' as const, requestStage: 'Request' as const },
      ],
    });
  }

  /** Answers one paused request; says how (for the phase log). */
  private async onPaused(cdp: CDPSession, event: FetchPaused, appOrigin: string, apiBase: string, keyOf: (type: string, url: string) => string): Promise<'passed' | 'hit' | 'miss' | 'stored' | 'answered' | 'priming'> {
    const request: AssetRequest = { url: event.request.url, method: event.request.method, resourceType: event.resourceType, headers: event.request.headers };
    if (event.resourceType === 'Document') {
      // Only the session's priming URL is paused as a document: the server's own page, never sent to the network.
      const session = this.sessions.get(cdp);
      const body = session !== undefined && event.request.url === session.primingUrl && event.request.method === 'GET' && event.responseStatusCode === undefined ? session.primingBody : undefined;
      if (body === undefined) await cdp.send('Fetch.failRequest', { requestId: event.requestId, errorReason: 'BlockedByClient' });
      else await cdp.send('Fetch.fulfillRequest', { requestId: event.requestId, responseCode: 200, responseHeaders: primingHeaders(appOrigin), body });
      return 'priming';
    }
    const key = keyOf(event.resourceType, event.request.url);
    if (event.responseStatusCode === undefined && event.responseErrorReason === undefined) {
      if (!isCacheableRequest(request, appOrigin, apiBase)) {
        await cdp.send('Fetch.continueRequest', { requestId: event.requestId });
        return 'passed';
      }
      const hit = this.get(key, this.sessions.get(cdp)?.priming !== true);
      if (hit) {
        this.hits += 1;
        await cdp.send('Fetch.fulfillRequest', { requestId: event.requestId, responseCode: hit.status, responseHeaders: hit.headers, body: hit.body });
        return 'hit';
      }
      await cdp.send('Fetch.continueRequest', { requestId: event.requestId, interceptResponse: true });
      return 'miss';
    }
    // The network's answer to a request we let through.
    const headers = event.responseHeaders ?? [];
    const seconds = event.responseErrorReason === undefined ? cacheableFor(event.responseStatusCode ?? 0, headers) : 0;
    if (seconds > 0 && isCacheableRequest(request, appOrigin, apiBase)) {
      const body = (await cdp.send('Fetch.getResponseBody', { requestId: event.requestId })) as { body: string; base64Encoded: boolean };
      const base64 = body.base64Encoded ? body.body : Buffer.from(body.body, 'utf8').toString('base64');
      const noCors = !Object.keys(event.request.headers).some((name) => name.toLowerCase() === 'origin');
      this.put(key, { status: 200, headers: headers.filter((h) => !/^(set-cookie|content-encoding|content-length|transfer-encoding)$/i.test(h.name)), body: base64, noCors }, seconds);
      await cdp.send('Fetch.continueResponse', { requestId: event.requestId });
      return 'stored';
    }
    await cdp.send('Fetch.continueResponse', { requestId: event.requestId });
    return 'answered';
  }
}

/** The CDP Fetch.requestPaused event, as far as the cache reads it. */
interface FetchPaused {
  requestId: string;
  request: { url: string; method: string; headers: Record<string, string> };
  resourceType: string;
  responseStatusCode?: number;
  responseErrorReason?: string;
  responseHeaders?: { name: string; value: string }[];
}

let processCache: SharedAssetCache | undefined;

/** The cache every lease of this process shares (created with the first caller's budget). */
export function processAssetCache(maxBytes: number): SharedAssetCache {
  processCache ??= new SharedAssetCache({ maxBytes });
  return processCache;
}
