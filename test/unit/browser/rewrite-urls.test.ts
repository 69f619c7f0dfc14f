import { expect } from 'chai';
import { isSafeAuthority, rewriteDevtoolsJson, rewriteDevtoolsUrl } from '#browser/gateway/rewrite-urls.ts';

describe('DevTools URL rewriting', () => {
  const up = '127.0.0.1:9223';

  it('points webSocketDebuggerUrl of /json/version at the host the client used', () => {
    const body = JSON.stringify({ Browser: 'HeadlessChrome/156', webSocketDebuggerUrl: 'ws://127.0.0.1:9223/devtools/browser/abc' });
    const out = JSON.parse(rewriteDevtoolsJson(body, up, 'browser-0.pool.svc:9222')) as Record<string, string>;
    expect(out['webSocketDebuggerUrl']).to.equal('ws://browser-0.pool.svc:9222/devtools/browser/abc');
    expect(out['Browser']).to.equal('HeadlessChrome/156');
  });

  it('rewrites every target of /json/list, including devtoolsFrontendUrl, and leaves other fields alone', () => {
    const body = JSON.stringify([
      { id: 'A', type: 'page', url: 'ws://127.0.0.1:9223/not-a-url-field', webSocketDebuggerUrl: 'ws://127.0.0.1:9223/devtools/page/A',
        devtoolsFrontendUrl: '/devtools/inspector.html?ws=127.0.0.1:9223/devtools/page/A' },
      { id: 'B', type: 'service_worker' },
    ]);
    const out = JSON.parse(rewriteDevtoolsJson(body, up, '10.0.0.5:9222')) as Array<Record<string, string>>;
    expect(out[0]?.['webSocketDebuggerUrl']).to.equal('ws://10.0.0.5:9222/devtools/page/A');
    expect(out[0]?.['devtoolsFrontendUrl']).to.equal('/devtools/inspector.html?ws=10.0.0.5:9222/devtools/page/A');
    expect(out[0]?.['url']).to.equal('ws://127.0.0.1:9223/not-a-url-field');
    expect(out[1]).to.deep.equal({ id: 'B', type: 'service_worker' });
  });

  it('uses wss when the client came over TLS and leaves other authorities untouched', () => {
    expect(rewriteDevtoolsUrl('ws://127.0.0.1:9223/devtools/browser/x', up, 'cdp.example.com', true)).to.equal('wss://cdp.example.com/devtools/browser/x');
    expect(rewriteDevtoolsUrl('ws://127.0.0.1:92230/devtools/browser/x', up, 'gw:1')).to.equal('ws://127.0.0.1:92230/devtools/browser/x');
  });

  it('returns bodies that are not JSON unchanged', () => {
    expect(rewriteDevtoolsJson('Host header is specified and is not an IP address or localhost.', up, 'gw:1'))
      .to.equal('Host header is specified and is not an IP address or localhost.');
  });

  it('accepts host names, IPv4 and bracketed IPv6 authorities, and refuses anything that could inject', () => {
    for (const ok of ['localhost:9222', '10.1.2.3:9222', 'browser-0.ns.svc.cluster.local', '[fd00::1]:9222']) expect(isSafeAuthority(ok), ok).to.equal(true);
    for (const bad of ['', 'a b', 'evil/x', 'host:9222/path', 'x"y', 'a\r\nSet-Cookie: x', 'user@host']) expect(isSafeAuthority(bad), bad).to.equal(false);
  });
});
