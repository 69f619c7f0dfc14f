import { expect } from 'chai';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { standinServerEnv } from '#support/composer-standin/server-env.ts';
import { startComposerStandin, type ComposerStandin } from '#support/composer-standin/standin.ts';
import { everyWidgetComposition } from '#support/fixtures/every-widget-composition.ts';
import { canaryLeaks, makeCanaries, type Canaries } from '#support/hostile/canaries.ts';
import { connectHttp, startServerProcess, type ServerProcess } from '../server/server-harness.ts';

const JWT_SECRET = 'red-team-floods-secret-0123456789abcdef';

/** Page scripts (run as an app XSS hole would run them) that attack the server through what it collects from a page. */
const FLOODS = {
  /** One 8 MB console message and one 8 MB uncaught error. */
  hugeMessages: "const big = 'x'.repeat(8000000); console.error(big); setTimeout(() => { throw new Error(big); }, 0);",
  /** console.error in a loop for 15 s, 2 KB a message. */
  consoleLoop: "const t = Date.now(); while (Date.now() - t < 15000) console.error('spam ' + 'y'.repeat(2000) + Math.random());",
  /** The same loop in a dedicated worker. */
  workerConsoleLoop: "new Worker(URL.createObjectURL(new Blob([\"const t = Date.now(); while (Date.now() - t < 15000) console.error('spam ' + 'y'.repeat(2000) + Math.random());\"])));",
  /**
   * 400 requests outside the allowed origins, each with a 100 KB URL. (Not to port 9 any more: Chromium refuses its
   * "unsafe" ports itself, before the gateway's egress proxy, so those never reach what reports refusals.)
   */
  /**
   * 10 000 HEAD requests to the app's own (allowed) origin, 200 at a time (6 000 at once would fail in Chromium and
   * log each failure to the console), each answered: no console output, only the request counter sees them.
   */
  requestLoop: "(async () => { for (let b = 0; b < 50; b++) await Promise.all(Array.from({ length: 200 }, (_, i) => fetch(location.origin + '/?flood=' + b + '-' + i, { method: 'HEAD', cache: 'no-store' }).catch(() => undefined))); })();",
  /** Four 6 MB console messages: 24 M characters in 4 events, far below the event limit. */
  textFlood: "const big = 'z'.repeat(6000000); for (let i = 0; i < 4; i++) console.log(big + i);",
  /** Four uncaught errors with 6 MB messages. */
  errorTextFlood: "const big = 'e'.repeat(6000000); for (let i = 0; i < 4; i++) setTimeout(() => { throw new Error(big + i); }, 0);",
  blockedRequests: "for (let i = 0; i < 400; i++) { const img = new Image(); img.src = 'http://exfil.attacker.example/' + 'a'.repeat(100000) + '/' + i + '?q=' + i; }",
} as const;

/**
 * Red team, through the real server process: a page that floods what the server collects from it (console
 * messages, uncaught errors, blocked requests) must cost the server a bounded report, a bounded number of log
 * lines, and never the process.
 */
