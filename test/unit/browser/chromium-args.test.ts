import { expect } from 'chai';
import { BASE_CHROMIUM_FLAGS, buildChromiumArgs, parseDevToolsActivePort } from '#browser/launcher/chromium-args.ts';

describe('Chromium arguments', () => {
  it('has the headless, sandbox and quiet-network flags, the port and the profile dir', () => {
    const args = buildChromiumArgs({ port: 9223, userDataDir: '/x/profile' });
    for (const flag of ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-quic']) expect(args).to.include(flag);
    expect(args).to.include('--remote-debugging-port=9223');
    expect(args).to.include('--user-data-dir=/x/profile');
    expect(args.length).to.equal(BASE_CHROMIUM_FLAGS.length + 2);
  });

  it('lets an extra flag replace the base flag of the same name', () => {
    const args = buildChromiumArgs({ port: 0, userDataDir: '/p', extraArgs: ['--headless=new', '--lang=pt-BR', ''] });
    expect(args.filter((a) => a.startsWith('--headless'))).to.deep.equal(['--headless=new']);
    expect(args).to.include('--lang=pt-BR');
    expect(args).to.not.include('');
  });

  it('refuses a port outside 0..65535', () => {
    expect(() => buildChromiumArgs({ port: 70000, userDataDir: '/p' })).to.throw(RangeError, /0\.\.65535/);
    expect(() => buildChromiumArgs({ port: 1.5, userDataDir: '/p' })).to.throw(RangeError);
  });

  it('reads the port Chromium reports in DevToolsActivePort', () => {
    expect(parseDevToolsActivePort('46019\n/devtools/browser/abc')).to.equal(46019);
    expect(parseDevToolsActivePort('')).to.equal(undefined);
    expect(parseDevToolsActivePort('0\n')).to.equal(undefined);
    expect(parseDevToolsActivePort('abc')).to.equal(undefined);
  });
});
