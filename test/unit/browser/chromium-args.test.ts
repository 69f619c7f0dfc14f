import { expect } from 'chai';
import { BASE_CHROMIUM_FLAGS, buildChromiumFlags, ChromiumFlagError, egressFlags, LOCKED_FLAGS, lockedFlagIn } from '#browser/launcher/chromium-args.ts';

describe('Chromium flags', () => {
  it('has the headless and quiet-network flags, every egress flag pointing at the proxy, and the renderer heap limit', () => {
    const flags = buildChromiumFlags({ proxyPort: 41234 });
    for (const flag of BASE_CHROMIUM_FLAGS) expect(flags).to.include(flag);
    // No scrollbars from the start: a full-page capture would otherwise hide them for good and change the layout.
    expect(BASE_CHROMIUM_FLAGS).to.include('--hide-scrollbars');
    expect(flags).to.include.members([
      '--proxy-server=http://127.0.0.1:41234',
      '--proxy-bypass-list=<-loopback>',
      '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1',
      '--force-webrtc-ip-handling-policy=disable_non_proxied_udp',
      '--disable-quic',
      '--js-flags=--max-old-space-size=512',
    ]);
    expect(flags.some((f) => f.startsWith('--remote-debugging'))).to.equal(false);
    expect(buildChromiumFlags({ proxyPort: 1, rendererHeapMb: 256 })).to.include('--js-flags=--max-old-space-size=256');
  });

  it('lets an extra flag replace a base flag of the same name, and drops empty ones', () => {
    const flags = buildChromiumFlags({ proxyPort: 1, extraArgs: ['--headless=new', '--lang=pt-BR', ''] });
    expect(flags.filter((a) => a.startsWith('--headless'))).to.deep.equal(['--headless=new']);
    expect(flags).to.include('--lang=pt-BR');
    expect(flags).to.not.include('');
  });

  it('refuses extra flags that would open a port or take traffic around the proxy, in either dash form and any case', () => {
    for (const bad of ['--remote-debugging-port=9222', '-remote-debugging-port=1', '--proxy-server=direct://', '--no-proxy-server', '--PROXY-BYPASS-LIST=*',
      '--host-resolver-rules=MAP * 1.2.3.4', '--force-webrtc-ip-handling-policy=default', '--enable-quic', '--js-flags=--max-old-space-size=99999',
      '--remote-allow-origins=*', '--user-data-dir=/x', '-proxy-pac-url=http://x/pac']) {
      expect(() => buildChromiumFlags({ proxyPort: 1, extraArgs: [bad] }), bad).to.throw(ChromiumFlagError, /may not be set as an extra argument/);
      expect(lockedFlagIn([bad]), bad).to.equal(bad);
    }
    expect(lockedFlagIn(['--lang=de', 'proxy-server'])).to.equal(undefined);
    expect(LOCKED_FLAGS).to.include('remote-debugging-pipe');
  });

  it('keeps Chromium\'s own sandbox only when asked: no --no-sandbox then, and refuses an extra --no-sandbox with it', () => {
    expect(buildChromiumFlags({ proxyPort: 1 })).to.include('--no-sandbox');
    const sandboxed = buildChromiumFlags({ proxyPort: 1, sandbox: true });
    expect(sandboxed).to.not.include('--no-sandbox');
    expect(sandboxed).to.include.members(['--headless', '--disable-gpu', '--proxy-server=http://127.0.0.1:1']);
    expect(() => buildChromiumFlags({ proxyPort: 1, sandbox: true, extraArgs: ['-no-sandbox'] })).to.throw(ChromiumFlagError, /contradicts the sandbox setting/);
  });

  it('refuses a bad proxy port or heap limit', () => {
    expect(() => egressFlags(0)).to.throw(RangeError, /1\.\.65535/);
    expect(() => egressFlags(70000)).to.throw(RangeError);
    expect(() => buildChromiumFlags({ proxyPort: 1, rendererHeapMb: 10 })).to.throw(RangeError, /≥ 64/);
  });
});
