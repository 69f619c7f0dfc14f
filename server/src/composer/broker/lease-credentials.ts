import { formPairs } from '#common/secret-encodings.ts';
import { reportedOriginAndPath, reportedText } from '../session/reported-url.ts';
import { serializedJsonKind } from '../storage/stored-content.ts';
import { answerTreatment, sanitisedHeaders } from './answer-view.ts';
import { decideApiCall, SIGN_IN_PATH, type ApiCallDecision, type ApiCallRule } from './read-only-policy.ts';
import { readUrl } from '../storage/composer-urls.ts';
import { headerValue, type PausedRequestLike } from './request-credentials.ts';
import { relayedHeaders, scrubBytes, type ScrubPairs } from './response-scrub.ts';
import { passedHeaders, relayToApi, type RelayOutcome } from './upstream-relay.ts';
import { prefetchableHeaders, prefetchKey, type PrefetchKind } from './prefetch-headers.ts';

/** An API call a read-only page made that the server refused (never sent upstream). Origin and path only. */
export interface RefusedApiCall {
  method: string;
  origin: string;
  path: string;
}

/** An allowed API call the server could not complete for the page (timeout, redirect, too large…). Origin and path only. */
export interface FailedApiRelay {
  method: string;
  origin: string;
  path: string;
  /** Why, in words (bounded, reduced as page text is: it may quote what the upstream or the network said). */
  reason: string;
}

/** How the broker answers one paused request of this lease's page. */
export type BrokerAnswer =
  | { kind: 'fulfil'; status: number; headers: Array<{ name: string; value: string }>; body: Buffer }
  | { kind: 'fail'; errorReason: 'Failed' | 'TimedOut' };

/** What a lease's credentials need to know. */
export interface LeaseCredentialsOptions {
  /** The composition this read-only lease views. */
  uid: string;
  apiUrl: string;
  apiEnv: string;
  /** The real credentials; never given to the page. */
  accessToken: string;
  projectKey: string | undefined;
  /** Their look-alikes, which the page gets (made unique by the broker). */
  lookAlikeToken: string;
  lookAlikeProjectKey: string | undefined;
  /** Extra calls configuration allows. */
  rules: readonly ApiCallRule[];
  /** Timeout and size cap of one relayed call. */
  upstreamTimeoutMs: number;
  maxResponseBytes: number;
  /** Most calls relayed for one lease (a page in a loop must not turn the server into a flood). */
  maxRelayedCalls: number;
  /**
   * Applied to the composition the read returns (JSON text), and to every other JSON answer (error answers
   * included), before the page gets it: the HTML sanitiser for viewing (answer-view.ts). `ok: false` for a 2xx
   * answer that must be JSON means it cannot be shown, and the page gets a 502 instead of an unsanitised document.
   */
  viewDocument?: (json: string) => { ok: true; json: string; fields: ReadonlyArray<{ path: string }> } | { ok: false; reason: string };
  fetch?: typeof fetch;
  /** Where the time of the lease's relays goes (session/visit-phases.ts): moments and durations by name. */
  phases?: PhaseRecorder;
  /** The Composer app's origin (the Origin of its pages' API calls): headers are kept for prefetching only from it. */
  appOrigin?: string;
  /**
   * The passed-on headers (upstream-relay.ts) the previous page on this browser sent with its sign-in check and its
   * read: with them, `prefetch()` makes those two calls before this page asks (prefetch-headers.ts).
   */
  prefetchHeaders?: Partial<Record<PrefetchKind, Record<string, string>>>;
  /** Told the passed-on headers of this page's sign-in check and read, when they may be prefetched with. */
  onPageHeaders?: (kind: PrefetchKind, headers: Record<string, string>) => void;
}

/** A sign-in check or read made before the page asked for it. */
interface Prefetch {
  upstreamUrl: string;
  key: string;
  outcome: Promise<RelayOutcome>;
  taken: boolean;
}

/** The moments and durations the broker reports for a lease (structurally session/visit-phases.ts's VisitPhases). */
export interface PhaseRecorder {
  mark(name: string, when?: number): void;
  add(name: string, ms: number): void;
}

/** Longest list of refused calls or failed relays kept per lease (later ones are counted only). */
const MAX_RECORDED = 50;

