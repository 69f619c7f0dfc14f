import { expect } from 'chai';
import { BrowserRouter } from '#server/browsers/router.ts';
import { StaticEndpointSource } from '#server/browsers/static-source.ts';
import { HttpStorageClient } from '#server/composer/storage-client.ts';
import { openCompositionTool } from '#server/tools/open-composition.ts';
import { previewCompositionTool } from '#server/tools/preview-composition.ts';
import type { ComposerServices, ComposerSettings } from '#server/tools/services.ts';
import type { ToolDefinition } from '#server/tools/tool-definition.ts';
import type { ComposerStandin } from '#support/composer-standin/standin.ts';
import { callTool, composerServices, errorOf, everyWidgetComposition, quietLogger, startStandinWithLocalBrowsers, type StandinWithLocalBrowsers } from './composer-fixtures.ts';

const SECRET = 'broker-prefetch-secret-0123456789abcdef';
const SIGN_IN_LATENCY_MS = 700;
const open = openCompositionTool as unknown as ToolDefinition<ComposerServices>;
const preview = previewCompositionTool as unknown as ToolDefinition<ComposerServices>;

/**
 * The broker makes a lease's sign-in check and read upstream while its page loads, with the headers the previous
 * page on the browser sent: a real page's calls match them, so the read no longer waits for the sign-in check's
 * answer to reach the page and the page to ask. The platform sees the same calls, with the real credentials.
 */
describe('the sign-in check and the read are made while the page loads (real Chromium, the broker, the stand-in)', function () {
  this.timeout(90_000);
  let standin: ComposerStandin;
  let router: BrowserRouter;
  let settings: ComposerSettings;
  let started: StandinWithLocalBrowsers | undefined;

  before(async () => {
    started = await startStandinWithLocalBrowsers({ jwtSecret: SECRET, leasesAllowOnlyStandinOrigins: true });
    ({ standin, router, settings } = started);
  });
  after(() => started?.stop());

  /** The platform calls of one open: its sign-in check and its read, as the stand-in received them. */
  const callsOf = async (tool: ToolDefinition<ComposerServices>, uid: string, on: BrowserRouter = router) => {
    const before = standin.apiRequests().length;
    const { result } = await callTool(tool, { uid }, composerServices({ settings, browsers: on }));
    expect(errorOf(result), JSON.stringify(result.content).slice(0, 300)).to.equal(undefined);
    expect((result.structuredContent as { ready: boolean }).ready).to.equal(true);
    const calls = standin.apiRequests().slice(before);
    const me = calls.filter((c) => c.path === '/auth/v1.0/user/me');
    const read = calls.filter((c) => c.path === '/storage/v1.0/content');
    expect(me, 'one sign-in check').to.have.length(1);
    expect(read, 'one read').to.have.length(1);
    expect([...me, ...read].every((c) => c.bearer === settings.accessToken && c.origin === standin.appUrl)).to.equal(true);
    return { me: me[0]!, read: read[0]! };
  };

  it('the first page shows its headers; from the next open on, the read reaches the platform before the sign-in check has answered', async () => {
    const { uid } = await new HttpStorageClient(settings).upload(everyWidgetComposition('Antecipada'));
    standin.setFaults({ latencyMs: { me: SIGN_IN_LATENCY_MS } });
    try {
      const first = await callsOf(open, uid);
      expect(first.read.at - first.me.at, 'the page asked for the read after the sign-in answer').to.be.at.least(SIGN_IN_LATENCY_MS);
      for (const tool of [open, preview]) {
        const next = await callsOf(tool, uid);
        expect(next.read.at - next.me.at, `${tool.name}: the read was made while the sign-in check was pending`).to.be.below(SIGN_IN_LATENCY_MS - 200);
      }
    } finally {
      standin.resetFaults();
    }
  });

  it('a browser connection this server has not used yet prefetches too, with the headers learned on another', async () => {
    const { uid } = await new HttpStorageClient(settings).upload(everyWidgetComposition('Outra conexão'));
    await callsOf(open, uid); // the headers are known (learned on the first router's browser connection)
    // A second connection of this process to a browser (as after a reconnect, or another browser of the pool): its own broker.
    const [endpoint] = started!.source.current();
    const other = new BrowserRouter({ source: new StaticEndpointSource({ endpoints: [endpoint!.url], token: endpoint!.token }), logger: quietLogger(), prewarmPerBrowser: 0, allowedOrigins: [standin.appUrl, standin.apiUrl] });
    await other.start();
    standin.setFaults({ latencyMs: { me: SIGN_IN_LATENCY_MS } });
    try {
      const first = await callsOf(open, uid, other);
      expect(first.read.at - first.me.at, 'its first read was made while the sign-in check was pending').to.be.below(SIGN_IN_LATENCY_MS - 200);
    } finally {
      standin.resetFaults();
      await other.stop();
    }
  });
});
