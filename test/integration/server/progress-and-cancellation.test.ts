import { expect } from 'chai';
import { startComposerStandin, type ComposerStandin } from '#support/composer-standin/standin.ts';
import { connectEraHttp, type ClientKind, type EraClient } from './era-clients.ts';
import { SAMPLE_OUTLINE, startServerProcess, type ServerProcess } from './server-harness.ts';

const TOKEN = 'progress-token-standin-0007';

interface Pool {
  sessionsInUse: number;
}

/**
 * Long browser work on both protocol eras: a call of composer_open_composition whose composition read the stand-in
 * holds for 8 s keeps its browser lease while the page waits. The client asks for progress, then goes away — by
 * cancelling (a 2026-07-28 client closes the request's stream; a 2025 client posts notifications/cancelled) or by
 * closing — and the lease must be free within a second.
 */
describe('progress and cancellation of long browser work, on both protocol eras (real server, local browser, stand-in)', function () {
  this.timeout(120_000);
  let standin: ComposerStandin;
  let server: ServerProcess;
  let observer: EraClient;
  let uid: string;

  const pool = async (): Promise<Pool & { healthy: number }> => ((await observer.callTool('composer_status', {})).structuredContent as { browsers: Pool & { healthy: number } }).browsers;

  async function waitForPool(what: string, ok: (p: Pool & { healthy: number }) => boolean, timeoutMs: number): Promise<number> {
    const started = Date.now();
    for (;;) {
      if (ok(await pool())) return Date.now();
      if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  before(async () => {
    standin = await startComposerStandin({ tokens: [TOKEN] });
    server = await startServerProcess({
      env: {
        COMPOSER_MCP_COMPOSER__COMPOSER_URL: standin.appUrl,
        COMPOSER_MCP_COMPOSER__API_URL: standin.apiUrl,
        COMPOSER_MCP_COMPOSER__ACCESS_TOKEN: TOKEN,
        COMPOSER_MCP_COMPOSER__PROJECT_KEY: 'project-key-1',
        COMPOSER_MCP_COMPOSER__CONNECTOR_UID: 'connector-1',
        COMPOSER_MCP_BROWSERS__SOURCE: 'local',
        COMPOSER_MCP_BROWSERS__LOCAL__COUNT: '1',
        // The observer polls composer_status every 25 ms.
        COMPOSER_MCP_RATE_LIMIT__MAX_REQUESTS: '100000',
      },
    });
    observer = await connectEraHttp('v2-2026', server.url);
    await waitForPool('a healthy browser', (p) => p.healthy === 1, 30_000);
    const built = await observer.callTool('composer_build_composition', { ...SAMPLE_OUTLINE, title: 'Progresso' });
    const saved = await observer.callTool('composer_save_composition', { composition: (built.structuredContent as { composition: unknown }).composition });
    uid = (saved.structuredContent as { uid: string }).uid;
  });

  after(async () => {
    await observer?.close();
    await server?.stop();
    await standin?.stop();
  });

  afterEach(() => standin.resetFaults());

  const cases: Array<{ kind: ClientKind; how: 'cancel' | 'close'; means: string }> = [
    { kind: 'v2-2026', how: 'cancel', means: 'closes the request stream' },
    { kind: 'v1', how: 'cancel', means: 'posts notifications/cancelled' },
    { kind: 'v2-2026', how: 'close', means: 'closes the client' },
    { kind: 'v1', how: 'close', means: 'closes the client' },
  ];
  for (const { kind, how, means } of cases) {
    it(`${kind} (${kind === 'v1' ? '2025-11-25' : '2026-07-28'}): gets progress, then ${means}, and the lease is free within a second`, async () => {
      const client = await connectEraHttp(kind, server.url);
      const progress: string[] = [];
      standin.setFaults({ latencyMs: { read: 8000 } });
      const controller = new AbortController();
      const call = client.callTool('composer_open_composition', { uid }, { signal: controller.signal, timeout: 60_000, onprogress: (p) => progress.push(p.message ?? '') }).then(
        () => 'answered',
        () => 'rejected',
      );
      try {
        await waitForPool('the call to hold a lease', (p) => p.sessionsInUse === 1, 15_000);
        const deadline = Date.now() + 10_000;
        while (!progress.some((m) => m.startsWith('Opening')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
        expect(progress, 'progress notifications on this era').to.include('Waiting for a browser').and.satisfy((all: string[]) => all.some((m) => m.startsWith('Opening')));
        const goneAt = Date.now();
        if (how === 'cancel') controller.abort(new Error('the user pressed stop'));
        else await client.close();
        const freedAt = await waitForPool('the lease to be freed', (p) => p.sessionsInUse === 0, 5_000);
        console.log(`      lease free ${freedAt - goneAt} ms after the client went away (${kind}, ${how})`);
        expect(freedAt - goneAt, 'ms from the client going away to a free lease').to.be.below(1000);
        expect(await call).to.equal('rejected');
        const audit = server.logs().filter((l) => l['message'] === 'Tool call completed' && l['tool'] === 'composer_open_composition').at(-1);
        expect(audit).to.include({ outcome: 'CANCELLED', protocol: kind === 'v1' ? 'legacy' : 'modern' });
      } finally {
        if (how === 'cancel') await client.close();
      }
    });
  }
});