function refusalBody(): Buffer {
  return Buffer.from(JSON.stringify({ error: 'Refused by composer-mcp: this page views a composition read-only; only the sign-in check and the read of that composition reach the API.', status: 403 }));
}

/** The signature segment of a compact JWS, or undefined for anything else. */
function jwtSignature(token: string): string | undefined {
  const parts = token.split('.');
  return parts.length === 3 && parts[2]!.length > 0 ? parts[2] : undefined;
}

/** CORS headers that let the page read an answer the broker made up (for a request from `origin`). */
function corsHeaders(origin: string | undefined): Array<{ name: string; value: string }> {
  return origin ? [{ name: 'Access-Control-Allow-Origin', value: origin }, { name: 'Vary', value: 'Origin' }] : [];
}

/** The answer to an allowed preflight: the announced method and headers, from the page's origin. */
export function preflightHeaders(request: PausedRequestLike, method: string): Array<{ name: string; value: string }> {
  const requested = headerValue(request.headers, 'access-control-request-headers');
  return [
    ...corsHeaders(headerValue(request.headers, 'origin')),
    { name: 'Access-Control-Allow-Methods', value: method.toUpperCase() },
    ...(requested ? [{ name: 'Access-Control-Allow-Headers', value: requested }] : []),
    { name: 'Access-Control-Max-Age', value: '60' },
  ];
}

/**
 * The server's side of one read-only lease: the look-alikes its page holds, what the page may ask of the API,
 * the calls it made that were refused, and the relay of the allowed ones with the real credentials — the answers
 * scrubbed of every form of a real secret (replaced by the look-alike's) and the composition sanitised for viewing.
 */
export class LeaseCredentials {
  readonly token: string;
  readonly projectKey: string | undefined;
  readonly refused: RefusedApiCall[] = [];
  readonly failedRelays: FailedApiRelay[] = [];
  /** JSONPaths of the composition's values the view sanitiser changed before the page got it. */
  readonly sanitizedFields: string[] = [];
  /**
   * Set when the read of the composition answered 2xx with something that is not a composition (not JSON, or JSON
   * but not an object): what it was instead, e.g. "not JSON", "a JSON array". The page got a 502 instead.
   */
  notAComposition: string | undefined;
  /**
   * The composition as the page got it from the first 2xx read of it (sanitised for viewing, scrubbed): the visit
   * reads the document it expects to see from here instead of asking the page for the response body again.
   */
  servedDocument: string | undefined;
  private refusedCount = 0;
  private failedCount = 0;
  private relayed = 0;
  private readonly options: LeaseCredentialsOptions;
  private readonly pairs: ScrubPairs;
  private readonly ended = new AbortController();
  private readonly prefetches = new Map<PrefetchKind, Prefetch>();

  constructor(options: LeaseCredentialsOptions) {
    this.options = options;
    this.token = options.lookAlikeToken;
    this.projectKey = options.lookAlikeProjectKey;
    const pairs = formPairs(options.accessToken, options.lookAlikeToken);
    // A JWT's header and claims are in the look-alike the page holds: its signature alone, echoed, is the rest of the token.
    const [realSignature, fakeSignature] = [jwtSignature(options.accessToken), jwtSignature(options.lookAlikeToken)];
    if (realSignature && fakeSignature && realSignature !== fakeSignature && realSignature.length === fakeSignature.length) pairs.push(...formPairs(realSignature, fakeSignature));
    if (options.projectKey && options.lookAlikeProjectKey) pairs.push(...formPairs(options.projectKey, options.lookAlikeProjectKey));
    this.pairs = pairs;
  }

  /** Where the time of this lease's relays goes, when measured. */
  get phases(): PhaseRecorder | undefined {
    return this.options.phases;
  }

  /** The look-alike values that identify this lease in a request. */
  get lookAlikes(): string[] {
    return this.projectKey ? [this.token, this.projectKey] : [this.token];
  }

  /** Refused calls, including those past the recorded list. */
  get refusedTotal(): number {
    return this.refusedCount;
  }

  /** Failed relays, including those past the recorded list. */
  get failedRelayTotal(): number {
    return this.failedCount;
  }

  /** Ends the lease: relays in flight are abandoned. */
  end(): void {
    this.ended.abort();
  }

