import { expect } from 'chai';
import type { RunningBrowserPool } from '#server/browsers/create-router.ts';
import { BrowserUnavailableError } from '#server/browsers/errors.ts';
import { StartingBrowserPool } from '#server/services-factory.ts';

function fakePool(log: string[]): RunningBrowserPool {
  const router = {
    withLease: async (work: (lease: unknown) => Promise<unknown>) => work({ browserId: 'b1' }),
    stats: () => ({ browsers: 1, healthy: 1, draining: 0, sessionsInUse: 0, capacity: 4, queueDepth: 0, prewarmed: 1 }),
  };
  return { router, source: {}, stop: async () => void log.push('stopped') } as unknown as RunningBrowserPool;
}

describe('StartingBrowserPool (browser pool started after the transport)', () => {
  it('reports zero browsers until started, then the router figures', () => {
    const pool = new StartingBrowserPool();
    expect(pool.stats().healthy).to.equal(0);
    pool.settle(fakePool([]));
    expect(pool.stats().healthy).to.equal(1);
  });

  it('holds a lease until the pool has started, then runs it on the router', async () => {
    const pool = new StartingBrowserPool();
    const lease = pool.withLease(async (l) => l.browserId);
    setTimeout(() => pool.settle(fakePool([])), 20);
    expect(await lease).to.equal('b1');
  });

  it('fails waiting and later leases with the reason the pool did not start', async () => {
    const pool = new StartingBrowserPool();
    const waiting = pool.withLease(async () => 'never').catch((e: unknown) => e);
    pool.settle(undefined, new Error('token file /x is missing'));
    const error = await waiting;
    expect(error).to.be.instanceOf(BrowserUnavailableError);
    expect((error as Error).message).to.include('token file /x is missing');
    const later = await pool.withLease(async () => 'never').catch((e: unknown) => e);
    expect((later as Error).message).to.include('token file /x is missing');
  });

  it('stops waiting when the call is cancelled', async () => {
    const pool = new StartingBrowserPool();
    const controller = new AbortController();
    const waiting = pool.withLease(async () => 'never', { signal: controller.signal }).catch((e: unknown) => e);
    controller.abort(new Error('cancelled by client'));
    expect(((await waiting) as Error).message).to.equal('cancelled by client');
  });
});
