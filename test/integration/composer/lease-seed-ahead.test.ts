import { expect } from 'chai';
import type { BrowserContext, CDPSession, Page } from 'playwright-core';
import { BrowserCredentialBroker, type BrokeredLeaseOptions } from '#server/composer/broker/browser-broker.ts';
import { HttpStorageClient } from '#server/composer/storage-client.ts';
import { pagePreparer, type PagePreparation } from '#server/composer/session/page-preparation.ts';
import { openCompositionTool } from '#server/tools/open-composition.ts';
import type { ComposerServices, ComposerSettings } from '#server/tools/services.ts';
import type { ToolDefinition } from '#server/tools/tool-definition.ts';
import type { ComposerStandin } from '#support/composer-standin/standin.ts';
import { callTool, composerServices, errorOf, everyWidgetComposition, startOneLocalBrowser, startStandinWithLocalBrowsers, type StandinWithLocalBrowsers } from './composer-fixtures.ts';

const SECRET = 'lease-seed-ahead-secret-0123456789abcdef';
const open = openCompositionTool as unknown as ToolDefinition<ComposerServices>;

/**
 * A warm page is signed in ahead of its lease (ADR 35): its browser's credential broker reserves look-alikes of the
 * configured credentials for it, page preparation seeds them, and the broker binds them to the lease that takes the
 * page. The seed's round trips are then off the call's path; the look-alikes name no lease before they are bound nor
 * after it is released.
 */