  /**
   * Starts the sign-in check and the read of this lease's composition upstream now, with the headers the previous
   * page sent (`prefetchHeaders`), while the page is still loading: when this page asks for them with the same
   * headers, it gets those answers (viewed and scrubbed as any relayed answer) instead of waiting for the platform.
   * The calls are the ones the server would make for the page (the same URLs, rebuilt from configuration, the same
   * headers, the real credentials) and count against the lease's budget; a page that asks differently gets a relay
   * of its own. Idempotent; nothing to do without known headers.
   */
  prefetch(): void {
    for (const kind of ['sign-in', 'read'] as const) {
      const headers = this.options.prefetchHeaders?.[kind];
      if (headers === undefined || this.prefetches.has(kind) || this.relayed >= this.options.maxRelayedCalls || this.ended.signal.aborted) continue;
      const url = kind === 'sign-in' ? `${this.options.apiUrl.replace(/\/+$/, '')}${SIGN_IN_PATH}` : readUrl(this.options.apiUrl, this.options.uid);
      const decision = decideApiCall({ method: 'GET', url, apiUrl: this.options.apiUrl, uid: this.options.uid, rules: [] });
      if (!decision.allowed || decision.kind !== kind) continue;
      this.relayed++;
      const started = performance.now();
      const outcome = this.relay(decision.upstreamUrl, 'GET', headers).finally(() => this.options.phases?.add(`${kind}.prefetch`, performance.now() - started));
      this.prefetches.set(kind, { upstreamUrl: decision.upstreamUrl, key: prefetchKey(headers), outcome, taken: false });
    }
  }

  /** The prefetched answer of a call the page makes exactly as prefetched (once), or undefined. */
  private takePrefetch(decision: Extract<ApiCallDecision, { allowed: true }>, method: string, headers: Record<string, string>): Promise<RelayOutcome> | undefined {
    if (decision.kind === 'configured' || method.toUpperCase() !== 'GET') return undefined;
    const prefetch = this.prefetches.get(decision.kind);
    if (prefetch === undefined || prefetch.taken || prefetch.upstreamUrl !== decision.upstreamUrl || prefetch.key !== prefetchKey(headers)) return undefined;
    prefetch.taken = true;
    return prefetch.outcome;
  }

  private relay(url: string, method: string, headers: Record<string, string>): Promise<RelayOutcome> {
    return relayToApi(
      { method, url, headers },
      { accessToken: this.options.accessToken, projectKey: this.options.projectKey, apiEnv: this.options.apiEnv },
      { timeoutMs: this.options.upstreamTimeoutMs, maxBytes: this.options.maxResponseBytes, signal: this.ended.signal, ...(this.options.fetch ? { fetch: this.options.fetch } : {}) },
    );
  }

  /**
   * Decides on and answers one request of this lease's page to the API origin. Never throws. A CORS preflight
   * (a worker's; Playwright answers the page's own) is answered here for the call it announces: allowed, or refused
   * and reported like the call itself — it never goes upstream.
   */
  async answer(request: PausedRequestLike): Promise<BrokerAnswer> {
    const preflightFor = request.method.toUpperCase() === 'OPTIONS' ? headerValue(request.headers, 'access-control-request-method') : undefined;
    const method = preflightFor ?? request.method;
    const decision: ApiCallDecision = decideApiCall({ method, url: request.url, apiUrl: this.options.apiUrl, uid: this.options.uid, rules: this.options.rules });
    const origin = headerValue(request.headers, 'origin');
    if (!decision.allowed || this.relayed >= this.options.maxRelayedCalls || this.ended.signal.aborted) {
      this.recordRefusal({ ...request, method });
      return { kind: 'fulfil', status: 403, headers: [{ name: 'Content-Type', value: 'application/json' }, ...corsHeaders(origin)], body: refusalBody() };
    }
    if (preflightFor !== undefined) return { kind: 'fulfil', status: 204, headers: preflightHeaders(request, preflightFor), body: Buffer.alloc(0) };
    const phases = this.options.phases;
    const relayStarted = performance.now();
    phases?.mark(`${decision.kind}.paused`, relayStarted);
    const headers = passedHeaders(request.headers);
    if (decision.kind !== 'configured') {
      const learnable = prefetchableHeaders(request.method, headers, this.options.appOrigin);
      if (learnable !== undefined) this.options.onPageHeaders?.(decision.kind, learnable);
    }
    let outcome = this.takePrefetch(decision, request.method, headers);
    if (outcome === undefined) {
      this.relayed++;
      outcome = this.relay(decision.upstreamUrl, request.method.toUpperCase(), headers);
    } else phases?.mark(`${decision.kind}.prefetched`);
    const relayed = await outcome;
    phases?.add(`${decision.kind}.upstream`, performance.now() - relayStarted);
    const viewStarted = performance.now();
    const answer = this.relayAnswer(request, decision.kind, relayed);
    phases?.add(`${decision.kind}.view`, performance.now() - viewStarted);
    return answer;
  }

