import { expect } from 'chai';
import { ApiException } from '@kubernetes/client-node';
import {
  KubeStatusError,
  describeKubeError,
  isAlreadyExists,
  isConflict,
  isGone,
  isNotFound,
  kubeErrorInfo,
} from '#kube/runtime/kube-errors.ts';
import { FakeClock } from '#support/fake-clock.ts';

describe('kube-errors', () => {
  it('reads code, reason and the server message from an ApiException whose body is a JSON string', () => {
    const err = new ApiException(409, 'Unsuccessful HTTP Request', JSON.stringify({
      kind: 'Status', status: 'Failure', code: 409, reason: 'Conflict',
      message: 'Operation cannot be fulfilled on leases "x": the object has been modified',
    }), {});
    expect(kubeErrorInfo(err)).to.deep.equal({
      code: 409,
      reason: 'Conflict',
      message: 'Operation cannot be fulfilled on leases "x": the object has been modified',
    });
    expect(isConflict(err)).to.equal(true);
    expect(isAlreadyExists(err)).to.equal(false);
    expect(describeKubeError(err)).to.equal('409 Conflict: Operation cannot be fulfilled on leases "x": the object has been modified');
  });

  it('tells not-found, already-exists and gone apart, including watch Status events and watch HTTP errors', () => {
    expect(isNotFound(new ApiException(404, 'x', '{"code":404,"reason":"NotFound"}', {}))).to.equal(true);
    expect(isAlreadyExists(new ApiException(409, 'x', '{"code":409,"reason":"AlreadyExists"}', {}))).to.equal(true);
    const expired = new KubeStatusError({ kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version: 1 (217)' });
    expect(isGone(expired)).to.equal(true);
    expect(expired.message).to.match(/too old resource version/);
    expect(isGone(Object.assign(new Error('Gone'), { statusCode: 410 }))).to.equal(true);
    expect(isGone(new ApiException(500, 'x', 'not json', {}))).to.equal(false);
  });

  it('describes network errors without a code and never throws on odd input', () => {
    expect(kubeErrorInfo(new TypeError('fetch failed'))).to.deep.equal({ message: 'fetch failed' });
    expect(kubeErrorInfo('plain string')).to.deep.equal({ message: 'plain string' });
    expect(kubeErrorInfo(undefined)).to.deep.equal({ message: 'undefined' });
    expect(isConflict(null)).to.equal(false);
  });
});

describe('FakeClock', () => {
  it('fires due timers in due order (ties in set order) with now() at each due time, including timers set meanwhile', () => {
    const clock = new FakeClock(1000);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push(`b@${clock.now()}`), 20);
    clock.setTimeout(() => {
      fired.push(`a@${clock.now()}`);
      clock.setTimeout(() => fired.push(`c@${clock.now()}`), 5);
    }, 10);
    clock.setTimeout(() => fired.push(`d@${clock.now()}`), 20);
    const cancel = clock.setTimeout(() => fired.push('never'), 15);
    cancel();
    clock.advance(19);
    expect(fired).to.deep.equal(['a@1010', 'c@1015']);
    clock.advance(100);
    expect(fired).to.deep.equal(['a@1010', 'c@1015', 'b@1020', 'd@1020']);
    expect(clock.now()).to.equal(1119);
    expect(clock.pending()).to.equal(0);
  });

  it('sleep resolves true after the time, false at once when aborted', async () => {
    const clock = new FakeClock();
    const full = clock.sleep(50);
    clock.advance(50);
    expect(await full).to.equal(true);
    const controller = new AbortController();
    const cut = clock.sleep(50, controller.signal);
    controller.abort();
    expect(await cut).to.equal(false);
    expect(clock.pending()).to.equal(0);
  });
});
