import { expect } from 'chai';
import { withConnectionClose } from '#server/http/connection-close.ts';

describe('Connection: close over whatever headers a handler writes', () => {
  it('replaces a Connection header of any case in an object, keeping the rest', () => {
    expect(withConnectionClose({ 'Content-Type': 'text/event-stream', Connection: 'keep-alive', 'cache-control': 'no-cache' }))
      .to.deep.equal({ 'Content-Type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'close' });
    expect(withConnectionClose({})).to.deep.equal({ connection: 'close' });
  });

  it('replaces it in flat and nested header arrays', () => {
    expect(withConnectionClose(['content-type', 'application/json', 'CONNECTION', 'keep-alive'])).to.deep.equal(['content-type', 'application/json', 'connection', 'close']);
    expect(withConnectionClose([['connection', 'keep-alive'], ['x-a', '1']])).to.deep.equal([['x-a', '1'], ['connection', 'close']]);
  });
});
