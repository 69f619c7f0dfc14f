import { PassThrough } from 'node:stream';
import { expect } from 'chai';
import { createLogger } from '#common/logger.ts';
import { GracefulShutdown, InFlightTracker } from '#common/shutdown.ts';

const logger = createLogger({ component: 'test', format: 'json', stream: new PassThrough() });

describe('graceful shutdown', () => {
  it('stops taking work, waits for in-flight work, then exits 0', async () => {
    const inFlight = new InFlightTracker();
    const order: string[] = [];
    let exitCode: number | undefined;
    const shutdown = new GracefulShutdown({ graceMs: 1000, logger, exit: (c) => { exitCode = c; } });
    shutdown.onShutdown('stop-accepting', () => { order.push('stop'); });
    shutdown.onShutdown('drain', async () => { order.push(`drain:${inFlight.count}`); expect(await inFlight.idle(500)).to.equal(true); order.push('drained'); });
    const end = inFlight.begin();
    setTimeout(() => { order.push('work-done'); end(); }, 30);
    await shutdown.shutdown('SIGTERM');
    expect(order).to.deep.equal(['stop', 'drain:1', 'work-done', 'drained']);
    expect(exitCode).to.equal(0);
    expect(shutdown.isShuttingDown()).to.equal(true);
    expect(shutdown.signal.aborted).to.equal(true);
  });

  it('exits 1 when the steps outlast the deadline', async () => {
    let exitCode: number | undefined;
    const shutdown = new GracefulShutdown({ graceMs: 40, logger, exit: (c) => { exitCode = c; } });
    shutdown.onShutdown('slow', () => new Promise((r) => setTimeout(r, 500)));
    const started = Date.now();
    await shutdown.shutdown('SIGTERM');
    expect(exitCode).to.equal(1);
    expect(Date.now() - started).to.be.lessThan(400);
  });

  it('runs once even when asked twice, and a failing step still lets the rest run', async () => {
    const calls: string[] = [];
    const codes: number[] = [];
    const shutdown = new GracefulShutdown({ graceMs: 500, logger, exit: (c) => { codes.push(c); } });
    shutdown.onShutdown('fails', () => { calls.push('a'); throw new Error('x'); });
    shutdown.onShutdown('after', () => { calls.push('b'); });
    await Promise.all([shutdown.shutdown('one'), shutdown.shutdown('two')]);
    expect(calls).to.deep.equal(['a', 'b']);
    expect(codes).to.deep.equal([1]);
  });

  it('reports idle false when work does not finish in time', async () => {
    const inFlight = new InFlightTracker();
    const end = inFlight.begin();
    expect(await inFlight.idle(20)).to.equal(false);
    end(); end();
    expect(inFlight.count).to.equal(0);
    expect(await inFlight.idle(20)).to.equal(true);
  });

  it('reports quiet only once nothing has been in flight for the quiet period, new work starting it again', async () => {
    const inFlight = new InFlightTracker();
    expect(await inFlight.quiet(50, 10), 'never used: quiet at once').to.equal(true);
    const end = inFlight.begin();
    const started = Date.now();
    setTimeout(end, 30);
    // Late work arrives after the first ends: the quiet period starts again from its end.
    setTimeout(() => { const late = inFlight.begin(); setTimeout(late, 20); }, 60);
    expect(await inFlight.quiet(60, 1000)).to.equal(true);
    expect(Date.now() - started, 'quiet from the end of the late work (80 ms) + 60 ms').to.be.at.least(135);
  });

  it('reports quiet false when work keeps arriving or runs past the timeout', async () => {
    const inFlight = new InFlightTracker();
    const end = inFlight.begin();
    expect(await inFlight.quiet(10, 40), 'work still running').to.equal(false);
    end();
    const timer = setInterval(() => inFlight.begin()(), 10);
    try {
      expect(await inFlight.quiet(50, 120), 'a new piece of work every 10 ms').to.equal(false);
    } finally {
      clearInterval(timer);
    }
  });
});
