import type { Browser, CDPSession } from 'playwright-core';
import { createLogger, type Logger } from '#common/logger.ts';
import { LeaseCredentials, preflightHeaders, type BrokerAnswer, type LeaseCredentialsOptions } from './lease-credentials.ts';
import { lookAlikeKey, lookAlikeToken, uniqueLookAlike } from './look-alike.ts';
import { credentialsDigest, ReservedLookAlikes, type RealCredentials } from './reserved-look-alikes.ts';
import { credentialCandidates, headerValue, type PausedRequestLike } from './request-credentials.ts';
import type { PrefetchKind } from './prefetch-headers.ts';

/** The part of CDP's `Fetch.requestPaused` the broker reads. */
interface RequestPausedEvent {
  requestId: string;
  request: PausedRequestLike;
  resourceType: string;
  responseStatusCode?: number;
  responseErrorReason?: string;
}

/**
 * What a lease asks the broker for: its settings, without look-alikes (the broker makes them unique), and the
 * look-alikes reserved for its page before the lease (`reserve`), to be bound to it when they still can be.
 */
export type BrokeredLeaseOptions = Omit<LeaseCredentialsOptions, 'lookAlikeToken' | 'lookAlikeProjectKey' | 'prefetchHeaders' | 'onPageHeaders'> & { reserved?: ReservedLookAlikes | undefined };

/** A lease's credentials while the broker answers for them; `release()` stops that (idempotent). */
export interface BrokeredLease {
  credentials: LeaseCredentials;
  release(): void;
}

/**
 * One browser's credential broker: a browser-level CDP session (so pages, dedicated workers, SharedWorkers and
 * service workers of every context are covered) that pauses every request to the API origins of the leases it
 * serves, finds the lease by the look-alike credential the request carries, and answers it: the allowed calls
 * performed by the server with the real credentials and fulfilled scrubbed, every other call refused with 403.
 * A request that carries no look-alike of this broker is continued unchanged: it belongs to no lease of this
 * server (another replica sharing the browser may own it, and a look-alike is worthless anywhere else).
 * One per Browser object, created on first use and gone with the connection.
 */
export class BrowserCredentialBroker {
  private static readonly brokers = new WeakMap<Browser, Promise<BrowserCredentialBroker>>();
  /**
   * Per API and app origin, the headers the last page sent with its sign-in check and its read (prefetch-headers.ts), shared
   * by every broker of this process: a browser connection's first lease (another browser of the pool, a reconnected
   * one) prefetches too instead of making the far platform's two calls one after the other. No more trusted than
   * within one browser: the next lease is someone else's call either way, and a page that asks otherwise gets its
   * own relay.
   */
  private static readonly pageHeaders = new Map<string, Partial<Record<PrefetchKind, Record<string, string>>>>();
  private readonly session: CDPSession;
  private readonly logger: Logger;
  private readonly byLookAlike = new Map<string, LeaseCredentials>();
  /** Look-alikes minted ahead of a lease and not bound yet (they name no lease: requests carrying them are continued). */
  private readonly reservedValues = new Map<string, ReservedLookAlikes>();
  private readonly origins = new Set<string>();
  private enabling: Promise<void> = Promise.resolve();

  private constructor(session: CDPSession, logger: Logger) {
    this.session = session;
    this.logger = logger;
    session.on('Fetch.requestPaused', (event) => void this.onPaused(event as unknown as RequestPausedEvent));
  }

  /** The broker of `browser`, attached on first call (a browser-level CDP session). */
  static forBrowser(browser: Browser, logger?: Logger): Promise<BrowserCredentialBroker> {
    let broker = BrowserCredentialBroker.brokers.get(browser);
    if (broker === undefined) {
      broker = browser.newBrowserCDPSession().then((session) => new BrowserCredentialBroker(session, logger ?? createLogger({ component: 'credential-broker' })));
      BrowserCredentialBroker.brokers.set(browser, broker);
      broker.catch(() => BrowserCredentialBroker.brokers.delete(browser));
    }
    return broker;
  }

  /** Leases this broker answers for now. */
  get activeLeases(): number {
    return new Set(this.byLookAlike.values()).size;
  }

