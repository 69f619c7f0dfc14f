import { expect } from 'chai';
import { createLogger } from '#common/logger.ts';
import type { BrowserEndpoint, EndpointSource } from '#server/browsers/endpoint-source.ts';
import { BrowserBusyError, BrowserUnavailableError } from '#server/browsers/errors.ts';
import { BrowserRouter, type RouterOptions } from '#server/browsers/router.ts';

/** A source with no browsers (a pool scaled to zero, or not yet up). */
const emptySource = (): EndpointSource => ({
  start: async () => undefined,
  current: (): BrowserEndpoint[] => [],
  onChange: () => () => undefined,
  stop: async () => undefined,
});

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

describe('router refusals without browsers', () => {
  const routers: BrowserRouter[] = [];
  const make = async (options: Partial<RouterOptions> = {}, start = true) => {
    const router = new BrowserRouter({ source: emptySource(), logger: createLogger({ component: 'router', level: 'error', format: 'json' }), startTimeoutMs: 10, ...options });
    routers.push(router);
    if (start) await router.start();
    return router;
  };
  afterEach(async () => {
    await Promise.all(routers.splice(0).map((r) => r.stop()));
  });

  it('refuses leases before start and after stop', async () => {
    const router = await make({}, false);
    expect(await rejection(router.withLease(async () => 1))).to.be.instanceOf(BrowserUnavailableError);
    await router.start();
    await router.stop();
    const error = await rejection(router.withLease(async () => 1));
    expect(error).to.be.instanceOf(BrowserUnavailableError);
    expect(error.message).to.match(/not running/);
  });

  it('answers busy at once, with a retry hint, when the queue is full', async () => {
    const router = await make({ queueMaxDepth: 0 });
    const started = Date.now();
    const error = await rejection(router.withLease(async () => 1));
    expect(Date.now() - started).to.be.below(100);
    expect(error).to.be.instanceOf(BrowserBusyError);
    expect((error as BrowserBusyError).retryAfterSeconds).to.be.at.least(1);
  });

  it('says no healthy browser is available when the deadline passes with none ready', async () => {
    const router = await make({ queueTimeoutMs: 50 });
    const error = await rejection(router.withLease(async () => 1));
    expect(error).to.be.instanceOf(BrowserUnavailableError);
    expect(error.message).to.match(/No healthy browser became available within 0\.\d s \(0 known, none ready\)/);
    expect(router.stats()).to.deep.equal({ browsers: 0, healthy: 0, draining: 0, sessionsInUse: 0, capacity: 0, queueDepth: 0, prewarmed: 0 });
  });

  it('refuses queued callers when the router stops', async () => {
    const router = await make({ queueTimeoutMs: 10_000 });
    const waiting = router.withLease(async () => 1);
    await new Promise((r) => setTimeout(r, 10));
    expect(router.stats().queueDepth).to.equal(1);
    await router.stop();
    const error = await rejection(waiting);
    expect(error).to.be.instanceOf(BrowserUnavailableError);
    expect(error.message).to.match(/stopped while the lease was waiting/);
  });

  it('rejects a bad cap and a bad allowed origin with a clear message', async () => {
    expect(() => new BrowserRouter({ source: emptySource(), maxSessionsPerBrowser: 0 })).to.throw(/maxSessionsPerBrowser must be a whole number ≥ 1, got 0/);
    const router = await make();
    expect((await rejection(router.withLease(async () => 1, { allowedOrigins: ['composer.example.com'] }))).message).to.match(/Allowed origin "composer.example.com" is not a URL/);
  });
});
