import { expect } from 'chai';
import type { BrowserContext, Page } from 'playwright-core';
import { PrewarmPool, type WarmPage } from '#server/browsers/prewarm-pool.ts';

/** Counts creations and open contexts; creations finish when the test resolves them. */
function harness(cap: number, target: number, refillDelayMs?: number) {
  let open = 0;
  let created = 0;
  let inUse = 0;
  const resolvers: Array<() => void> = [];
  const make = (): Promise<WarmPage> => {
    created++;
    open++;
    const context = { close: async () => { open--; } } as unknown as BrowserContext;
    const warm: WarmPage = { context, page: {} as Page, guard: { allowedOrigins: undefined, blocked: [], blockedTotal: 0 } };
    return new Promise((resolve) => resolvers.push(() => resolve(warm)));
  };
  const pool: PrewarmPool = new PrewarmPool({ create: make, target, room: () => cap - inUse - pool.openUnclaimed, onError: () => undefined, ...(refillDelayMs !== undefined ? { refillDelayMs } : {}) });
  return {
    pool,
    finishAll: async () => {
      for (const r of resolvers.splice(0)) r();
      await new Promise((r) => setImmediate(r));
    },
    reserve: () => inUse++,
    release: () => inUse--,
    get open() { return open; },
    get created() { return created; },
  };
}

describe('pre-warm pool', () => {
  it('keeps `target` pages ready and hands them over without creating', async () => {
    const h = harness(4, 2);
    h.pool.replenish();
    await h.finishAll();
    expect(h.pool.readyCount).to.equal(2);
    h.reserve();
    const warm = await h.pool.take();
    expect(warm.page).to.deep.equal({});
    expect(h.created).to.equal(2); // no page is created while the lease's page loads on this browser
    h.release();
    h.pool.replenish(); // the lease ended: its replacement now
    expect(h.created).to.equal(3);
    await h.finishAll();
    expect(h.pool.readyCount).to.equal(2);
  });

  it('creates the replacement of a taken page after refillDelayMs when the lease has not ended by then', async () => {
    const h = harness(4, 1, 30);
    h.pool.replenish();
    await h.finishAll();
    h.reserve();
    await h.pool.take();
    expect(h.created).to.equal(1);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(h.created).to.equal(2);
    await h.finishAll();
    expect(h.pool.readyCount).to.equal(1);
    h.pool.replenish(); // the long lease ends later: nothing more to make
    expect(h.created).to.equal(2);
  });

  it('never lets leases plus warm pages pass the cap', async () => {
    const h = harness(2, 2);
    h.pool.replenish();
    await h.finishAll();
    h.reserve();
    await h.pool.take();
    h.reserve();
    await h.pool.take();
    h.pool.replenish();
    await h.finishAll();
    expect(h.open).to.equal(2);
    expect(h.pool.readyCount).to.equal(0);
  });

  it('lets a take claim a creation already in flight instead of opening one more page', async () => {
    const h = harness(2, 1);
    h.pool.replenish(); // one creation in flight
    h.reserve();
    const taking = h.pool.take();
    await h.finishAll();
    await taking;
    expect(h.created).to.equal(1);
    expect(h.open).to.equal(1);
  });

  it('closes its ready pages when paused and makes none until resumed', async () => {
    const h = harness(4, 2);
    h.pool.replenish();
    await h.finishAll();
    await h.pool.pause();
    expect(h.open).to.equal(0);
    h.pool.replenish();
    expect(h.created).to.equal(2);
    h.pool.resume();
    await h.finishAll();
    expect(h.pool.readyCount).to.equal(2);
  });
});
