import { expect } from 'chai';
import type { CallToolResult } from '@modelcontextprotocol/server';
import type { BrowserRouter } from '#server/browsers/router.ts';
import { openCompositionTool } from '#server/tools/open-composition.ts';
import type { BrowserLeaser, ComposerServices, ComposerSettings } from '#server/tools/services.ts';
import type { ToolDefinition } from '#server/tools/tool-definition.ts';
import type { ComposerStandin } from '#support/composer-standin/standin.ts';
import { canaryLeaks, makeCanaries, type Canaries } from '#support/hostile/canaries.ts';
import { recordRequests, startLocalHttpServer, type LocalHttpServer } from '#support/local-http-server.ts';
import { callTool, composerServices, errorOf, type StandinWithLocalBrowsers, startStandinWithLocalBrowsers } from '../composer/composer-fixtures.ts';

const JWT_SECRET = 'red-team-content-secret-0123456789abcdef';
const open = openCompositionTool as unknown as ToolDefinition<ComposerServices>;

/** A stored composition "by someone else" with the given head-1 and text-1 fields (no validator ever saw it). */
function stored(head: Record<string, unknown>, text: Record<string, unknown>): string {
  return JSON.stringify({
    version: '1.1',
    metadata: { title: 'Conteúdo hostil', description: '', thumb: null, tags: [] },
    interface: { content_language: 'pt_br', index_option: 'buttons', font_family: 'Lato', show_summary: 'disabled', finish_btn: 'disabled' },
    structure: [
      { id: 'h1', type: 'head-1', category: '<p>Ciências</p>', author_name: '<p>Ana</p>', primary_color: '#FFFFFF', secondary_color: '#aa2c23', ...head },
      { id: 't1', type: 'text-1', content: '<p>Texto</p>', ...text },
    ],
    assets: [],
  });
}

/**
 * Red team: composition content that attacks the page without script — CSS in a field the app puts into a style
 * attribute, script URLs in URL fields, document-level elements in HTML fields — opened with the real browser,
 * the broker and the stand-in app.
 */
describe('red team: content that attacks the page without script', function () {
  this.timeout(90_000);
  let standin: ComposerStandin;
  let canaries: Canaries;
  let started: StandinWithLocalBrowsers | undefined;
  let router: BrowserRouter;
  let listener: LocalHttpServer | undefined;
  let listenerUrl: string;
  const listenerHits: string[] = [];
  let settings: ComposerSettings;
  const dialogs: string[] = [];

  before(async () => {
    canaries = await makeCanaries(JWT_SECRET);
    started = await startStandinWithLocalBrowsers({ jwtSecret: JWT_SECRET, credentials: { accessToken: canaries.token, projectKey: canaries.projectKey }, leasesAllowOnlyStandinOrigins: true });
    ({ standin, router, settings } = started);
    listener = await startLocalHttpServer(recordRequests(listenerHits));
    listenerUrl = listener.url;
  });
  after(async () => {
    await started?.stop();
    listener?.close();
  });

  /** A leaser that records dialogs and where the page ended up. */
  const watching = (where: string[]): BrowserLeaser => ({
    stats: () => router.stats(),
    withLease: (work, options) => router.withLease(async (lease) => {
      lease.page.on('dialog', (dialog) => {
        dialogs.push(dialog.message());
        dialog.dismiss().catch(() => undefined);
      });
      try {
        return await work(lease);
      } finally {
        where.push(lease.page.url());
      }
    }, options),
  });

  const openStored = async (content: string) => {
    const uid = standin.storeRaw(content);
    const where: string[] = [];
    const { result } = await callTool(open, { uid }, composerServices({ settings, browsers: watching(where) }));
    return { uid, result, where };
  };

  const assertNothingRan = (result: CallToolResult) => {
    expect(errorOf(result), JSON.stringify(result.content).slice(0, 300)).to.equal(undefined);
    expect(dialogs, 'dialogs').to.deep.equal([]);
    expect(listenerHits, 'the listener on another port').to.deep.equal([]);
    expect((result.structuredContent as { refusedApiCalls: unknown[] }).refusedApiCalls, 'no script made API calls').to.deep.equal([]);
    expect(canaryLeaks(JSON.stringify(result), canaries)).to.deep.equal([]);
  };

  it('held by the allowlist: CSS injected through a color field the app writes into a style attribute requests nothing outside', async () => {
    const css = `red; background-image: url(${listenerUrl}/css-exfil); position: fixed; inset: 0; z-index: 99`;
    const { result } = await openStored(stored({ secondary_color: css, primary_color: `#fff; background: url(${listenerUrl}/css-2)` }, {}));
    assertNothingRan(result);
    // The request was made and aborted below the page: reported by origin and path only.
    const blocked = (result.structuredContent as { blockedNavigations: { url: string }[] }).blockedNavigations.map((b) => b.url);
    expect(blocked.every((url) => !url.includes('?'))).to.equal(true);
  });

  it('held: script URLs in URL fields and document-level elements in HTML fields are removed before the app sees them', async () => {
    const { result, where } = await openStored(stored(
      { background_image: 'javascript:alert(1)', avatar: 'data:text/html,<script>alert(2)</script>' },
      { content: `<meta http-equiv="refresh" content="0;url=${listenerUrl}/meta"><base href="${listenerUrl}/"><p>Texto</p><a href="javascript:alert(3)">x</a><img src="relative.png">`, image: 'JaVaScRiPt:alert(4)' },
    ));
    assertNothingRan(result);
    expect(where.at(-1)?.startsWith(standin.appUrl), 'the page stayed on the app').to.equal(true);
    const fields = (result.structuredContent as { sanitizedFields: string[] }).sanitizedFields;
    expect(fields).to.include.members(['$.structure[0].background_image', '$.structure[0].avatar', '$.structure[1].content', '$.structure[1].image']);
  });
});
