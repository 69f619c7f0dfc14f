import { expect } from 'chai';
import { BrowserBusyError, BrowserFailedError, BrowserUnavailableError, LeaseDeadlineError } from '#server/browsers/errors.ts';
import { ComposerError } from '#server/composer/composer-error.ts';
import { browserWorkFailure } from '#server/composer/session/browser-work.ts';
import { ToolError, toolErrorResult } from '#server/tools/tool-definition.ts';
import { toolErrorFrom } from '#server/tools/tool-errors.ts';

/** The one place where errors of every layer become tool results (ADR 19). */
describe('tool errors from every layer', () => {
  it('keeps a domain error\'s code, message, fix, details and retry hint exactly', () => {
    const domain = new ComposerError('SAVE_OUTCOME_UNKNOWN', 'The upload was sent and no answer came.', 'Look in the Composer first.', { details: { idempotencyKey: 'k' }, retryAfterSeconds: 5 });
    const mapped = toolErrorFrom(domain);
    expect(mapped).to.be.instanceOf(ToolError);
    expect(mapped).to.include({ code: 'SAVE_OUTCOME_UNKNOWN', message: domain.message, fix: domain.fix, retryAfterSeconds: 5 });
    expect(mapped?.details).to.deep.equal({ idempotencyKey: 'k' });
    expect((toolErrorResult(mapped!).content[0] as { text: string }).text).to.equal('SAVE_OUTCOME_UNKNOWN: The upload was sent and no answer came.\nFix: Look in the Composer first.\nRetry after: 5 s');
    const own = new ToolError('INVALID_INPUT', 'bad', 'fix it');
    expect(toolErrorFrom(own)).to.equal(own);
  });

  it('gives the browser pool\'s errors their codes and fixes', () => {
    expect(toolErrorFrom(new BrowserBusyError('All 4 browsers are busy.', 7))).to.include({ code: 'BROWSER_BUSY', message: 'All 4 browsers are busy.', fix: 'Every browser is busy; call again in about 7 s.', retryAfterSeconds: 7 });
    expect(toolErrorFrom(new BrowserUnavailableError('No browser.'))).to.include({ code: 'BROWSER_FAILED', fix: 'No healthy browser is available; check the browser pool (composer_status shows it) and try again.' });
    expect(toolErrorFrom(new BrowserFailedError('b-1', 'work', 'disconnected'))).to.include({ code: 'BROWSER_FAILED', fix: 'The browser died during the call; call the tool again (another browser will take it).' });
    const deadline = toolErrorFrom(new LeaseDeadlineError('b-1', 60_000));
    expect(deadline).to.include({ code: 'UPSTREAM_TIMEOUT', message: 'The browser work passed its deadline of 60000 ms and was stopped: its page was closed and its browser slot freed.' });
    expect(deadline?.details).to.deep.equal({ deadlineMs: 60_000 });
  });

  it('leaves anything else to the caller (INTERNAL), and the domain leaves the pool\'s errors alone even when they quote a crash', () => {
    expect(toolErrorFrom(new Error('a bug'))).to.equal(undefined);
    expect(toolErrorFrom('thrown text')).to.equal(undefined);
    const pool = new BrowserFailedError('b-1', 'work', 'Target crashed');
    expect(browserWorkFailure(pool)).to.equal(undefined);
    expect(toolErrorFrom(pool)?.fix).to.equal('The browser died during the call; call the tool again (another browser will take it).');
    // Playwright's own crash, cancellation and timeout errors are the browser work's failures, in the domain's terms.
    expect(browserWorkFailure(new Error('page.screenshot: Target crashed'))).to.include({ code: 'BROWSER_FAILED' });
    expect(browserWorkFailure(Object.assign(new Error('aborted'), { name: 'AbortError' }))).to.include({ code: 'CANCELLED', message: 'The call was cancelled before the composition was opened.' });
    expect(browserWorkFailure(Object.assign(new Error('page.goto: Timeout 100ms exceeded.\nCall log:'), { name: 'TimeoutError' }))).to.include({ code: 'UPSTREAM_TIMEOUT', message: 'The browser work timed out: page.goto: Timeout 100ms exceeded.' });
  });
});
