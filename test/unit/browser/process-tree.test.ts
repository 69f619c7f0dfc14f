import { expect } from 'chai';
import { parseVmRssBytes, processTypeOf } from '#browser/launcher/process-tree.ts';

describe('reading Chromium\'s processes from /proc', () => {
  it('finds the process type in NUL-separated and in rewritten (space-separated) command lines', () => {
    expect(processTypeOf('/usr/lib/chromium/chromium-headless-shell\0--headless\0--remote-debugging-pipe\0')).to.equal('browser');
    expect(processTypeOf('/usr/lib/chromium/chromium-headless-shell --type=renderer --headless=old --no-sandbox')).to.equal('renderer');
    expect(processTypeOf('/usr/lib/chromium/chromium-headless-shell\0--type=zygote\0--no-sandbox\0')).to.equal('zygote');
  });

  it('reads VmRSS in bytes', () => {
    expect(parseVmRssBytes('Name:\tchromium\nVmRSS:\t   12345 kB\nRssAnon:\t 1 kB\n')).to.equal(12345 * 1024);
    expect(parseVmRssBytes('Name:\tkthreadd\n')).to.equal(0);
  });
});
