import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { startLocalBrowser, type LocalBrowser } from '#browser/local-browser.ts';
import { groupMembers } from '#browser/launcher/process-tree.ts';
import { createLogger } from '#common/logger.ts';
import { BrowserFailedError } from '#server/browsers/errors.ts';
import { BrowserRouter, type Lease } from '#server/browsers/router.ts';
import { ManualSource, until } from './gateway-probe.ts';

const quiet = () => createLogger({ component: 'router', level: 'error', format: 'json' });
const TOKEN = 'vanishing-browser-test-token-0001';

/** A site whose `/slow` never answers (a navigation stays in flight) and whose other paths answer at once. */
async function startSlowSite(): Promise<{ origin: string; slowRequests: () => number; close: () => Promise<void> }> {
  const held = new Set<ServerResponse>();
  let slow = 0;
  const server: Server = createServer((req, res) => {
    if (req.url === '/slow') {
      slow++;
      held.add(res);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(`<title>${req.url ?? ''}</title>`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    slowRequests: () => slow,
    close: () => new Promise<void>((resolve) => {
      for (const res of held) res.destroy();
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** Signals every process of a Chromium's process group of the given types (`browser`, `renderer`, `utility`, …). */
async function signalChromium(browser: LocalBrowser, signal: NodeJS.Signals, types?: string[]): Promise<number> {
  const members = (await groupMembers(browser.chromiumPid)).filter((m) => types === undefined || types.includes(m.type));
  for (const m of members) {
    try {
      process.kill(m.pid, signal);
    } catch {
      // gone meanwhile
    }
  }
  return members.length;
}

describe('browser router when a browser vanishes in the middle of a call', function () {
  this.timeout(120_000);
  let dir: string;
  let site: Awaited<ReturnType<typeof startSlowSite>>;
  const started: LocalBrowser[] = [];
  let routers: BrowserRouter[] = [];

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'composer-mcp-vanishing-'));
    await writeFile(path.join(dir, 'token'), TOKEN, { mode: 0o600 });
    site = await startSlowSite();
  });

  afterEach(async () => {
    for (const r of routers) await r.stop();
    routers = [];
    for (const b of started.splice(0)) {
      await signalChromium(b, 'SIGCONT').catch(() => 0);
      await b.stop();
    }
  });

  after(async () => {
    await site?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** Two real browsers (gateway + Chromium), only the first offered at first so that the first lease lands on it. */
  async function twoBrowsers(routerOptions: Partial<ConstructorParameters<typeof BrowserRouter>[0]> = {}) {
    const [victim, survivor] = await Promise.all([0, 1].map(() =>
      startLocalBrowser({ tokenFile: path.join(dir, 'token'), allowedOrigins: [site.origin], logger: quiet(), rootDir: dir })));
    started.push(victim!, survivor!);
    const endpoint = (id: string, b: LocalBrowser) => ({ id, url: b.endpoint, token: TOKEN, state: 'Ready' as const });
    const source = new ManualSource([endpoint('victim', victim!)]);
    const router = new BrowserRouter({ source, logger: quiet(), prewarmPerBrowser: 0, reconnectInitialMs: 200, ...routerOptions });
    routers.push(router);
    await router.start();
    return {
      victim: victim!, survivor: survivor!, source, router,
      offerBoth: async () => {
        source.set([endpoint('victim', victim!), endpoint('survivor', survivor!)]);
        await until(() => router.stats().healthy === 2, 20_000, 'both browsers healthy in the router');
      },
      offerOnlySurvivor: () => source.set([endpoint('survivor', survivor!)]),
    };
  }

  /** A lease that navigates to `/slow` on the first browser it gets and to `/fast` on any other. */
  function navigatingLease(router: BrowserRouter, attempts: string[], idempotent: boolean): Promise<string> {
    return router.withLease(async (lease: Lease) => {
      attempts.push(lease.browserId);
      if (attempts.length === 1) {
        await lease.page.goto(`${site.origin}/slow`, { timeout: 60_000 });
        return 'slow page loaded';
      }
      await lease.page.goto(`${site.origin}/fast`);
      return lease.page.title();
    }, { idempotent });
  }

  it('retries an idempotent lease elsewhere when its page fails first and its browser dies a moment later', async () => {
    const { victim, router, offerBoth } = await twoBrowsers();
    const attempts: string[] = [];
    const slowBefore = site.slowRequests();
    const result = navigatingLease(router, attempts, true);
    result.catch(() => undefined);
    await until(() => site.slowRequests() > slowBefore, 20_000, 'the navigation to be in flight');
    await offerBoth();
    // The renderer and the network service die first, the browser process 300 ms later (as the processes of a
    // container die one by one): the navigation's error reaches the router before the browser's disconnect.
    expect(await signalChromium(victim, 'SIGKILL', ['renderer', 'utility', 'zygote'])).to.be.greaterThan(0);
    await new Promise((r) => setTimeout(r, 300));
    await signalChromium(victim, 'SIGKILL');
    expect(await result).to.equal('/fast');
    expect(attempts).to.deep.equal(['victim', 'survivor']);
  });

  it('keeps a work error a work error when only the page failed and the browser lives on (not retried)', async () => {
    const { victim, router, offerBoth } = await twoBrowsers();
    const attempts: string[] = [];
    const slowBefore = site.slowRequests();
    const result = navigatingLease(router, attempts, true);
    result.catch(() => undefined);
    await until(() => site.slowRequests() > slowBefore, 20_000, 'the navigation to be in flight');
    await offerBoth();
    expect(await signalChromium(victim, 'SIGKILL', ['renderer'])).to.be.greaterThan(0);
    let error: unknown;
    try {
      await result;
    } catch (e) {
      error = e;
    }
    expect(error, 'the work\'s own error').to.be.instanceOf(Error).and.not.instanceOf(BrowserFailedError);
    expect(attempts, 'not retried').to.deep.equal(['victim']);
    expect(router.stats().healthy, 'the browser is still in the pool').to.equal(2);
  });

  it('fails the leases of a removed browser endpoint at once: the idempotent one is retried elsewhere, the other reports a browser failure', async () => {
    // The health probe is slow here, so only the endpoint's removal can end the leases in time.
    const { victim, router, offerBoth, offerOnlySurvivor } = await twoBrowsers({ healthIntervalMs: 60_000, leaseDeadlineMs: 60_000 });
    const idempotentAttempts: string[] = [];
    const plainAttempts: string[] = [];
    const slowBefore = site.slowRequests();
    const idempotent = navigatingLease(router, idempotentAttempts, true);
    const plain = navigatingLease(router, plainAttempts, false);
    idempotent.catch(() => undefined);
    plain.catch(() => undefined);
    await until(() => site.slowRequests() >= slowBefore + 2, 20_000, 'both navigations to be in flight');
    await offerBoth();
    // The browser stops answering (its pod's node is gone: no close ever reaches the server), then the pool drops it.
    await signalChromium(victim, 'SIGSTOP');
    const removedAt = Date.now();
    offerOnlySurvivor();
    expect(await idempotent).to.equal('/fast');
    expect(idempotentAttempts).to.deep.equal(['victim', 'survivor']);
    let error: unknown;
    try {
      await plain;
    } catch (e) {
      error = e;
    }
    expect(Date.now() - removedAt, 'both leases ended soon after the removal').to.be.below(5000);
    expect(error).to.be.instanceOf(BrowserFailedError);
    expect((error as BrowserFailedError).browserId).to.equal('victim');
    expect((error as BrowserFailedError).phase).to.equal('work');
    expect(plainAttempts).to.deep.equal(['victim']);
    expect(router.stats().sessionsInUse, 'no lease left running').to.equal(0);
  });
});
