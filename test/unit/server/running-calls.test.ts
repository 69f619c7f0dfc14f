import { expect } from 'chai';
import { RunningCalls } from '#server/mcp/running-calls.ts';

describe('running calls (cancellation across stateless requests)', () => {
  it('cancels the call of that caller and request id, and only that one', () => {
    const calls = new RunningCalls();
    const mine = calls.start('alice', 7);
    const same = calls.start('alice', 8);
    const other = calls.start('bob', 7);
    expect(calls.cancel('alice', 7, 'user stopped')).to.equal('cancelled');
    expect(mine.signal.aborted).to.equal(true);
    expect((mine.signal.reason as Error).message).to.include('user stopped');
    expect(same.signal.aborted).to.equal(false);
    expect(other.signal.aborted, "a caller cannot cancel another caller's call").to.equal(false);
  });

  it('keeps numeric and string request ids apart, and forgets ended calls', () => {
    const calls = new RunningCalls();
    const numeric = calls.start('c', 1);
    expect(calls.cancel('c', '1', 'x')).to.equal('unknown');
    numeric.end();
    expect(calls.size).to.equal(0);
    expect(calls.cancel('c', 1, 'x')).to.equal('unknown');
    expect(numeric.signal.aborted).to.equal(false);
  });

  it('cancels nothing when the key is ambiguous (anonymous callers reusing a request id)', () => {
    const calls = new RunningCalls();
    const a = calls.start('anonymous', 1);
    const b = calls.start('anonymous', 1);
    expect(calls.cancel('anonymous', 1, 'x')).to.equal('ambiguous');
    expect(a.signal.aborted || b.signal.aborted).to.equal(false);
    a.end();
    expect(calls.cancel('anonymous', 1, 'x')).to.equal('cancelled');
    expect(b.signal.aborted).to.equal(true);
  });
});