  /**
   * Makes look-alikes unique on this browser — or binds the page's `reserved` ones, when they are still reserved here
   * and were minted from these real credentials (at most once; otherwise they are discarded and new ones made) — starts
   * answering the lease's API calls (the API origin intercepted before this resolves), and returns the lease's
   * credentials with a `release` that stops answering for them (bound look-alikes are never bound again).
   */
  async open(options: BrokeredLeaseOptions): Promise<BrokeredLease> {
    const { reserved, ...leaseOptions } = options;
    const real: RealCredentials = { accessToken: options.accessToken, projectKey: options.projectKey };
    // The page's pre-minted look-alikes when they are still reserved on this broker for these real credentials (once).
    const bound = reserved !== undefined && this.reservedValues.get(reserved.token) === reserved && reserved.bind(real) ? reserved : undefined;
    if (reserved !== undefined && bound === undefined) reserved.discard();
    const { token, projectKey } = bound ?? this.mint(real);
    const apiOrigin = new URL(options.apiUrl).origin;
    // Keyed by the API and the app origin: headers are learned only from the app's own pages (their Origin).
    const learnedKey = `${apiOrigin} ${options.appOrigin ?? ''}`;
    const learned = BrowserCredentialBroker.pageHeaders.get(learnedKey) ?? {};
    BrowserCredentialBroker.pageHeaders.set(learnedKey, learned);
    const credentials = new LeaseCredentials({
      ...leaseOptions,
      lookAlikeToken: token,
      lookAlikeProjectKey: projectKey,
      prefetchHeaders: { ...learned },
      onPageHeaders: (kind, headers) => {
        learned[kind] = headers;
      },
    });
    // The platform calls the page will make start now, while its page loads (none before a page of this process has shown its headers).
    credentials.prefetch();
    try {
      await this.intercept(apiOrigin);
    } catch (error) {
      credentials.end();
      if (bound !== undefined) this.forgetReserved(bound);
      throw error;
    }
    for (const value of credentials.lookAlikes) this.byLookAlike.set(value, credentials);
    // Bound: from now on they name this lease (kept reserved until registered, so no other draw could take them).
    if (bound !== undefined) this.forgetReserved(bound);
    let released = false;
    return {
      credentials,
      release: () => {
        if (released) return;
        released = true;
        for (const value of credentials.lookAlikes) if (this.byLookAlike.get(value) === credentials) this.byLookAlike.delete(value);
        credentials.end();
        // One line per lease, not per call: a page in a loop must not flood the log. Methods and origins only.
        if (credentials.refusedTotal > 0) {
          const calls = [...new Set(credentials.refused.map((c) => `${c.method} ${c.origin}`))].slice(0, 10);
          this.logger.info('Refused API calls from a read-only page', { refused: credentials.refusedTotal, calls });
        }
      },
    };
  }

  /**
   * Mints look-alikes of `real` for a page before any lease takes it (a warm page seeds them ahead of demand:
   * page-preparation.ts): unique on this browser, naming no lease until `open` binds them to the lease that takes the
   * page. Until then a request carrying them is continued unchanged, like one of another replica: the API gets
   * worthless values. `discard()` them when the page goes without a lease.
   */
  reserve(real: RealCredentials): ReservedLookAlikes {
    const reserved = new ReservedLookAlikes({ ...this.mint(real), mintedFrom: credentialsDigest(real) }, (r) => this.forgetReserved(r));
    for (const value of reserved.values) this.reservedValues.set(value, reserved);
    return reserved;
  }

  /** Pages' look-alikes reserved ahead of a lease and neither bound nor discarded yet. */
  get reservedCount(): number {
    return new Set(this.reservedValues.values()).size;
  }

  /** Look-alikes of `real` that differ from every value this broker has reserved or bound. */
  private mint(real: RealCredentials): { token: string; projectKey: string | undefined } {
    const taken = (candidate: string) => this.byLookAlike.has(candidate) || this.reservedValues.has(candidate);
    const token = uniqueLookAlike(real.accessToken, (value) => lookAlikeToken(value), taken);
    const projectKey = real.projectKey ? uniqueLookAlike(real.projectKey, (value) => lookAlikeKey(value), (c) => taken(c) || c === token) : undefined;
    return { token, projectKey };
  }

