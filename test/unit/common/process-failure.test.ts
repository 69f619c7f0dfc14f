import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import { expect } from 'chai';
import { HealthRegistry } from '#common/health.ts';
import { createLogger } from '#common/logger.ts';
import { EXIT_UNCAUGHT_EXCEPTION, ProcessFailurePolicy } from '#common/process-failure.ts';
import { GracefulShutdown, InFlightTracker } from '#common/shutdown.ts';

function recordingLogger() {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (c: Buffer) => (text += c.toString()));
  const lines = () => text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
  return { logger: createLogger({ component: 'test', format: 'json', stream, level: 'debug' }), lines };
}

/** The decisions of the process failure policy, with an event emitter standing in for `process` (the real process: test/integration/process). */
describe('process failure policy', () => {
  it('an uncaught exception fails readiness, drains the work in flight through the shutdown, and exits 70', async () => {
    const { logger, lines } = recordingLogger();
    const events = new EventEmitter();
    const codes: number[] = [];
    const shutdown = new GracefulShutdown({ graceMs: 1_000, logger, exit: (c) => codes.push(c) });
    const health = new HealthRegistry();
    health.addCheck('always', () => ({ ok: true }));
    const inFlight = new InFlightTracker();
    const end = inFlight.begin();
    const order: string[] = [];
    shutdown.onShutdown('finish in-flight work', async () => {
      order.push(`draining ${inFlight.count}`);
      await inFlight.idle(500);
      order.push('drained');
    });
    const policy = new ProcessFailurePolicy({ logger, events, exit: (c) => codes.push(-c) }).install();
    policy.drainWith(shutdown, health);
    events.emit('uncaughtException', new TypeError('state half-updated'), 'uncaughtException');
    expect((await health.ready()).status).to.equal('fail');
    expect((await health.ready()).checks['process']?.detail).to.match(/uncaught exception \(TypeError\)/);
    setTimeout(() => {
      order.push('work done');
      end();
    }, 20);
    // A second one while draining is logged, and neither restarts nor shortens the drain.
    events.emit('uncaughtException', new Error('again'), 'uncaughtException');
    await shutdown.shutdown('test');
    expect(order).to.deep.equal(['draining 1', 'work done', 'drained']);
    expect(codes).to.deep.equal([EXIT_UNCAUGHT_EXCEPTION]);
    expect(lines().filter((l) => String(l['message']).startsWith('Uncaught exception:')).map((l) => (l['error'] as { message: string }).message)).to.deep.equal(['state half-updated']);
    expect(lines().filter((l) => l['message'] === 'Uncaught exception while draining after an earlier one')).to.have.length(1);
    expect(policy.uncaughtExceptions).to.equal(2);
    policy.uninstall();
    expect(events.listenerCount('uncaughtException')).to.equal(0);
  });

  it('keeps the higher exit code when a signal started the shutdown first', async () => {
    const { logger } = recordingLogger();
    const codes: number[] = [];
    const shutdown = new GracefulShutdown({ graceMs: 1_000, logger, exit: (c) => codes.push(c) });
    let release = (): void => undefined;
    shutdown.onShutdown('slow', () => new Promise<void>((resolve) => { release = resolve; }));
    const events = new EventEmitter();
    new ProcessFailurePolicy({ logger, events }).install().drainWith(shutdown);
    const running = shutdown.shutdown('SIGTERM');
    events.emit('uncaughtException', new Error('during the drain'), 'uncaughtException');
    release();
    await running;
    expect(codes).to.deep.equal([EXIT_UNCAUGHT_EXCEPTION]);
  });

  it('exits 70 at once while the process is starting (nothing to drain), and logs an unhandled rejection without exiting', () => {
    const { logger, lines } = recordingLogger();
    const events = new EventEmitter();
    const codes: number[] = [];
    new ProcessFailurePolicy({ logger, events, exit: (c) => codes.push(c) }).install();
    events.emit('unhandledRejection', new Error('nobody awaited this'));
    expect(codes).to.deep.equal([]);
    expect(lines().find((l) => l['message'] === 'Unhandled promise rejection')?.['error']).to.include({ message: 'nobody awaited this' });
    events.emit('uncaughtException', 'a thrown string', 'uncaughtException');
    expect(codes).to.deep.equal([EXIT_UNCAUGHT_EXCEPTION]);
    expect(lines().find((l) => String(l['message']).startsWith('Uncaught exception'))).to.include({ error: 'a thrown string', draining: false, exitCode: 70 });
  });
});
