import { expect } from 'chai';
import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { applyBrowserPoolCrd } from '#support/kube/browserpool-crd.ts';
import {
  BROWSERPOOL_API_VERSION,
  BROWSERPOOL_GROUP,
  BROWSERPOOL_KIND,
  BROWSERPOOL_PLURAL,
  BROWSERPOOL_VERSION,
  DEFAULT_BROWSER_IMAGE,
  type BrowserPool,
} from '#kube/api/v1alpha1/browserpool.ts';
import { createTestNamespace, expectApiFailure, mergePatch, sharedKubeConfig, type TestNamespace } from '#support/control-plane/kube-test-kit.ts';

function pool(name: string, spec: Record<string, unknown>): Record<string, unknown> {
  return { apiVersion: BROWSERPOOL_API_VERSION, kind: BROWSERPOOL_KIND, metadata: { name }, spec };
}

/** Each invalid spec, the field the API server names, and the message it must give. */
const INVALID: Array<{ what: string; name?: string; spec: Record<string, unknown>; field: string; message: string }> = [
  { what: 'negative replicas', spec: { replicas: -1 }, field: 'spec.replicas',
    message: 'spec.replicas in body should be greater than or equal to 0' },
  { what: 'autoscaling minReplicas above maxReplicas', spec: { replicas: 3, autoscaling: { minReplicas: 5, maxReplicas: 3 } },
    field: 'spec.autoscaling.minReplicas', message: 'autoscaling.minReplicas must be less than or equal to autoscaling.maxReplicas' },
  { what: 'replicas above autoscaling.maxReplicas', spec: { replicas: 7, autoscaling: { maxReplicas: 3 } },
    field: 'spec.replicas', message: 'replicas must be between autoscaling.minReplicas and autoscaling.maxReplicas when autoscaling is set' },
  { what: 'defaulted replicas (2) below autoscaling.minReplicas', spec: { autoscaling: { minReplicas: 3, maxReplicas: 6 } },
    field: 'spec.replicas', message: 'replicas defaults to 2: set it explicitly when 2 is outside the bounds' },
  { what: 'autoscaling without maxReplicas', spec: { autoscaling: { minReplicas: 1 } },
    field: 'spec.autoscaling.maxReplicas', message: 'Required value' },
  { what: 'targetSessionsPerBrowser above maxSessionsPerBrowser', spec: { maxSessionsPerBrowser: 2, autoscaling: { maxReplicas: 4, targetSessionsPerBrowser: 3 } },
    field: 'spec.autoscaling.targetSessionsPerBrowser', message: 'autoscaling.targetSessionsPerBrowser must be less than or equal to maxSessionsPerBrowser' },
  { what: 'autoscaling minIdle above maxReplicas', spec: { replicas: 2, autoscaling: { minIdle: 5, maxReplicas: 3 } },
    field: 'spec.autoscaling.minIdle', message: 'autoscaling.minIdle must be less than or equal to autoscaling.maxReplicas' },
  { what: 'a negative scale-down stabilisation window', spec: { autoscaling: { maxReplicas: 3, scaleDownStabilizationWindowSeconds: -1 } },
    field: 'spec.autoscaling.scaleDownStabilizationWindowSeconds', message: 'spec.autoscaling.scaleDownStabilizationWindowSeconds in body should be greater than or equal to 0' },
  { what: 'a scale-down stabilisation window above an hour', spec: { autoscaling: { maxReplicas: 3, scaleDownStabilizationWindowSeconds: 3601 } },
    field: 'spec.autoscaling.scaleDownStabilizationWindowSeconds', message: 'spec.autoscaling.scaleDownStabilizationWindowSeconds in body should be less than or equal to 3600' },
  { what: 'negative recycle.maxLeases', spec: { recycle: { maxLeases: -1 } }, field: 'spec.recycle.maxLeases',
    message: 'spec.recycle.maxLeases in body should be greater than or equal to 0' },
  { what: 'a recycle.maxMemory that is not a quantity', spec: { recycle: { maxMemory: 'lots' } }, field: 'spec.recycle.maxMemory',
    message: 'recycle.maxMemory must be a positive quantity such as 1536Mi or 2Gi' },
  { what: 'a recycle.maxMemory of zero', spec: { recycle: { maxMemory: '0' } }, field: 'spec.recycle.maxMemory',
    message: 'recycle.maxMemory must be a positive quantity' },
  { what: 'maxSessionsPerBrowser of 0', spec: { maxSessionsPerBrowser: 0 }, field: 'spec.maxSessionsPerBrowser',
    message: 'spec.maxSessionsPerBrowser in body should be greater than or equal to 1' },
  { what: 'maxSessionsPerBrowser above 64', spec: { maxSessionsPerBrowser: 65 }, field: 'spec.maxSessionsPerBrowser',
    message: 'spec.maxSessionsPerBrowser in body should be less than or equal to 64' },
  { what: 'drainTimeoutSeconds above maxAgeSeconds', spec: { recycle: { maxAgeSeconds: 60, drainTimeoutSeconds: 120 } },
    field: 'spec.recycle.drainTimeoutSeconds', message: 'recycle.drainTimeoutSeconds must be less than or equal to recycle.maxAgeSeconds' },
  { what: 'maxAgeSeconds below 10', spec: { recycle: { maxAgeSeconds: 5, drainTimeoutSeconds: 1 } }, field: 'spec.recycle.maxAgeSeconds',
    message: 'spec.recycle.maxAgeSeconds in body should be greater than or equal to 10' },
  { what: 'negative drainTimeoutSeconds', spec: { recycle: { drainTimeoutSeconds: -1 } }, field: 'spec.recycle.drainTimeoutSeconds',
    message: 'spec.recycle.drainTimeoutSeconds in body should be greater than or equal to 0' },
  { what: 'a wildcard egress origin', spec: { egress: { allowedOrigins: ['https://*.example.com'] } }, field: 'spec.egress.allowedOrigins[0]',
    message: 'should match' },
  { what: 'an ftp egress origin', spec: { egress: { allowedOrigins: ['ftp://files.example.com'] } }, field: 'spec.egress.allowedOrigins[0]',
    message: 'should match' },
  { what: 'a duplicate egress origin', spec: { egress: { allowedOrigins: ['https://a.example', 'https://a.example'] } }, field: 'spec.egress.allowedOrigins[1]',
    message: 'Duplicate value' },
  { what: 'gateway port out of range', spec: { gateway: { port: 70000 } }, field: 'spec.gateway.port',
    message: 'spec.gateway.port in body should be less than or equal to 65535' },
  { what: 'a --remote-debugging flag in browser.args', spec: { browser: { args: ['--lang=pt-BR', '--remote-debugging-address=0.0.0.0'] } },
    field: 'spec.browser.args', message: 'browser.args must not set security-relevant Chromium flags' },
  { what: 'a single-dash --proxy-server in browser.args', spec: { browser: { args: ['-Proxy-Server=http://evil:3128'] } },
    field: 'spec.browser.args', message: 'browser.args must not set security-relevant Chromium flags' },
  { what: '--remote-allow-origins in browser.args', spec: { browser: { args: ['--remote-allow-origins=*'] } },
    field: 'spec.browser.args', message: 'browser.args must not set security-relevant Chromium flags' },
  { what: 'an env entry reading a Secret', spec: { browser: { env: [{ name: 'A', valueFrom: { secretKeyRef: { name: 'other', key: 'k' } } }] } },
    field: 'spec.browser.env[0]', message: 'browser.env entries may not use valueFrom' },
  { what: 'a proxy env variable', spec: { browser: { env: [{ name: 'https_proxy', value: 'http://evil:3128' }] } },
    field: 'spec.browser.env[0]', message: 'browser.env must not set proxy, preload or TLS key log variables' },
  { what: 'an empty browser image', spec: { browser: { image: '' } }, field: 'spec.browser.image',
    message: 'spec.browser.image in body should be at least 1 chars long' },
  { what: 'an env entry with value and valueFrom', spec: { browser: { env: [{ name: 'A', value: 'x', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }] } },
    field: 'spec.browser.env[0]', message: 'browser.env entries may not use valueFrom' },
  { what: 'duplicate env names', spec: { browser: { env: [{ name: 'A', value: 'x' }, { name: 'A', value: 'y' }] } },
    field: 'spec.browser.env[1]', message: 'Duplicate value' },
  { what: 'a resource quantity that is not one', spec: { browser: { resources: { limits: { memory: 'lots' } } } },
    field: 'spec.browser.resources.limits.memory', message: 'should match' },
  { what: 'an In selector requirement without values', spec: { access: { podSelector: { matchExpressions: [{ key: 'app', operator: 'In' }] } } },
    field: 'spec.access.podSelector.matchExpressions[0]', message: 'values must be non-empty for In and NotIn' },
  { what: 'an unknown toleration operator', spec: { scheduling: { tolerations: [{ key: 'k', operator: 'Maybe' }] } },
    field: 'spec.scheduling.tolerations[0].operator', message: 'Unsupported value: "Maybe"' },
  { what: 'a sandbox seccomp profile outside the kubelet\'s seccomp directory', spec: { browser: { sandbox: true, sandboxSeccompProfile: 'composer-mcp/../../x.json' } },
    field: 'spec.browser.sandboxSeccompProfile', message: 'should match' },
  { what: 'an absolute sandbox seccomp profile', spec: { browser: { sandboxSeccompProfile: '/etc/x.json' } },
    field: 'spec.browser.sandboxSeccompProfile', message: 'should match' },
  { what: 'a name longer than 52 characters', name: `p${'x'.repeat(52)}`, spec: {}, field: '<nil>',
    message: 'metadata.name must be at most 52 characters' },
];

