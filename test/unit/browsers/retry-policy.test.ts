import { expect } from 'chai';
import { BrowserBusyError, BrowserFailedError } from '#server/browsers/errors.ts';
import { shouldRetryLease } from '#server/browsers/retry-policy.ts';

describe('lease retry decision', () => {
  const during = new BrowserFailedError('b-1', 'work', 'disconnected');
  const before = new BrowserFailedError('b-1', 'setup', 'could not open a page');

  it('retries idempotent work once after the browser failed during it', () => {
    expect(shouldRetryLease({ error: during, idempotent: true, attempt: 1 })).to.equal(true);
    expect(shouldRetryLease({ error: during, idempotent: true, attempt: 2 })).to.equal(false);
  });

  it('never reruns non-idempotent work that had started', () => {
    expect(shouldRetryLease({ error: during, idempotent: false, attempt: 1 })).to.equal(false);
  });

  it('retries any work when the browser failed before it started', () => {
    expect(shouldRetryLease({ error: before, idempotent: false, attempt: 1 })).to.equal(true);
  });

  it('does not retry errors of the work itself or of capacity', () => {
    expect(shouldRetryLease({ error: new Error('selector not found'), idempotent: true, attempt: 1 })).to.equal(false);
    expect(shouldRetryLease({ error: new BrowserBusyError('busy', 3), idempotent: true, attempt: 1 })).to.equal(false);
  });

  it('honours a larger attempt budget', () => {
    expect(shouldRetryLease({ error: during, idempotent: true, attempt: 2, maxAttempts: 3 })).to.equal(true);
  });
});
