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
});
