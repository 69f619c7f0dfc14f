import { expect } from 'chai';
import { peekRouting, rewriteFrame } from '#browser/cdp/cdp-frame.ts';
import { parseClientMessage } from '#browser/cdp/cdp-multiplexer.ts';
import { checkCommand, REFUSED_METHODS } from '#browser/cdp/method-policy.ts';
import { NulFrameReader } from '#browser/cdp/pipe-transport.ts';

describe('CDP framing and routing fields', () => {
  it('splits NUL-terminated frames across chunk boundaries', () => {
    const frames: string[] = [];
    const reader = new NulFrameReader({ maxFrameBytes: 1000, onFrame: (f) => frames.push(f.toString()), onOversized: () => expect.fail('oversized') });
    reader.push(Buffer.from('{"a":1}\0{"b"'));
    reader.push(Buffer.from(':2}'));
    reader.push(Buffer.from('\0\0{"c":3}\0'));
    expect(frames).to.deep.equal(['{"a":1}', '{"b":2}', '{"c":3}']);
  });

  it('drops a frame above the limit and reports its head, tail and length, then carries on', () => {
    const frames: string[] = [];
    const over: Array<[string, string, number]> = [];
    const reader = new NulFrameReader({ maxFrameBytes: 100, onFrame: (f) => frames.push(f.toString()), onOversized: (h, t, n) => over.push([h.toString(), t.toString(), n]) });
    const big = `{"id":42,"result":{"data":"${'x'.repeat(500)}"},"sessionId":"ABC"}`;
    reader.push(Buffer.from(big.slice(0, 60)));
    reader.push(Buffer.from(big.slice(60, 300)));
    reader.push(Buffer.from(`${big.slice(300)}\0{"ok":1}\0`));
    expect(frames).to.deep.equal(['{"ok":1}']);
    expect(over).to.have.length(1);
    expect(over[0]![0].startsWith('{"id":42,')).to.equal(true);
    expect(over[0]![1].endsWith('"sessionId":"ABC"}')).to.equal(true);
    expect(over[0]![2]).to.equal(big.length);
  });

  it('reads id, method and a top-level sessionId from head and tail, and rewrites them', () => {
    const answer = `{"id":17,"result":{"data":"${'y'.repeat(100)}"},"sessionId":"ROOT1"}`;
    const r = peekRouting(answer)!;
    expect(r).to.include({ kind: 'answer', id: 17, sessionId: 'ROOT1' });
    expect(JSON.parse(rewriteFrame(answer, r, 3, undefined))).to.deep.equal({ id: 3, result: { data: 'y'.repeat(100) } });
    expect(JSON.parse(rewriteFrame(answer, r, 3, 'ROOT1'))).to.deep.equal({ id: 3, result: { data: 'y'.repeat(100) }, sessionId: 'ROOT1' });
    const event = '{"method":"Page.screencastFrame","params":{"data":"zz"},"sessionId":"C1"}';
    const e = peekRouting(event)!;
    expect(e).to.include({ kind: 'event', method: 'Page.screencastFrame', sessionId: 'C1' });
    expect(JSON.parse(rewriteFrame(event, e, undefined, undefined))).to.deep.equal({ method: 'Page.screencastFrame', params: { data: 'zz' } });
  });

  it('does not take a nested sessionId for the top-level one', () => {
    const nested = '{"id":1,"result":{"x":{"sessionId":"NOPE"}}}';
    expect(peekRouting(nested)?.sessionId).to.equal(undefined);
    expect(JSON.parse(rewriteFrame(nested, peekRouting(nested)!, 9, undefined))).to.deep.equal({ id: 9, result: { x: { sessionId: 'NOPE' } } });
    expect(peekRouting('{"result":1,"id":2}')).to.equal(undefined);
  });

  it('validates client messages and says what is wrong', () => {
    expect(parseClientMessage('{"id":1,"method":"Browser.getVersion"}')).to.deep.equal({ message: { id: 1, method: 'Browser.getVersion' } });
    expect(parseClientMessage('{"id":2,"method":"X.y","params":{"a":1},"sessionId":"S"}')).to.deep.equal({ message: { id: 2, method: 'X.y', params: { a: 1 }, sessionId: 'S' } });
    const cases: Array<[string, number, number | undefined]> = [
      ['not json', -32700, undefined], ['[1]', -32600, undefined], ['{"method":"A.b"}', -32600, undefined], ['{"id":-1,"method":"A.b"}', -32600, undefined],
      ['{"id":1.5,"method":"A.b"}', -32600, undefined], ['{"id":"1","method":"A.b"}', -32600, undefined], ['{"id":3}', -32600, 3],
      ['{"id":3,"method":""}', -32600, 3], ['{"id":4,"method":"A.b","params":[1]}', -32602, 4], ['{"id":5,"method":"A.b","sessionId":7}', -32600, 5],
      [`{"id":6,"method":"${'M'.repeat(300)}"}`, -32600, 6],
    ];
    for (const [text, code, id] of cases) {
      const r = parseClientMessage(text);
      expect('error' in r, text).to.equal(true);
      if ('error' in r) {
        expect(r.error.code, text).to.equal(code);
        expect(r.id, text).to.equal(id);
      }
    }
  });

  it('refuses commands that would end the browser, open a port, bypass the egress proxy or hand CDP to page script', () => {
    for (const method of ['Browser.close', 'Browser.crash', 'Browser.crashGpuProcess', 'Target.setRemoteLocations', 'Target.exposeDevToolsProtocol', 'Tethering.bind']) {
      expect(checkCommand(method, {}), method).to.match(/refused by the gateway/);
      expect(REFUSED_METHODS.has(method)).to.equal(true);
    }
    expect(checkCommand('Target.createBrowserContext', { proxyServer: 'http://evil:8080' })).to.match(/proxyServer.*egress proxy/);
    expect(checkCommand('Target.createBrowserContext', { proxyBypassList: '*' })).to.match(/proxyBypassList/);
    expect(checkCommand('Target.createBrowserContext', { disposeOnDetach: true })).to.equal(undefined);
    expect(checkCommand('Page.navigate', { url: 'https://x' })).to.equal(undefined);
    expect(checkCommand('Fetch.enable', {})).to.equal(undefined);
  });
});