  private relayAnswer(request: PausedRequestLike, kind: 'sign-in' | 'read' | 'configured', outcome: RelayOutcome): BrokerAnswer {
    if (outcome.kind === 'failed') {
      this.recordFailure(request, outcome.detail);
      return { kind: 'fail', errorReason: outcome.reason === 'timeout' ? 'TimedOut' : 'Failed' };
    }
    if (outcome.status < 200 || outcome.status > 599) {
      // Not an HTTP status a browser knows (fetch passes 600–999 from a server; Chromium refuses to fulfil them).
      this.recordFailure(request, `the API answered with status ${outcome.status}`);
      return { kind: 'fail', errorReason: 'Failed' };
    }
    let body = outcome.body;
    let headers = relayedHeaders(outcome.headers, this.pairs);
    const treatment = answerTreatment(kind, outcome.headers, body);
    const success = outcome.status >= 200 && outcome.status <= 299;
    // Error answers too: an app may show an error's message, and an upstream may echo into it what a page sent.
    if (this.options.viewDocument && treatment !== 'as-is') {
      const viewed = this.options.viewDocument(body.toString('utf8'));
      if (viewed.ok) {
        // The read must bring a composition: a JSON object. Anything else is not shown (the app would fail on it).
        if (kind === 'read' && success && !viewed.json.startsWith('{')) return this.unviewable(request, 'read', serializedJsonKind(viewed.json));
        if (kind === 'read' && success) for (const field of viewed.fields) if (this.sanitizedFields.length < MAX_RECORDED && !this.sanitizedFields.includes(field.path)) this.sanitizedFields.push(field.path);
        body = Buffer.from(viewed.json, 'utf8');
        headers = sanitisedHeaders(headers);
      } else if (treatment === 'sanitise-required' && success) {
        return this.unviewable(request, kind, 'not JSON');
      }
    }
    const served = scrubBytes(body, this.pairs);
    if (kind === 'read' && success) this.servedDocument ??= served.toString('utf8');
    return { kind: 'fulfil', status: outcome.status, headers, body: served };
  }

  /** The 502 a page gets for a 2xx answer that cannot be shown (`found`: what it is instead); recorded as a failed relay. */
  private unviewable(request: PausedRequestLike, kind: 'sign-in' | 'read' | 'configured', found: string): BrokerAnswer {
    const what = kind === 'read' ? 'the composition' : 'the API\'s answer';
    if (kind === 'read') this.notAComposition ??= found;
    this.recordFailure(request, `${what} could not be prepared for viewing: it is ${found}${kind === 'read' && found !== 'not JSON' ? ', not a JSON object' : ''}`);
    const error = `${kind === 'read' ? 'The composition' : 'The API\'s answer'} could not be prepared for viewing: it is ${kind === 'read' && found !== 'not JSON' ? 'not a JSON object' : 'not JSON'}.`;
    return { kind: 'fulfil', status: 502, headers: [...sanitisedHeaders([]), ...corsHeaders(headerValue(request.headers, 'origin'))], body: Buffer.from(JSON.stringify({ error, status: 502 })) };
  }

  private recordRefusal(request: PausedRequestLike): void {
    this.refusedCount++;
    if (this.refused.length >= MAX_RECORDED) return;
    this.refused.push({ method: request.method.slice(0, 16), ...reportedOriginAndPath(request.url) });
  }

  private recordFailure(request: PausedRequestLike, reason: string): void {
    this.failedCount++;
    if (this.failedRelays.length >= MAX_RECORDED) return;
    this.failedRelays.push({ method: request.method.slice(0, 16), ...reportedOriginAndPath(request.url), reason: reportedText(reason, 200) });
  }
}
