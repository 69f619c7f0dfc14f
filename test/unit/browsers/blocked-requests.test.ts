import { expect } from 'chai';
import { PassThrough } from 'node:stream';
import { createLogger } from '#common/logger.ts';
import { BLOCKED_LOG_MESSAGE, BLOCKED_SUMMARY_MESSAGE, BlockedRequestLog, MAX_BLOCKED_LOG_LINES } from '#server/browsers/blocked-request-log.ts';
import { describeBlocked, isEgressRefusal, MAX_PATH_CHARS, MAX_RECORDED_BLOCKS, normaliseOrigins, recordBlocked, type BlockedRequestSink } from '#server/browsers/blocked-requests.ts';

describe('reporting requests the egress proxy refused', () => {
  it('normalises configured origins and rejects what is not an http(s) origin', () => {
    expect(normaliseOrigins(['https://Composer.Example.com/', 'http://127.0.0.1:8080'])).to.deep.equal(['https://composer.example.com', 'http://127.0.0.1:8080']);
    expect(() => normaliseOrigins(['composer'])).to.throw(/not a URL/);
    expect(() => normaliseOrigins(['ftp://x.example'])).to.throw(/http or https/);
  });

  it('reports origin and a truncated path, never the query, fragment or host labels a page chose', () => {
    const b = describeBlocked('https://c2VjcmV0LXRva2Vu.exfil.attacker.example:8443/steal/it?token=SECRET#frag', 'POST', 'fetch')!;
    expect(b).to.deep.equal({ url: 'https://*.attacker.example:8443/steal/it', origin: 'https://*.attacker.example:8443', path: '/steal/it', method: 'POST', resourceType: 'fetch' });
    const long = describeBlocked(`http://127.0.0.2:1/${'a'.repeat(200)}`, 'X'.repeat(100), 'image')!;
    expect(long.path.length).to.equal(MAX_PATH_CHARS);
    expect(long.path.endsWith('…')).to.equal(true);
    expect(long.method, 'a page may send any method token').to.have.length(16);
    expect(describeBlocked('not a url', 'GET', 'other')).to.equal(undefined);
  });

  it('records at most 50 refused requests of a lease and counts every one (a page in a loop makes thousands)', () => {
    const told: string[] = [];
    const sink: BlockedRequestSink = { allowedOrigins: [], blocked: [], blockedTotal: 0, onBlocked: (b) => told.push(b.path) };
    for (let i = 0; i < 400; i++) recordBlocked(sink, describeBlocked(`http://127.0.0.1:9/${'a'.repeat(100_000)}/${i}?q=${i}`, 'GET', 'image')!);
    expect(MAX_RECORDED_BLOCKS).to.equal(50);
    expect(sink.blocked).to.have.length(MAX_RECORDED_BLOCKS);
    expect(sink.blockedTotal).to.equal(400);
    expect(told, 'the listener hears every one (the log bounds itself)').to.have.length(400);
    for (const b of sink.blocked) expect(b.url.length).to.be.at.most(160);
  });

  it('logs one line per origin and type, at most 10, and a summary with the total', () => {
    const stream = new PassThrough();
    const lines: Record<string, unknown>[] = [];
    stream.on('data', (chunk: Buffer) => lines.push(...chunk.toString('utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>)));
    const log = new BlockedRequestLog(createLogger({ component: 'router', level: 'warn', format: 'json', stream }), { leaseId: 'lease-1' });
    for (let i = 0; i < 3; i++) log.record(describeBlocked(`http://127.0.0.1:9/same/${i}?token=SECRET`, 'GET', 'image')!);
    for (let i = 0; i < 30; i++) log.record(describeBlocked(`http://site${i}.example/x`, 'GET', 'fetch')!);
    log.close();
    const single = lines.filter((l) => l['message'] === BLOCKED_LOG_MESSAGE);
    expect(single).to.have.length(MAX_BLOCKED_LOG_LINES);
    expect(single[0]).to.include({ leaseId: 'lease-1', origin: 'http://127.0.0.1:9', method: 'GET', resourceType: 'image' });
    expect(JSON.stringify(lines), 'no path or query').to.not.match(/SECRET|\/same\/|\/x/);
    const summary = lines.filter((l) => l['message'] === BLOCKED_SUMMARY_MESSAGE);
    expect(summary).to.have.length(1);
    expect(summary[0]).to.include({ blocked: 33, loggedOneByOne: MAX_BLOCKED_LOG_LINES });
  });

  it('writes no summary when every refused request was logged one by one', () => {
    const stream = new PassThrough();
    const lines: string[] = [];
    stream.on('data', (chunk: Buffer) => lines.push(chunk.toString('utf8')));
    const log = new BlockedRequestLog(createLogger({ component: 'router', level: 'warn', format: 'json', stream }), {});
    log.record(describeBlocked('http://127.0.0.1:9/a', 'GET', 'image')!);
    log.close();
    expect(lines.join('')).to.include(BLOCKED_LOG_MESSAGE).and.not.include(BLOCKED_SUMMARY_MESSAGE);
  });

  it('takes a tunnel failure for a refusal unless the origin is one the pool admits', () => {
    const allowed = ['https://api.example.com'];
    expect(isEgressRefusal('net::ERR_TUNNEL_CONNECTION_FAILED', 'https://evil.example/x', allowed)).to.equal(true);
    expect(isEgressRefusal('net::ERR_TUNNEL_CONNECTION_FAILED', 'https://api.example.com/x', allowed)).to.equal(false);
    expect(isEgressRefusal('net::ERR_ABORTED', 'https://evil.example/x', allowed)).to.equal(false);
    expect(isEgressRefusal(undefined, 'https://evil.example/x', allowed)).to.equal(false);
  });
});

describe('a gateway\'s load report', () => {
  it('reads contexts, own contexts and the cap, and refuses what is not a report', async () => {
    const { parseLoadReport } = await import('#server/browsers/browser-connection.ts');
    expect(parseLoadReport({ contexts: 3, yours: 1, maxContexts: 4, leased: 2, warm: 1 })).to.deep.equal({ contexts: 3, yours: 1, maxContexts: 4 });
    expect(parseLoadReport({ contexts: 1, yours: 5, maxContexts: 4 })?.yours, 'never more of ours than there are').to.equal(1);
    for (const bad of [undefined, null, 'x', {}, { contexts: -1, yours: 0, maxContexts: 4 }, { contexts: 1, yours: 0, maxContexts: 0 }, { contexts: 1.5, yours: 0, maxContexts: 4 }]) {
      expect(parseLoadReport(bad), JSON.stringify(bad)).to.equal(undefined);
    }
  });
});
