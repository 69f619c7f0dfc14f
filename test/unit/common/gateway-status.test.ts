import { expect } from 'chai';
import { parseGatewayLoad } from '#common/gateway-status.ts';

describe('parseGatewayLoad (a gateway /status body)', () => {
  it('reads leased sessions apart from warm pages, with leases served and memory', () => {
    expect(parseGatewayLoad({ leased: 2, warm: 3, pages: 5, contexts: 5, leasesServed: 40, rssBytes: 1e9, browserVersion: 'x' }))
      .to.deep.equal({ leased: 2, warm: 3, pages: 5, contexts: 5, leasesServed: 40, rssBytes: 1e9 });
  });

  it('falls back to pages for a gateway that does not report leased', () => {
    expect(parseGatewayLoad({ pages: 4 })).to.deep.equal({ leased: 4, pages: 4 });
  });

  it('refuses bodies that name no load, and drops hostile values', () => {
    expect(parseGatewayLoad(null)).to.equal(undefined);
    expect(parseGatewayLoad('7')).to.equal(undefined);
    expect(parseGatewayLoad({ leased: -1 })).to.equal(undefined);
    expect(parseGatewayLoad({ leased: 'many', pages: Number.NaN })).to.equal(undefined);
    expect(parseGatewayLoad({ leased: 1, rssBytes: Infinity, leasesServed: '9' })).to.deep.equal({ leased: 1 });
  });
});
