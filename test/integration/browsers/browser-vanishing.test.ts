import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { connect as netConnect, createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
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

/**
 * A TCP proxy in front of a gateway that cuts the first connection carrying a load report (the gateway's answer to
 * `Gateway.subscribeLoad`, the router's last step before it takes a browser as ready) before passing it on: the
 * browser goes away while the router is still connecting. Later connections pass.
 */
async function startCuttingProxy(gatewayUrl: string): Promise<{ url: string; cuts: () => number; connections: () => number; close: () => Promise<void> }> {
  const target = new URL(gatewayUrl);
  const sockets = new Set<Socket>();
  let cuts = 0;
  let connections = 0;
  const server = createNetServer((client) => {
    connections++;
    const upstream = netConnect(Number(target.port), target.hostname);
    sockets.add(client).add(upstream);
    const drop = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    upstream.on('data', (chunk: Buffer) => {
      if (cuts === 0 && chunk.includes('maxContexts')) {
        cuts++;
        drop();
        return;
      }
      client.write(chunk);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    cuts: () => cuts,
    connections: () => connections,
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}

/**
 * A TCP proxy in front of a gateway that can go silent: after `freeze()` it passes no byte either way and closes
 * nothing, as when a pod's network vanishes (its node lost, its IP gone). A WebSocket close then gets no answer.
 */
async function startFreezingProxy(gatewayUrl: string): Promise<{ url: string; freeze: () => void; close: () => Promise<void> }> {
  const target = new URL(gatewayUrl);
  const sockets = new Set<Socket>();
  let frozen = false;
  const server = createNetServer((client) => {
    const upstream = netConnect(Number(target.port), target.hostname);
    sockets.add(client).add(upstream);
    const drop = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.on('data', (chunk: Buffer) => {
      if (!frozen) upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!frozen) client.write(chunk);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    freeze: () => {
      frozen = true;
    },
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
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
  async function twoBrowsers(routerOptions: Partial<ConstructorParameters<typeof BrowserRouter>[0]> = {}, victimUrl?: (victim: LocalBrowser) => Promise<string>) {
    const [victim, survivor] = await Promise.all([0, 1].map(() =>
      startLocalBrowser({ tokenFile: path.join(dir, 'token'), allowedOrigins: [site.origin], logger: quiet(), rootDir: dir })));
    started.push(victim!, survivor!);
    const victimEndpoint = victimUrl === undefined ? victim!.endpoint : await victimUrl(victim!);
    const endpoint = (id: string, b: LocalBrowser) => ({ id, url: b === victim ? victimEndpoint : b.endpoint, token: TOKEN, state: 'Ready' as const });
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

  /**
   * An idempotent lease that loads the site's /fast page, recording on which browser its work ran, once the router
   * has reserved it on a browser (the first one offered).
   */
  async function reserveFastPageLease(router: BrowserRouter): Promise<{ result: Promise<string>; attempts: string[] }> {
    const attempts: string[] = [];
    const result = router.withLease(async (lease) => {
      attempts.push(lease.browserId);
      await lease.page.goto(`${site.origin}/fast`);
      return lease.page.title();
    }, { idempotent: true });
    result.catch(() => undefined);
    await until(() => router.stats().sessionsInUse === 1, 10_000, 'the lease to be reserved on the first browser');
    return { result, attempts };
  }

  /** What `result` settles to, or 'still waiting after 10 s'. */
  function within10s(result: Promise<string>): Promise<string> {
    return Promise.race([result, new Promise<string>((r) => setTimeout(() => r('still waiting after 10 s'), 10_000))]);
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

  it('places a lease whose page is still being opened on a browser that stops answering and is removed on another browser at once', async () => {
    const { victim, router, offerBoth, offerOnlySurvivor } = await twoBrowsers({ healthIntervalMs: 60_000 });
    // The browser stops answering before the lease's context is made: the lease waits on its page.
    await signalChromium(victim, 'SIGSTOP');
    const { result, attempts } = await reserveFastPageLease(router);
    await offerBoth();
    const removedAt = Date.now();
    offerOnlySurvivor();
    const settled = await within10s(result);
    expect(settled).to.equal('/fast');
    expect(Date.now() - removedAt, 'placed elsewhere soon after the removal').to.be.below(5000);
    expect(attempts, 'the work ran once, on the other browser').to.deep.equal(['survivor']);
  });

  it('places a lease whose page is still being opened elsewhere at once when its browser\'s network goes silent and it is removed', async () => {
    let proxy: Awaited<ReturnType<typeof startFreezingProxy>> | undefined;
    const { router, offerBoth, offerOnlySurvivor } = await twoBrowsers({ healthIntervalMs: 60_000 }, async (victim) => {
      proxy = await startFreezingProxy(victim.endpoint);
      return proxy.url;
    });
    try {
      // No byte reaches the browser any more: the lease's context is never made, and closing the connection waits
      // for a close handshake that never comes.
      proxy!.freeze();
      const { result, attempts } = await reserveFastPageLease(router);
      await offerBoth();
      const removedAt = Date.now();
      offerOnlySurvivor();
      const settled = await within10s(result);
      expect(settled).to.equal('/fast');
      expect(Date.now() - removedAt, 'placed elsewhere soon after the removal').to.be.below(5000);
      expect(attempts, 'the work ran once, on the other browser').to.deep.equal(['survivor']);
    } finally {
      await proxy?.close();
    }
  });

  it('places a lease elsewhere when its browser gives it no page within pageOpenTimeoutMs and nothing else notices', async () => {
    let proxy: Awaited<ReturnType<typeof startFreezingProxy>> | undefined;
    // No health probe and no removal: only the page-open bound can free the lease.
    const { router, offerBoth } = await twoBrowsers({ healthIntervalMs: 0, pageOpenTimeoutMs: 1500 }, async (victim) => {
      proxy = await startFreezingProxy(victim.endpoint);
      return proxy.url;
    });
    try {
      proxy!.freeze();
      const { result, attempts } = await reserveFastPageLease(router);
      await offerBoth();
      const settled = await within10s(result);
      expect(settled).to.equal('/fast');
      expect(attempts, 'the work ran once, on the other browser').to.deep.equal(['survivor']);
    } finally {
      await proxy?.close();
    }
  });

  it('does not take a browser whose connection dropped while it was being set up as ready: it connects again and serves the lease', async () => {
    const browser = await startLocalBrowser({ tokenFile: path.join(dir, 'token'), allowedOrigins: [site.origin], logger: quiet(), rootDir: dir });
    started.push(browser);
    const proxy = await startCuttingProxy(browser.endpoint);
    try {
      const source = new ManualSource([{ id: 'only', url: proxy.url, token: TOKEN, state: 'Ready' }]);
      // Slow page-open bound and health probe: neither may be what rescues the lease.
      const router = new BrowserRouter({ source, logger: quiet(), prewarmPerBrowser: 0, reconnectInitialMs: 200, healthIntervalMs: 60_000, pageOpenTimeoutMs: 60_000, queueTimeoutMs: 20_000 });
      routers.push(router);
      await router.start();
      await until(() => proxy.cuts() === 1, 10_000, 'the first connection to be cut while connecting');
      const lease = router.withLease(async (l) => {
        await l.page.goto(`${site.origin}/fast`);
        return l.page.title();
      });
      lease.catch(() => undefined);
      const outcome = await Promise.race([lease.then((t) => t, (e: unknown) => `failed: ${String(e)}`), new Promise<string>((r) => setTimeout(() => r('still waiting after 15 s'), 15_000))]);
      expect(outcome).to.equal('/fast');
      expect(proxy.connections(), 'connected again after the cut').to.be.at.least(2);
    } finally {
      await proxy.close();
    }
  });

  it('places a lease whose page is still being opened elsewhere at once when its browser\'s gateway closes the connection', async () => {
    const { victim, router, offerBoth } = await twoBrowsers({ healthIntervalMs: 60_000 });
    await signalChromium(victim, 'SIGSTOP');
    const { result, attempts } = await reserveFastPageLease(router);
    await offerBoth();
    // The pod goes: its gateway closes every client (as on SIGTERM) while the lease's context is still being made.
    const closedAt = Date.now();
    await victim.gateway.close();
    const settled = await within10s(result);
    expect(settled).to.equal('/fast');
    expect(Date.now() - closedAt, 'placed elsewhere soon after the disconnect').to.be.below(5000);
    expect(attempts).to.deep.equal(['survivor']);
  });
});
