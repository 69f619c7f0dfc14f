import { expect } from 'chai';
import type { ServerConfig } from '#server/config.ts';
import type { BrowserPoolSettings } from '#server/browsers/create-router.ts';
import type { BrowserRouter } from '#server/browsers/router.ts';
import type { BrowserLeaser } from '#server/tools/services.ts';

describe('router contracts with the server', () => {
  it('BrowserRouter satisfies the BrowserLeaser the tools consume (checked by the type checker)', () => {
    const asLeaser = (router: BrowserRouter): BrowserLeaser => router;
    expect(asLeaser).to.be.a('function');
  });

  it('the server configuration’s browsers section is what startBrowserPool takes (checked by the type checker)', () => {
    const asSettings = (config: ServerConfig): BrowserPoolSettings => config.browsers;
    expect(asSettings).to.be.a('function');
  });
});
