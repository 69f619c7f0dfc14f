import { expect } from 'chai';
import { validateSpec, parseQuantity } from '#operator/controllers/browserpool/validate-spec.ts';
import type { BrowserPoolSpec } from '#kube/api/v1alpha1/browserpool.ts';

function problems(spec: unknown, name = 'pool'): string[] {
  const v = validateSpec(name, spec as Partial<BrowserPoolSpec>);
  return v.ok ? [] : v.problems;
}

describe('validateSpec', () => {
  it('fills every default for an empty spec', () => {
    const v = validateSpec('pool', {});
    expect(v.ok).to.equal(true);
    if (!v.ok) return;
    expect(v.spec.replicas).to.equal(2);
    expect(v.spec.maxSessionsPerBrowser).to.equal(4);
    expect(v.spec.browser.image).to.equal('ghcr.io/composer-mcp/browser:0.1.0');
    expect(v.spec.browser).to.include({ sandbox: false, sandboxSeccompProfile: 'composer-mcp/chromium-sandbox.json' });
    expect(v.spec.gateway).to.deep.equal({ port: 9222 });
    expect(v.spec.egress).to.deep.equal({ origins: [] });
    expect(v.spec.recycle).to.deep.equal({ maxAgeSeconds: 3600, drainTimeoutSeconds: 300, unhealthyAfterSeconds: 60, maxLeases: 0 });
    expect(v.spec.autoscaling).to.equal(undefined);
  });

  it('fills autoscaling defaults', () => {
    const v = validateSpec('pool', { autoscaling: { maxReplicas: 5 } } as Partial<BrowserPoolSpec>);
    expect(v.ok && v.spec.autoscaling).to.deep.equal({ minReplicas: 1, maxReplicas: 5, minIdle: 1, targetSessionsPerBrowser: 3, scaleDownStabilizationWindowSeconds: 60 });
  });

  const cases: Array<[string, unknown, RegExp, string?]> = [
    ['a pool name too long for a label', {}, /metadata\.name.*at most 52/, 'p'.repeat(60)],
    ['negative replicas', { replicas: -1 }, /spec\.replicas/],
    ['min above max', { autoscaling: { minReplicas: 5, maxReplicas: 2 } }, /minReplicas \(5\) is greater than maxReplicas \(2\)/],
    ['minIdle above max', { autoscaling: { minIdle: 5, maxReplicas: 2 } }, /minIdle \(5\) is greater than maxReplicas \(2\)/],
    ['a negative stabilisation window', { autoscaling: { maxReplicas: 2, scaleDownStabilizationWindowSeconds: -1 } }, /scaleDownStabilizationWindowSeconds: -1 must be a whole number of seconds from 0 \(scale down at once\) to 3600/],
    ['a stabilisation window above an hour', { autoscaling: { maxReplicas: 2, scaleDownStabilizationWindowSeconds: 3601 } }, /scaleDownStabilizationWindowSeconds: 3601 must be/],
    ['a fractional stabilisation window', { autoscaling: { maxReplicas: 2, scaleDownStabilizationWindowSeconds: 1.5 } }, /scaleDownStabilizationWindowSeconds: 1.5 must be/],
    ['a target above the session cap', { maxSessionsPerBrowser: 2, autoscaling: { maxReplicas: 2, targetSessionsPerBrowser: 3 } }, /targetSessionsPerBrowser \(3\) is greater than spec\.maxSessionsPerBrowser \(2\)/],
    ['a bad maxMemory', { recycle: { maxAgeSeconds: 60, drainTimeoutSeconds: 1, unhealthyAfterSeconds: 1, maxMemory: 'lots' } }, /spec\.recycle\.maxMemory: "lots" is not a positive quantity/],
    ['negative maxLeases', { recycle: { maxAgeSeconds: 60, drainTimeoutSeconds: 1, unhealthyAfterSeconds: 1, maxLeases: -1 } }, /spec\.recycle\.maxLeases/],
    ['requests above limits', { browser: { image: 'a/b:1', resources: { requests: { memory: '2Gi' }, limits: { memory: '1Gi' } } } }, /requests\.memory \(2Gi\) is greater than spec\.browser\.resources\.limits\.memory \(1Gi\)/],
    ['a bad quantity', { browser: { image: 'a/b:1', resources: { limits: { cpu: 'lots' } } } }, /spec\.browser\.resources\.limits\.cpu: "lots" is not a quantity/],
    ['a bad image', { browser: { image: 'Not An Image' } }, /spec\.browser\.image/],
    ['a reserved chromium flag', { browser: { image: 'a/b:1', args: ['--remote-debugging-port=1'] } }, /args\[0\].*--remote-debugging-port/],
    ['a reserved env var', { browser: { image: 'a/b:1', env: [{ name: 'HOME', value: '/' }] } }, /env\[0\]\.name: HOME is set by the operator/],
    ['a gateway setting as env (it would widen egress)', { browser: { image: 'a/b:1', env: [{ name: 'GATEWAY_ALLOWED_ORIGINS', value: 'https://evil.example' }] } }, /env\[0\]\.name: GATEWAY_ALLOWED_ORIGINS is set by the operator/],
    ['an egress origin with a path', { egress: { allowedOrigins: ['https://api.example.com/v1'] } }, /egress\.allowedOrigins\[0\]: "https:\/\/api\.example\.com\/v1" is not an origin/],
    ['a wildcard egress origin', { egress: { allowedOrigins: ['https://*.example.com'] } }, /egress\.allowedOrigins\[0\].*not an origin/],
    ['an egress origin listed twice', { egress: { allowedOrigins: ['https://a.example', 'https://a.example:443'] } }, /allowedOrigins\[1\].*listed twice/],
    ['a bad env name', { browser: { image: 'a/b:1', env: [{ name: '1 x', value: '1' }] } }, /env\[0\]\.name/],
    ['a gateway port out of range', { gateway: { port: 70000 } }, /spec\.gateway\.port: 70000/],
    ['a bad node selector', { scheduling: { nodeSelector: { 'bad key!': 'x' } } }, /nodeSelector/],
    ['In without values', { access: { podSelector: { matchExpressions: [{ key: 'app', operator: 'In' }] } } }, /matchExpressions\[0\]: operator In needs at least one value/],
    ['an unknown operator', { access: { podSelector: { matchExpressions: [{ key: 'app', operator: 'Near', values: ['x'] }] } } }, /"Near" is not one of/],
    ['a short maxAge', { recycle: { maxAgeSeconds: 5 } }, /maxAgeSeconds/],
    ['a sandbox that is not a boolean', { browser: { image: 'a/b:1', sandbox: 'yes' } }, /spec\.browser\.sandbox: "yes" must be true or false/],
    ['a seccomp profile outside the kubelet\'s directory', { browser: { image: 'a/b:1', sandbox: true, sandboxSeccompProfile: '../../etc/x.json' } }, /spec\.browser\.sandboxSeccompProfile: .*relative, no "\.\."/],
    ['an absolute seccomp profile path', { browser: { image: 'a/b:1', sandboxSeccompProfile: '/var/lib/kubelet/seccomp/x.json' } }, /sandboxSeccompProfile/],
  ];
  for (const [what, spec, pattern, name] of cases) {
    it(`rejects ${what}, naming the field and the fix`, () => {
      const p = problems(spec, name);
      expect(p.some((x) => pattern.test(x)), JSON.stringify(p)).to.equal(true);
    });
  }

  it('lists every problem at once', () => {
    expect(problems({ replicas: -1, maxSessionsPerBrowser: 0, gateway: { port: 0 } })).to.have.length(3);
  });

  it('normalises egress origins as the gateway reads them', () => {
    const v = validateSpec('pool', { egress: { allowedOrigins: ['https://API.example.com:443', 'http://10.0.0.5:8080'] } } as Partial<BrowserPoolSpec>);
    expect(v.ok && v.spec.egress.origins.map((o) => o.origin)).to.deep.equal(['https://api.example.com', 'http://10.0.0.5:8080']);
  });

  it('never throws on garbage', () => {
    expect(() => validateSpec('pool', { replicas: 'x', browser: { image: 5, args: [] }, recycle: {} } as unknown as BrowserPoolSpec)).to.not.throw();
  });
});

describe('parseQuantity', () => {
  it('parses decimal, binary and milli suffixes', () => {
    expect(parseQuantity('500m')).to.equal(0.5);
    expect(parseQuantity('1Gi')).to.equal(2 ** 30);
    expect(parseQuantity('2')).to.equal(2);
    expect(parseQuantity('1e3')).to.equal(1000);
    expect(parseQuantity('3k')).to.equal(3000);
    expect(parseQuantity('x')).to.equal(undefined);
    expect(parseQuantity(4)).to.equal(4);
  });
});
