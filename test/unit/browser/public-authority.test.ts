import { expect } from 'chai';
import { isSafeAuthority } from '#browser/gateway/public-authority.ts';

describe('the Host a gateway echoes into webSocketDebuggerUrl', () => {
  it('accepts host names, IPv4 and bracketed IPv6 authorities, and refuses anything that could inject', () => {
    for (const ok of ['localhost:9222', '10.1.2.3:9222', 'browser-0.ns.svc.cluster.local', '[fd00::1]:9222']) expect(isSafeAuthority(ok), ok).to.equal(true);
    for (const bad of ['', 'a b', 'evil/x', 'host:9222/path', 'x"y', 'a\r\nSet-Cookie: x', 'user@host']) expect(isSafeAuthority(bad), bad).to.equal(false);
  });
});
