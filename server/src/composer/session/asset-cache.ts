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
 */

/** One kept answer. */
interface Entry {
  status: number;
  headers: { name: string; value: string }[];
  /** The body, base64 (as CDP carries it). */
  body: string;
  bytes: number;
  expiresAt: number;
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
  /** Answers served from the cache, and answers put in. */
  hits = 0;
  stores = 0;

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

  /** The fresh entry for `key` (marked recently used), or undefined. */
  get(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    if (entry.expiresAt <= this.now()) {
      this.bytes -= entry.bytes;
      return undefined;
    }
    this.entries.set(key, entry);
    return entry;
  }

  /** Keeps an answer for `seconds` (or less, bounded), evicting the least recently used beyond the byte budget. */
  put(key: string, entry: Omit<Entry, 'expiresAt' | 'bytes'>, seconds: number): void {
    const bytes = Math.floor((entry.body.length * 3) / 4);
    if (bytes > this.maxEntryBytes || bytes > this.maxBytes) return;
    const old = this.entries.get(key);
    if (old) {
      this.entries.delete(key);
      this.bytes -= old.bytes;
    }
    this.entries.set(key, { ...entry, bytes, expiresAt: this.now() + seconds * 1000 });
    this.bytes += bytes;
    this.stores += 1;
    for (const [oldest, value] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.bytes -= value.bytes;
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
    const pattern = `${appOrigin.replace(/[*?\\]/g, (c) => `\\${c}`)}/*`;
    await cdp.send('Fetch.enable', { patterns: [...CACHED_TYPES].map((resourceType) => ({ urlPattern: pattern, resourceType: resourceType as 'Script', requestStage: 'Request' as const })) });
  }

  /** Answers one paused request; says how (for the phase log). */
  private async onPaused(cdp: CDPSession, event: FetchPaused, appOrigin: string, apiBase: string, keyOf: (type: string, url: string) => string): Promise<'passed' | 'hit' | 'miss' | 'stored' | 'answered'> {
    const request: AssetRequest = { url: event.request.url, method: event.request.method, resourceType: event.resourceType, headers: event.request.headers };
    const key = keyOf(event.resourceType, event.request.url);
    if (event.responseStatusCode === undefined && event.responseErrorReason === undefined) {
      if (!isCacheableRequest(request, appOrigin, apiBase)) {
        await cdp.send('Fetch.continueRequest', { requestId: event.requestId });
        return 'passed';
      }
      const hit = this.get(key);
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
      this.put(key, { status: 200, headers: headers.filter((h) => !/^(set-cookie|content-encoding|content-length|transfer-encoding)$/i.test(h.name)), body: base64 }, seconds);
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
