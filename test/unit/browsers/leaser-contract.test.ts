import { expect } from 'chai';
import type { BrowserRouter } from '#server/browsers/router.ts';
import type { BrowserLeaser } from '#server/tools/services.ts';

describe('router contract with the tools', () => {
  it('BrowserRouter satisfies the BrowserLeaser the tools consume (checked by the type checker)', () => {
    const asLeaser = (router: BrowserRouter): BrowserLeaser => router;
    expect(asLeaser).to.be.a('function');
  });
});
