import { expect } from 'chai';
import { decideEventLoopLiveness, EventLoopWatch } from '#common/event-loop-watch.ts';

describe('event loop liveness', () => {
  it('fails only for a block longer than the limit that ended within the window, and says how long', () => {
    const blocks = [{ endedAt: 1000, durationMs: 6000 }, { endedAt: 40_000, durationMs: 300 }];
    expect(decideEventLoopLiveness(blocks, 20_000, 30_000, 5000)).to.deep.include({ ok: false });
    expect(decideEventLoopLiveness(blocks, 20_000, 30_000, 5000).detail).to.equal('event loop blocked for 6000 ms within the last 30 s (limit 5000 ms)');
    expect(decideEventLoopLiveness(blocks, 40_000, 30_000, 5000).ok, 'the long block left the window').to.equal(true);
    expect(decideEventLoopLiveness([], 0, 30_000, 5000).ok).to.equal(true);
  });

  it('records a gap between ticks as a block, and forgets it after the window', () => {
    let now = 0;
    // Not started: each check() stands for a tick at `now`.
    const watch = new EventLoopWatch({ intervalMs: 100, windowMs: 1000, maxBlockMs: 500, now: () => now });
    now = 100;
    expect(watch.check().ok).to.equal(true);
    now = 800; // 700 ms without a tick: the loop was blocked
    expect(watch.check()).to.deep.include({ ok: false });
    for (now = 900; now <= 1800; now += 100) watch.check();
    expect(watch.check().ok, 'the block left the window').to.equal(true);
  });

  it('measures a busy-waiting event loop with the real clock', async () => {
    const watch = new EventLoopWatch({ intervalMs: 20, windowMs: 10_000, maxBlockMs: 200 }).start();
    try {
      await new Promise((r) => setTimeout(r, 60));
      const until = performance.now() + 300;
      while (performance.now() < until) {
        // block the loop
      }
      await new Promise((r) => setTimeout(r, 30));
      const result = watch.check();
      expect(result.ok).to.equal(false);
      expect(result.detail).to.match(/event loop blocked for (\d+) ms/);
    } finally {
      watch.stop();
    }
  });
});
