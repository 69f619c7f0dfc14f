import { PassThrough } from 'node:stream';
import { expect } from 'chai';
import { createLogger } from '#common/logger.ts';
import { LogThrottle } from '#browser/gateway/log-throttle.ts';

function capture() {
  const stream = new PassThrough();
  const lines: Array<Record<string, unknown>> = [];
  stream.on('data', (chunk: Buffer) => { for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l)); });
  return { logger: createLogger({ component: 't', format: 'json', stream }), lines: async () => { await new Promise((r) => setImmediate(r)); return lines; } };
}

describe('gateway log throttle', () => {
  it('logs the first occurrence at once, then one line per interval carrying how many were suppressed', async () => {
    const { logger, lines } = capture();
    let now = 0;
    const throttle = new LogThrottle(logger, { intervalMs: 1000, now: () => now });
    for (let i = 0; i < 50; i++) { throttle.warn('upstream', 'Failed to proxy DevTools request', { i }); now += 10; }
    expect((await lines()).map((l) => l['i'])).to.deep.equal([0]);
    now = 1000;
    throttle.warn('upstream', 'Failed to proxy DevTools request', { i: 50 });
    const logged = await lines();
    expect(logged).to.have.length(2);
    expect(logged[1]).to.include({ i: 50, suppressed: 49, level: 'warn' });
  });

  it('throttles each key on its own', async () => {
    const { logger, lines } = capture();
    const throttle = new LogThrottle(logger, { intervalMs: 60_000, now: () => 5 });
    throttle.warn('auth:http:missing', 'Refused request without a valid bearer token', {});
    throttle.warn('auth:http:missing', 'Refused request without a valid bearer token', {});
    throttle.warn('auth:http:invalid', 'Refused request without a valid bearer token', {});
    expect(await lines()).to.have.length(2);
  });
});