  private forgetReserved(reserved: ReservedLookAlikes): void {
    for (const value of reserved.values) if (this.reservedValues.get(value) === reserved) this.reservedValues.delete(value);
  }

  /** Adds `origin` to the intercepted origins (Fetch.enable takes the whole list each time). */
  private intercept(origin: string): Promise<void> {
    if (this.origins.has(origin)) return this.enabling;
    this.origins.add(origin);
    const patterns = [...this.origins].map((o) => ({ urlPattern: `${o}/*`, requestStage: 'Request' as const }));
    const enabled = this.enabling.catch(() => undefined).then(async () => {
      await this.session.send('Fetch.enable', { patterns });
      return undefined;
    });
    enabled.catch(() => this.origins.delete(origin));
    this.enabling = enabled;
    return enabled;
  }

  /** The lease whose look-alike `request` carries; undefined for none, or for look-alikes of two different leases. */
  private leaseOf(request: PausedRequestLike): LeaseCredentials | 'ambiguous' | undefined {
    let found: LeaseCredentials | undefined;
    for (const candidate of credentialCandidates(request)) {
      const lease = this.byLookAlike.get(candidate);
      if (lease === undefined) continue;
      if (found !== undefined && found !== lease) return 'ambiguous';
      found = lease;
    }
    return found;
  }

  private async onPaused(event: RequestPausedEvent): Promise<void> {
    const { requestId } = event;
    if (event.responseStatusCode !== undefined || event.responseErrorReason !== undefined) {
      await this.send('Fetch.continueRequest', { requestId });
      return;
    }
    // A CORS preflight carries no credential of its own (a header-borne look-alike is only announced), so it cannot
    // always name its lease. While this broker serves leases it answers every preflight itself, for the announced
    // method and headers and the page's origin (as Playwright's request interception did for pages): none reaches
    // the API, and the request that follows carries its look-alike and is judged like any other.
    const announced = event.request.method.toUpperCase() === 'OPTIONS' ? headerValue(event.request.headers, 'access-control-request-method') : undefined;
    if (announced !== undefined && this.byLookAlike.size > 0) {
      await this.send('Fetch.fulfillRequest', { requestId, responseCode: 204, responseHeaders: preflightHeaders(event.request, announced), body: '' });
      return;
    }
    const lease = this.leaseOf(event.request);
    if (lease === undefined) {
      await this.send('Fetch.continueRequest', { requestId });
      return;
    }
    if (lease === 'ambiguous') {
      this.logger.warn('Refused an API request carrying look-alikes of two leases', { method: event.request.method.slice(0, 16), resourceType: event.resourceType });
      await this.send('Fetch.failRequest', { requestId, errorReason: 'AccessDenied' });
      return;
    }
    const paused = performance.now();
    const answer: BrokerAnswer = await lease.answer(event.request);
    if (answer.kind === 'fail') {
      await this.send('Fetch.failRequest', { requestId, errorReason: answer.errorReason });
      return;
    }
    // Chromium refuses some answers (a status it does not know); a request left paused would hang its page until
    // the lease ends, so a refused answer becomes a network error.
    const fulfilling = performance.now();
    if (!(await this.send('Fetch.fulfillRequest', { requestId, responseCode: answer.status, responseHeaders: answer.headers, body: answer.body.toString('base64') }))) {
      await this.send('Fetch.failRequest', { requestId, errorReason: 'Failed' });
    }
    lease.phases?.add('broker.fulfil', performance.now() - fulfilling);
    lease.phases?.add('broker.answer', performance.now() - paused);
  }

  /** A CDP command whose failure means the request is gone (its page or context closed) or the answer was refused; false then. */
  private async send(method: 'Fetch.continueRequest' | 'Fetch.failRequest' | 'Fetch.fulfillRequest', params: Record<string, unknown>): Promise<boolean> {
    try {
      await this.session.send(method, params as never);
      return true;
    } catch (error) {
      this.logger.debug('Paused request was gone before the broker answered, or the answer was refused', { method, error: error instanceof Error ? error.message : String(error) });
      return false;
    }
  }
}
