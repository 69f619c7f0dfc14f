import { PassThrough } from 'node:stream';
import { expect } from 'chai';
import { trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { createLogger } from '#common/logger.ts';
import { withLogContext } from '#common/log-context.ts';
import { SecretRedactor, REDACTED } from '#common/redaction.ts';
import { startTelemetry } from '#common/telemetry.ts';

function capture(format: 'json' | 'pretty' = 'json') {
  const stream = new PassThrough();
  const chunks: string[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c.toString()));
  const redactor = new SecretRedactor();
  const logger = createLogger({ component: 'test', format, stream, redactor, level: 'debug' });
  const lines = async () => {
    await new Promise((r) => setImmediate(r));
    return chunks.join('').split('\n').filter(Boolean);
  };
  return { logger, redactor, lines };
}

describe('logger', () => {
  it('writes one JSON object per line with component, level, message and fields', async () => {
    const { logger, lines } = capture();
    logger.info('Created browser pod', { namespace: 'ns', name: 'p-1' });
    const [line] = await lines();
    const record = JSON.parse(line!);
    expect(record).to.include({ component: 'test', level: 'info', message: 'Created browser pod', namespace: 'ns', name: 'p-1' });
    expect(record.timestamp).to.be.a('string');
  });

  it('never writes a registered secret value, wherever it appears', async () => {
    const { logger, redactor, lines } = capture();
    const canary = 'canary-SECRET-7f3a9c';
    redactor.add(canary);
    logger.info(`Message with ${canary} inside`, { note: `x ${canary} y`, nested: { deep: [canary] }, err: new Error(`failed with ${canary}`) });
    logger.error('Failed', new Error(`boom ${canary}`));
    const all = (await lines()).join('\n');
    expect(all).not.to.include(canary);
    expect(all).to.include(REDACTED);
  });

  it('redacts values under secret-looking keys and bearer tokens in strings', async () => {
    const { logger, lines } = capture();
    logger.info('Called API', { accessToken: 'abcdefghijkl', headers: { Authorization: 'Bearer xyz.abc.def123456' }, projectKey: 'pk-1234567', url: 'see Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig' });
    const record = JSON.parse((await lines())[0]!);
    expect(record.accessToken).to.equal(REDACTED);
    expect(record.headers.Authorization).to.equal(REDACTED);
    expect(record.projectKey).to.equal(REDACTED);
    expect(record.url).to.equal(`see Bearer ${REDACTED}`);
  });

  it('carries correlation fields from the async context into every line, including across awaits', async () => {
    const { logger, lines } = capture();
    await withLogContext({ sessionId: 's-1' }, async () => {
      await new Promise((r) => setTimeout(r, 5));
      await withLogContext({ reconcileId: 'r-9' }, async () => logger.info('Reconciled'));
    });
    logger.info('Outside');
    const [inside, outside] = (await lines()).map((l) => JSON.parse(l));
    expect(inside).to.include({ sessionId: 's-1', reconcileId: 'r-9' });
    expect(outside).not.to.have.property('sessionId');
  });

  it('adds the active trace and span ids', async () => {
    const exporter = new InMemorySpanExporter();
    const telemetry = startTelemetry({ serviceName: 't', serviceVersion: '0', spanProcessors: [new SimpleSpanProcessor({ exporter })] });
    try {
      const { logger, lines } = capture();
      let traceId = '';
      trace.getTracer('t').startActiveSpan('work', (span) => {
        traceId = span.spanContext().traceId;
        logger.info('Inside span');
        span.end();
      });
      const record = JSON.parse((await lines())[0]!);
      expect(record.traceId).to.equal(traceId).and.to.match(/^[0-9a-f]{32}$/);
    } finally {
      await telemetry.shutdown();
    }
  });

  it('writes readable lines in pretty mode', async () => {
    const { logger, lines } = capture('pretty');
    logger.warn('Marked browser draining', { name: 'b-1' });
    const [line] = await lines();
    expect(line).to.match(/\[test\] Marked browser draining \{"name":"b-1"\}/);
  });
});
