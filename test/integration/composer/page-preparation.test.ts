import { expect } from 'chai';
import { HttpStorageClient } from '#server/composer/storage-client.ts';
import { SharedAssetCache } from '#server/composer/session/asset-cache.ts';
import { pagePreparer, takePreparedSession } from '#server/composer/session/page-preparation.ts';
import { openCompositionTool } from '#server/tools/open-composition.ts';
import type { ComposerServices, ComposerSettings } from '#server/tools/services.ts';
import type { ToolDefinition } from '#server/tools/tool-definition.ts';
import type { ComposerStandin } from '#support/composer-standin/standin.ts';
import { callTool, composerServices, errorOf, everyWidgetComposition, startOneLocalBrowser, startStandinWithSettings } from './composer-fixtures.ts';

const SECRET = 'page-preparation-secret-0123456789abcdef';
const open = openCompositionTool as unknown as ToolDefinition<ComposerServices>;

/**
 * The pool prepares each page for the Composer when it makes it (the call's CDP session, the readiness probe, the
 * asset cache), so a lease starts with a page ready to navigate; a page that could not be prepared is prepared by
 * its lease.
 */
describe('pages prepared ahead of their lease (real Chromium, the router\'s preparePage hook)', function () {
  this.timeout(90_000);
  let standin: ComposerStandin;
  let settings: ComposerSettings;
  const stops: Array<() => Promise<void>> = [];

  const routerWith = async (preparePage: (context: import('playwright-core').BrowserContext, page: import('playwright-core').Page) => Promise<void>) => {
    const origins = [standin.appUrl, standin.apiUrl];
    const browser = await startOneLocalBrowser(origins, { allowedOrigins: origins, preparePage });
    stops.push(browser.stop);
    return browser.router;
  };

  before(async () => {
    ({ standin, settings } = await startStandinWithSettings({ jwtSecret: SECRET }));
  });
  after(async () => {
    for (const stop of stops) await stop();
    await standin?.stop();
  });

  it('hands over a page whose session already has the probe and the asset cache, taken once, and opens the lesson with it', async () => {
    const cache = new SharedAssetCache({ maxBytes: 1_000_000 });
    const router = await routerWith(pagePreparer({ composerUrl: standin.appUrl, apiUrl: standin.apiUrl, assetCache: cache }));
    await router.withLease(async (lease) => {
      const session = await takePreparedSession(lease.page);
      expect(session, 'prepared before the lease').to.not.equal(undefined);
      expect(await takePreparedSession(lease.page), 'taken once').to.equal(undefined);
      await lease.page.goto(`${standin.appUrl}/#/home`);
      const world = await session!.world();
      const probe = (await session!.cdp.send('Runtime.evaluate', { expression: 'typeof globalThis.__composerMcpReadiness', contextId: world, returnByValue: true })) as { result: { value: string } };
      expect(probe.result.value, 'the probe ran at the document\'s start').to.equal('object');
      expect(cache.stores, 'the app\'s script went through the shared cache').to.equal(1);
      session!.detach();
    });
    const { uid } = await new HttpStorageClient(settings).upload(everyWidgetComposition('Preparada'));
    const { result } = await callTool(open, { uid }, composerServices({ settings, browsers: router }));
    expect(errorOf(result), JSON.stringify(result.content).slice(0, 300)).to.equal(undefined);
    expect((result.structuredContent as { ready: boolean }).ready).to.equal(true);
    expect(cache.hits, 'the next page got the script from the cache').to.be.at.least(1);
  });

  it('still hands over the page when preparing it failed, and the lease prepares it itself', async () => {
    let calls = 0;
    const router = await routerWith(async () => {
      calls++;
      throw new Error('preparation failed');
    });
    const { uid } = await new HttpStorageClient(settings).upload(everyWidgetComposition('Sem preparo'));
    const { result } = await callTool(open, { uid }, composerServices({ settings, browsers: router }));
    expect(errorOf(result), JSON.stringify(result.content).slice(0, 300)).to.equal(undefined);
    expect((result.structuredContent as { ready: boolean }).ready).to.equal(true);
    expect(calls, 'the hook ran for the page').to.be.at.least(1);
  });
});