describe('BrowserPool validation and defaults (real kube-apiserver)', function () {
  this.timeout(60_000);
  let kc: KubeConfig;
  let custom: CustomObjectsApi;
  let ns: TestNamespace;
  const target = () => ({ group: BROWSERPOOL_GROUP, version: BROWSERPOOL_VERSION, plural: BROWSERPOOL_PLURAL, namespace: ns.name });

  before(async () => {
    kc = sharedKubeConfig();
    await applyBrowserPoolCrd(kc);
    custom = kc.makeApiClient(CustomObjectsApi);
    ns = await createTestNamespace(kc, 'crd-validation');
  });

  after(async () => {
    await ns?.remove();
  });

  it('accepts a minimal BrowserPool and applies every default', async () => {
    const created = (await custom.createNamespacedCustomObject({ ...target(), body: pool('minimal', {}) })) as BrowserPool;
    expect(created.spec).to.deep.equal({
      replicas: 2,
      maxSessionsPerBrowser: 4,
      browser: { image: DEFAULT_BROWSER_IMAGE, sandbox: false },
      gateway: { port: 9222 },
      recycle: { maxAgeSeconds: 3600, drainTimeoutSeconds: 300, unhealthyAfterSeconds: 60, maxLeases: 0 },
    });
    expect(created.metadata.generation).to.equal(1);
  });

  it('fills the defaults of partly given nested objects', async () => {
    const created = (await custom.createNamespacedCustomObject({
      ...target(),
      body: pool('partial', {
        replicas: 3,
        autoscaling: { maxReplicas: 8 },
        browser: { args: ['--lang=pt-BR'], resources: { requests: { cpu: '500m', memory: '1Gi' }, limits: { memory: 2147483648 } } },
        gateway: { port: 8080 },
        egress: { allowedOrigins: ['https://composer.example.com', 'http://10.0.0.5:8080'] },
        recycle: { maxAgeSeconds: 600 },
        scheduling: { nodeSelector: { pool: 'browsers' }, tolerations: [{ key: 'browsers', operator: 'Exists', effect: 'NoSchedule' }],
          affinity: { nodeAffinity: {} }, priorityClassName: 'high' },
        access: { podSelector: { matchLabels: { app: 'mcp' }, matchExpressions: [{ key: 'tier', operator: 'Exists' }] } },
      }),
    })) as BrowserPool;
    expect(created.spec.autoscaling).to.deep.equal({ minReplicas: 1, maxReplicas: 8, minIdle: 1, targetSessionsPerBrowser: 3, scaleDownStabilizationWindowSeconds: 60 });
    expect(created.spec.browser).to.deep.include({ image: DEFAULT_BROWSER_IMAGE, args: ['--lang=pt-BR'] });
    expect(created.spec.browser.resources).to.deep.equal({ requests: { cpu: '500m', memory: '1Gi' }, limits: { memory: 2147483648 } });
    expect(created.spec.gateway).to.deep.equal({ port: 8080 });
    expect(created.spec.egress).to.deep.equal({ allowedOrigins: ['https://composer.example.com', 'http://10.0.0.5:8080'] });
    expect(created.spec.recycle).to.deep.equal({ maxAgeSeconds: 600, drainTimeoutSeconds: 300, unhealthyAfterSeconds: 60, maxLeases: 0 });
    expect(created.spec.scheduling?.affinity).to.deep.equal({ nodeAffinity: {} });
    expect(created.spec.access?.podSelector?.matchExpressions).to.deep.equal([{ key: 'tier', operator: 'Exists' }]);
  });

  it('prunes fields the schema does not know', async () => {
    const created = (await custom.createNamespacedCustomObject({
      ...target(), body: pool('pruned', { replicas: 1, favouriteColour: 'blue', recycle: { maxAgeSeconds: 900, bogus: 1 } }),
    })) as BrowserPool;
    expect(created.spec).to.not.have.property('favouriteColour');
    expect(created.spec.recycle).to.deep.equal({ maxAgeSeconds: 900, drainTimeoutSeconds: 300, unhealthyAfterSeconds: 60, maxLeases: 0 });
  });

  for (const invalid of INVALID) {
    it(`rejects ${invalid.what} with a message naming the field`, async () => {
      const failure = await expectApiFailure(custom.createNamespacedCustomObject({
        ...target(), dryRun: 'All', body: pool(invalid.name ?? 'invalid', invalid.spec),
      }));
      expect(failure.status, failure.message).to.equal(422);
      expect(failure.message).to.contain(invalid.message);
      if (invalid.field !== '<nil>') expect(failure.message).to.contain(`${invalid.field}:`);
    });
  }

  it('rejects an update that breaks a rule and keeps the stored object', async () => {
    await custom.createNamespacedCustomObject({ ...target(), body: pool('updated', { replicas: 2, autoscaling: { maxReplicas: 4 } }) });
    const failure = await expectApiFailure(custom.patchNamespacedCustomObject(
      { ...target(), name: 'updated', body: { spec: { autoscaling: { maxReplicas: 1 } } } },
      mergePatch(),
    ));
    expect(failure.status).to.equal(422);
    expect(failure.message).to.contain('replicas must be between autoscaling.minReplicas and autoscaling.maxReplicas');
    const stored = (await custom.getNamespacedCustomObject({ ...target(), name: 'updated' })) as BrowserPool;
    expect(stored.spec.autoscaling?.maxReplicas).to.equal(4);
  });
});
