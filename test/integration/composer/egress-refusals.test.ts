import { expect } from 'chai';
import { HttpStorageClient } from '#server/composer/storage-client.ts';
import { resolvePageSettings } from '#server/composer/session/page-settings.ts';
import { visitComposition } from '#server/composer/session/visit-composition.ts';
import { ComposerError } from '#server/composer/composer-error.ts';
import { openCompositionTool } from '#server/tools/open-composition.ts';
import type { ComposerServices, ComposerSettings } from '#server/tools/services.ts';
import type { ToolDefinition } from '#server/tools/tool-definition.ts';
import type { ComposerStandin } from '#support/composer-standin/standin.ts';
import { callTool, composerServices, errorOf, everyWidgetComposition, type OneLocalBrowser, startOneLocalBrowser, startStandinWithSettings } from './composer-fixtures.ts';

const SECRET = 'egress-refusal-secret-0123456789abcdef';
const READY_TIMEOUT_MS = 10_000;
const open = openCompositionTool as unknown as ToolDefinition<ComposerServices>;

/**
 * A browser pool whose egress allowlist (the gateway's proxy) disagrees with the server's Composer settings: the
 * refusal is reported as what it is, NAVIGATION_BLOCKED naming the origin and the setting to fix, at once — not as a
 * token the Composer refused, a platform failure, or a timeout.
 */
describe('a browser pool that may not reach an origin the Composer needs', function () {
  this.timeout(90_000);
  let standin: ComposerStandin;
  let settings: ComposerSettings;
  let uid: string;
  const pools: OneLocalBrowser[] = [];

  /** A router over one local browser whose proxy admits only `allowed`. */
  const pool = async (allowed: string[]) => {
    const browser = await startOneLocalBrowser(allowed, { allowedOrigins: [standin.appUrl, standin.apiUrl] });
    pools.push(browser);
    return browser.router;
  };

  before(async () => {
    const started = await startStandinWithSettings({ jwtSecret: SECRET });
    standin = started.standin;
    settings = { ...started.settings, page: { readyTimeoutMs: READY_TIMEOUT_MS } } as ComposerSettings;
    uid = (await new HttpStorageClient(settings).upload(everyWidgetComposition('Bloqueada'))).uid;
  });
  after(async () => {
    for (const browser of pools) await browser.stop();
    await standin?.stop();
  });

  it('the Composer app\'s own origin refused: NAVIGATION_BLOCKED naming it, as soon as the page is refused', async () => {
    const router = await pool([standin.apiUrl]);
    const started = Date.now();
    const { result } = await callTool(open, { uid }, composerServices({ settings, browsers: router }));
    const error = errorOf(result);
    expect(error?.code, JSON.stringify(result.content)).to.equal('NAVIGATION_BLOCKED');
    expect(error?.message).to.contain(`the Composer app at ${standin.appUrl}`).and.contain('refused');
    expect(error?.fix).to.contain(`Add ${standin.appUrl} to the browser pool's allowed origins`).and.contain('COMPOSER_MCP_COMPOSER__COMPOSER_URL');
    expect(Date.now() - started, 'not after the ready timeout').to.be.below(READY_TIMEOUT_MS / 2);
  });

  it('the API\'s origin refused: the brokered open still works (the server makes the calls), a page calling it itself gets NAVIGATION_BLOCKED, not UNAUTHORIZED', async () => {
    const router = await pool([standin.appUrl]);
    const { result } = await callTool(open, { uid }, composerServices({ settings, browsers: router }));
    expect(errorOf(result), JSON.stringify(result.content)).to.equal(undefined);
    expect((result.structuredContent as { ready: boolean }).ready).to.equal(true);
    // Without the broker (a page calling the API through the browsers' proxy), the proxy's 403 is no token refusal.
    const failure = await router.withLease((lease) => visitComposition(lease, { settings, page: resolvePageSettings({ readyTimeoutMs: READY_TIMEOUT_MS }), uid, view: 'editor' })).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).to.be.instanceOf(ComposerError);
    expect((failure as ComposerError).code, (failure as Error).message).to.equal('NAVIGATION_BLOCKED');
    expect((failure as ComposerError).message).to.contain(`sign-in check at ${standin.apiUrl}`);
    expect((failure as ComposerError).fix).to.contain('COMPOSER_MCP_COMPOSER__API_URL');
  });
});