describe('red team: a page that floods the server with what it collects', function () {
  this.timeout(120_000);
  let standin: ComposerStandin;
  let canaries: Canaries;
  let server: ServerProcess;
  let client: Client;
  let uid: string;

  before(async () => {
    standin = await startComposerStandin({ jwtSecret: JWT_SECRET });
    canaries = await makeCanaries(JWT_SECRET);
    server = await startServerProcess({
      env: {
        ...standinServerEnv(standin, { accessToken: canaries.token, projectKey: canaries.projectKey }),
        COMPOSER_MCP_BROWSERS__SOURCE: 'local',
        COMPOSER_MCP_BROWSERS__LOCAL__COUNT: '1',
        // Room for the request flood on a loaded machine (10-19 s at load 7): the lesson of that test renders at 50 s.
        COMPOSER_MCP_BROWSERS__LEASE_DEADLINE_MS: '60000',
        COMPOSER_MCP_COMPOSER__PAGE__READY_TIMEOUT_MS: '55000',
      },
    });
    client = await connectHttp(server.url);
    const saved = (await client.callTool({ name: 'composer_save_composition', arguments: { composition: everyWidgetComposition('Enchente') } })) as CallToolResult;
    uid = (saved.structuredContent as { uid: string }).uid;
  });
  afterEach(() => {
    standin.setAppScript(undefined);
    standin.resetFaults();
  });
  after(async () => {
    await client?.close();
    await server?.stop();
    await standin?.stop();
  });

  const open = async () => (await client.callTool({ name: 'composer_open_composition', arguments: { uid } })) as CallToolResult;

  const assertServerWhole = async () => {
    expect(server.proc.exitCode, `the server process is still running; stderr tail:\n${server.stderr().slice(-2000)}`).to.equal(null);
    expect((await fetch(new URL('/healthz', server.url))).status).to.equal(200);
    standin.setAppScript(undefined);
    const next = await open();
    expect(next.isError, JSON.stringify(next.content).slice(0, 300)).to.not.equal(true);
  };

  it('an 8 MB console message and an 8 MB uncaught error are reported cut down (before: the console handler threw and killed the process)', async () => {
    standin.setAppScript(FLOODS.hugeMessages);
    const result = await open();
    expect(result.isError, JSON.stringify(result.content).slice(0, 300)).to.not.equal(true);
    const report = result.structuredContent as { consoleErrors: string[]; pageErrors: string[] };
    for (const text of [...report.consoleErrors, ...report.pageErrors]) expect(text.length).to.be.at.most(300);
    expect(report.consoleErrors.some((t) => t.startsWith('xxxxxxxx') || t.includes('chars]'))).to.equal(true);
    await assertServerWhole();
  });

  it('400 blocked requests with 100 KB URLs: at most 50 reported, at most 10 log lines plus one summary with the total', async () => {
    standin.setAppScript(FLOODS.blockedRequests);
    const logsBefore = server.logs().length;
    const result = await open();
    expect(result.isError, JSON.stringify(result.content).slice(0, 300)).to.not.equal(true);
    const report = result.structuredContent as { blockedNavigations: { url: string }[] };
    expect(report.blockedNavigations.length).to.be.within(1, 50);
    for (const blocked of report.blockedNavigations) expect(blocked.url.length).to.be.at.most(160);
    expect(JSON.stringify(result).length, 'the whole result').to.be.below(200_000);
    const lines = server.logs().slice(logsBefore);
    expect(lines.filter((l) => l['message'] === 'Browser egress refused a request of the lease').length).to.be.within(1, 10);
    // The gateway's egress proxy refuses these below the page, over Chromium's few proxy connections (each 100 KB
    // request line ends its connection), so the lease may end, closing the page, before all 400 were made; the
    // summary counts every one that was refused (exactly: test/unit/browsers/blocked-requests.test.ts).
    const summary = lines.find((l) => l['message'] === 'Browser egress refused more requests of the lease than were logged one by one');
    const total = summary?.['blocked'] as number | undefined;
    expect(total, 'the summary counts every blocked request').to.be.a('number');
    // (The report is a snapshot taken when the page was captured; the total is counted until the lease ends.)
    expect(total!).to.be.above(summary!['loggedOneByOne'] as number).and.at.least(report.blockedNavigations.length);
    expect(server.stderr().length, 'log bytes').to.be.below(2_000_000);
    expect(canaryLeaks(server.stderr(), canaries)).to.deep.equal([]);
    await assertServerWhole();
  });

  it('requestLoop: a page that only makes requests to its allowed origin is closed past 5 000 with BROWSER_FAILED and a fix', async () => {
    standin.setAppScript(FLOODS.requestLoop);
    standin.setFaults({ render: { delayMs: 50_000 } }); // the lesson renders after the flood, as a spinning page's would
    const started = Date.now();
    const result = await open();
    expect(result.isError, JSON.stringify(result.content).slice(0, 300)).to.equal(true);
    const text = JSON.stringify(result.content);
    expect(text).to.contain('BROWSER_FAILED').and.contain('more than 5000 console messages, uncaught errors and requests').and.contain('Fix:');
    expect(Date.now() - started, 'closed before the lesson would have rendered').to.be.below(50_000);
    standin.resetFaults();
    await assertServerWhole();
  });

  for (const [flood, what] of [['textFlood', 'four 6 MB console messages'], ['errorTextFlood', 'four uncaught errors of 6 MB']] as const) {
    it(`${flood}: ${what} pass the 20 000 000-character limit and the page is closed with BROWSER_FAILED and a fix`, async () => {
      standin.setAppScript(FLOODS[flood]);
      const result = await open();
      expect(result.isError, JSON.stringify(result.content).slice(0, 300)).to.equal(true);
      const text = JSON.stringify(result.content);
      expect(text).to.contain('BROWSER_FAILED').and.contain('more than 20000000 characters of console text and error messages').and.contain('Fix:');
      expect(text.length, 'the error is short: none of the text comes back').to.be.below(2_000);
      await assertServerWhole();
    });
  }

  for (const flood of ['consoleLoop', 'workerConsoleLoop'] as const) {
    it(`${flood}: the page is closed past 5 000 messages with BROWSER_FAILED and a fix (before: the server grew by about 1 GB and the browser failed its health check)`, async () => {
      standin.setAppScript(FLOODS[flood]);
      // The lesson renders 2 s after its read, so the flood passes the limit first: a call that is over before the
      // page has sent 5 000 messages has nothing to close (the worker's flood raced a call that now takes ~200 ms).
      standin.setFaults({ render: { delayMs: 2_000 } });
      const started = Date.now();
      const result = await open().finally(() => standin.resetFaults());
      expect(result.isError).to.equal(true);
      const text = JSON.stringify(result.content);
      expect(text).to.contain('BROWSER_FAILED').and.contain('more than 5000').and.contain('Fix:');
      expect(Date.now() - started, 'answered long before the loop would end').to.be.below(12_000);
      const status = (await client.callTool({ name: 'composer_status', arguments: {} })) as CallToolResult;
      expect((status.structuredContent as { browsers: { healthy: number } }).browsers.healthy, 'the browser is still healthy').to.equal(1);
      await assertServerWhole();
    });
  }
});