describe('warm pages signed in ahead with look-alikes bound at the lease (real Chromium, the broker, the stand-in)', function () {
  this.timeout(90_000);
  let started: StandinWithLocalBrowsers | undefined;
  let standin: ComposerStandin;
  let settings: ComposerSettings;
  const stops: Array<() => Promise<void>> = [];

  before(async () => {
    started = await startStandinWithLocalBrowsers({ jwtSecret: SECRET, leasesAllowOnlyStandinOrigins: true });
    ({ standin, settings } = started);
  });
  after(async () => {
    for (const stop of stops) await stop();
    await started?.stop();
  });

  /**
   * A router whose pages are prepared by `pagePreparer(preparation)`, and the CDP commands every session of a page sent
   * after its preparation had finished (the lease's path), by page.
   */
  const preparedRouter = async (preparation: PagePreparation) => {
    const prepare = pagePreparer(preparation);
    const afterPreparation = new Map<Page, string[]>();
    /** One promise per warm page prepared, in order: the next lease takes a warm one once the n-th has resolved. */
    const warm: Array<PromiseWithResolvers<void>> = [];
    const nthWarm = (n: number) => (warm[n] ??= Promise.withResolvers<void>());
    let warmPrepared = 0;
    const warmPages = (count: number) => nthWarm(count - 1).promise;
    const origins = [standin.appUrl, standin.apiUrl];
    const browser = await startOneLocalBrowser(origins, {
      allowedOrigins: origins,
      preparePage: async (context: BrowserContext, page: Page, purpose: 'warm' | 'lease') => {
        const newCDPSession = context.newCDPSession.bind(context);
        context.newCDPSession = async (target) => {
          const session: CDPSession = await newCDPSession(target);
          const send = session.send.bind(session);
          session.send = ((method: string, params?: object) => {
            afterPreparation.get(page)?.push(method);
            return send(method as never, params as never);
          }) as CDPSession['send'];
          return session;
        };
        await prepare(context, page, purpose);
        afterPreparation.set(page, []);
        if (purpose === 'warm') nthWarm(warmPrepared++).resolve();
      },
    });
    stops.push(browser.stop);
    return { router: browser.router, afterPreparation, warmPages };
  };

  it('the lease of a warm page sends no sign-in seed before navigating: the page holds its look-alikes already, bound to the lease', async () => {
    const { router, afterPreparation, warmPages } = await preparedRouter({ composerUrl: standin.appUrl, apiUrl: standin.apiUrl, assetCache: undefined, signIn: settings });
    const { uid } = await new HttpStorageClient(settings).upload(everyWidgetComposition('Assinada antes'));
    for (let call = 0; call < 2; call++) {
      await warmPages(call + 1);
      const before = standin.apiRequests().length;
      const { result } = await callTool(open, { uid }, composerServices({ settings, browsers: router }));
      expect(errorOf(result), JSON.stringify(result.content).slice(0, 300)).to.equal(undefined);
      expect((result.structuredContent as { ready: boolean }).ready).to.equal(true);
      // Signed in: the page's sign-in check and read carried look-alikes the broker knew, and it relayed them with the real token.
      const calls = standin.apiRequests().slice(before);
      expect(calls.filter((c) => c.path === '/auth/v1.0/user/me').map((c) => c.bearer)).to.deep.equal([settings.accessToken]);
      expect(calls.filter((c) => c.path === '/storage/v1.0/content').map((c) => c.bearer)).to.deep.equal([settings.accessToken]);
    }
    const leased = [...afterPreparation.values()].filter((sent) => sent.length > 0);
    expect(leased.length, 'two leased pages').to.equal(2);
    for (const sent of leased) {
      expect(sent, 'no seed on the lease\'s path').to.not.include('Page.addScriptToEvaluateOnNewDocument');
      expect(sent).to.not.include('Page.enable');
    }
  });

  it('a warm page whose look-alikes cannot be bound (the configured credentials changed since) is seeded by its lease and signs in', async () => {
    const stale = { ...settings, accessToken: `${settings.accessToken}x` };
    const { router, afterPreparation } = await preparedRouter({ composerUrl: standin.appUrl, apiUrl: standin.apiUrl, assetCache: undefined, signIn: stale });
    const { uid } = await new HttpStorageClient(settings).upload(everyWidgetComposition('Assinada de novo'));
    const { result } = await callTool(open, { uid }, composerServices({ settings, browsers: router }));
    expect(errorOf(result), JSON.stringify(result.content).slice(0, 300)).to.equal(undefined);
    expect((result.structuredContent as { ready: boolean }).ready).to.equal(true);
    const leased = [...afterPreparation.values()].filter((sent) => sent.length > 0);
    expect(leased.flat(), 'the lease seeded its own look-alikes').to.include('Page.addScriptToEvaluateOnNewDocument');
  });

  it('a reserved look-alike is never answered with the real credentials before it is bound nor after its lease is released, and is bound once', async () => {
    const { router } = started!;
    await router.withLease(async (lease) => {
      const broker = await BrowserCredentialBroker.forBrowser(lease.context.browser()!);
      const leaseOptions: BrokeredLeaseOptions = { uid: 'H4sIother', apiUrl: standin.apiUrl, apiEnv: settings.apiEnv, accessToken: settings.accessToken!, projectKey: settings.projectKey, rules: [], upstreamTimeoutMs: 5_000, maxResponseBytes: 1_000_000, maxRelayedCalls: 10, appOrigin: standin.appUrl };
      // Another lease on the browser, so its API origin is intercepted while the reserved look-alikes are unbound.
      const other = await broker.open(leaseOptions);
      const reserved = broker.reserve({ accessToken: settings.accessToken!, projectKey: settings.projectKey });
      expect(reserved.token).to.not.equal(settings.accessToken);
      expect(other.credentials.lookAlikes).to.not.include.members(reserved.values);
      await lease.page.goto(`${standin.apiUrl}/`);
      /** Asks the API's sign-in check with `token`: the status the page got and the bearers the API saw. */
      const signInWith = async (token: string) => {
        const before = standin.apiRequests().length;
        const status = await lease.page.evaluate(async (bearer) => (await fetch('/auth/v1.0/user/me', { headers: { Authorization: `Bearer ${bearer}` } })).status, token);
        return { status, bearers: standin.apiRequests().slice(before).map((c) => c.bearer) };
      };
      try {
        expect(await signInWith(reserved.token), 'unbound: continued unchanged, refused by the API').to.deep.equal({ status: 401, bearers: [reserved.token] });
        const bound = await broker.open({ ...leaseOptions, uid: 'H4sIbound', reserved });
        expect(bound.credentials.token, 'the reserved look-alike is the lease\'s').to.equal(reserved.token);
        expect(bound.credentials.projectKey).to.equal(reserved.projectKey);
        expect(broker.reservedCount).to.equal(0);
        // Bound: relayed with the real token (the broker may also prefetch the lease's calls, with the real token too).
        const boundSignIn = await signInWith(reserved.token);
        expect(boundSignIn.status).to.equal(200);
        expect(boundSignIn.bearers, 'bound: relayed with the real token').to.include(settings.accessToken);
        expect(boundSignIn.bearers.every((bearer) => bearer === settings.accessToken)).to.equal(true);
        const again = await broker.open({ ...leaseOptions, uid: 'H4sIagain', reserved });
        expect(again.credentials.token, 'never bound to a second lease').to.not.equal(reserved.token);
        again.release();
        bound.release();
        expect(await signInWith(reserved.token), 'released: continued unchanged again').to.deep.equal({ status: 401, bearers: [reserved.token] });
        // A page closed unleased gives its reservation up.
        const discarded = broker.reserve({ accessToken: settings.accessToken!, projectKey: settings.projectKey });
        expect(broker.reservedCount).to.equal(1);
        discarded.discard();
        expect(broker.reservedCount).to.equal(0);
        const late = await broker.open({ ...leaseOptions, uid: 'H4sIlate', reserved: discarded });
        expect(late.credentials.token, 'a discarded reservation is not bound').to.not.equal(discarded.token);
        late.release();
      } finally {
        other.release();
      }
    });
  });
});
