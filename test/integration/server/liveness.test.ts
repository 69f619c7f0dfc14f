import path from 'node:path';
import { expect } from 'chai';
import { freshConnectionFetch } from './fresh-connection-fetch.ts';
import { REPO_ROOT, startServerProcess, type ServerProcess } from './server-harness.ts';

describe('server liveness: /healthz fails after the event loop was blocked', function () {
  this.timeout(60_000);
  let server: ServerProcess | undefined;

  after(async () => {
    await server?.stop();
  });

  it('a server process whose event loop was blocked longer than 5 s answers /healthz 503, naming the event loop', async () => {
    server = await startServerProcess({
      env: { NODE_OPTIONS: `--import=${path.join(REPO_ROOT, 'test/support/block-on-signal.ts')}`, BLOCK_ON_SIGNAL_MS: '6000' },
    });
    const before = await freshConnectionFetch(`${server.url.replace(/\/mcp$/, '')}/healthz`);
    expect(before.status).to.equal(200);
    server.proc.kill('SIGUSR2');
    await new Promise((r) => setTimeout(r, 300));
    // A fresh connection: a kept-alive one would be closed by the server's keep-alive timer firing late.
    const after = await freshConnectionFetch(`${server.url.replace(/\/mcp$/, '')}/healthz`, { signal: AbortSignal.timeout(15_000) });
    const body = (await after.json()) as { checks: Record<string, { ok: boolean; detail?: string }> };
    expect(after.status).to.equal(503);
    expect(body.checks['event-loop']).to.include({ ok: false });
    expect(body.checks['event-loop']?.detail).to.match(/event loop blocked for \d+ ms/);
  });
});
