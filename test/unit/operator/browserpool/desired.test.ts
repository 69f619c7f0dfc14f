import { expect } from 'chai';
import { desiredPod, specHash, type PoolRef } from '#operator/controllers/browserpool/desired-pods.ts';
import { desiredSecret, generateToken } from '#operator/controllers/browserpool/desired-secret.ts';
import { tokenOf } from '#kube/api/v1alpha1/contract.ts';
import { desiredNetworkPolicy } from '#operator/controllers/browserpool/desired-network-policy.ts';
import { podName } from '#operator/controllers/browserpool/names.ts';
import { resolved } from './fixtures.ts';

const pool: PoolRef = { apiVersion: 'browser.composer-mcp.io/v1alpha1', kind: 'BrowserPool', name: 'pool', namespace: 'ns', uid: 'uid-1' };

describe('desiredPod', () => {
  const spec = resolved({
    browser: { image: 'example.com/chromium:1', args: ['--lang=pt-BR'], env: [{ name: 'TZ', value: 'UTC' }], resources: { limits: { memory: '1Gi' } } },
    gateway: { image: 'example.com/gateway:1', port: 9222, resources: { requests: { cpu: '50m' } } },
    scheduling: { nodeSelector: { pool: 'browsers' }, tolerations: [{ key: 'dedicated', operator: 'Exists', effect: 'NoSchedule' }], priorityClassName: 'browsers' },
  });
  const pod = desiredPod(pool, spec, 4);
  const chromium = pod.spec!.containers.find((c) => c.name === 'chromium')!;
  const gateway = pod.spec!.containers.find((c) => c.name === 'gateway')!;

  it('has a deterministic name, the pool labels and a controller owner reference', () => {
    expect(pod.metadata!.name).to.equal(podName('pool', 'uid-1', 4)).and.match(/^pool-[0-9a-f]{6}$/);
    expect(desiredPod(pool, spec, 4)).to.deep.equal(pod);
    expect(desiredPod(pool, spec, 5).metadata!.name).to.not.equal(pod.metadata!.name);
    expect(pod.metadata!.labels).to.include({
      'app.kubernetes.io/name': 'composer-mcp-browser', 'app.kubernetes.io/instance': 'pool', 'browser.composer-mcp.io/pool': 'pool',
    });
    expect(pod.metadata!.ownerReferences).to.deep.equal([{ ...pool, namespace: undefined, controller: true, blockOwnerDeletion: true }].map(({ namespace: _n, ...r }) => r));
    expect(pod.metadata!.annotations!['browser.composer-mcp.io/spec-hash']).to.equal(specHash('pool', spec));
  });

  it('is secure by default', () => {
    const ps = pod.spec!;
    expect(ps.automountServiceAccountToken).to.equal(false);
    expect(ps.securityContext).to.include({ runAsNonRoot: true, runAsUser: 10001 });
    expect(ps.securityContext!.seccompProfile).to.deep.equal({ type: 'RuntimeDefault' });
    for (const c of ps.containers) {
      expect(c.securityContext).to.include({ runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
      expect(c.securityContext!.capabilities!.drop).to.deep.equal(['ALL']);
    }
    expect(ps.volumes!.find((v) => v.name === 'dshm')!.emptyDir).to.deep.equal({ medium: 'Memory' });
    expect(chromium.volumeMounts!.map((m) => m.mountPath)).to.have.members(['/tmp', '/dev/shm']);
  });

  it('mounts the token Secret into the gateway and points GATEWAY_TOKEN_FILE at it; POD_IP from the downward API', () => {
    const vol = pod.spec!.volumes!.find((v) => v.name === 'cdp-token')!;
    expect(vol.secret!.secretName).to.equal('pool-cdp-token');
    const mount = gateway.volumeMounts!.find((m) => m.name === 'cdp-token')!;
    expect(mount).to.include({ readOnly: true });
    const env = Object.fromEntries(gateway.env!.map((e) => [e.name, e]));
    expect(env['GATEWAY_TOKEN_FILE']!.value).to.equal(`${mount.mountPath}/token`);
    expect(env['POD_IP']!.valueFrom!.fieldRef!.fieldPath).to.equal('status.podIP');
    expect(env['GATEWAY_PORT']!.value).to.equal('9222');
    expect(chromium.volumeMounts!.some((m) => m.name === 'cdp-token')).to.equal(false);
  });

  it('probes readiness on the gateway /healthz port and exposes the port', () => {
    expect(gateway.readinessProbe!.httpGet).to.deep.equal({ path: '/healthz', port: 'cdp' });
    expect(gateway.ports).to.deep.equal([{ name: 'cdp', containerPort: 9222, protocol: 'TCP' }]);
  });

  it('takes images, args, env, resources and scheduling from the spec', () => {
    expect(chromium.image).to.equal('example.com/chromium:1');
    expect(chromium.args).to.deep.equal(['--lang=pt-BR']);
    expect(chromium.env!.map((e) => e.name)).to.include('TZ');
    expect(chromium.resources).to.deep.equal({ limits: { memory: '1Gi' } });
    expect(gateway.image).to.equal('example.com/gateway:1');
    expect(gateway.resources).to.deep.equal({ requests: { cpu: '50m' } });
    expect(pod.spec!.nodeSelector).to.deep.equal({ pool: 'browsers' });
    expect(pod.spec!.tolerations).to.have.length(1);
    expect(pod.spec!.priorityClassName).to.equal('browsers');
  });

  it('changes the spec hash when the pod template changes, not when replicas or recycle settings do', () => {
    const base = resolved();
    expect(specHash('pool', resolved({ replicas: 7, recycle: { maxAgeSeconds: 99, drainTimeoutSeconds: 1, unhealthyAfterSeconds: 5 } }))).to.equal(specHash('pool', base));
    expect(specHash('pool', resolved({ browser: { image: 'x/y:2' } }))).to.not.equal(specHash('pool', base));
    expect(specHash('pool', resolved({ browser: { image: base.browser.image, args: ['--foo'] } }))).to.not.equal(specHash('pool', base));
  });
});

describe('desiredSecret', () => {
  it('generates a 32-byte base64url token once', () => {
    const s = desiredSecret(pool, undefined)!;
    const token = tokenOf(s)!;
    expect(Buffer.from(token, 'base64url')).to.have.length(32);
    expect(token).to.match(/^[A-Za-z0-9_-]{43}$/);
    expect(s.metadata!.name).to.equal('pool-cdp-token');
    expect(s.metadata!.ownerReferences![0]).to.include({ uid: 'uid-1', controller: true });
  });

  it('never regenerates a token that exists', () => {
    const s = desiredSecret(pool, undefined)!;
    expect(desiredSecret(pool, s)).to.equal(undefined);
    expect(desiredSecret(pool, { stringData: { token: 'abc' } })).to.equal(undefined);
  });

  it('makes a new token when the Secret has none', () => {
    expect(desiredSecret(pool, { data: {} })).to.not.equal(undefined);
    expect(generateToken(() => Buffer.alloc(32, 1))).to.equal(Buffer.alloc(32, 1).toString('base64url'));
  });
});

describe('desiredNetworkPolicy', () => {
  it('admits only the gateway port, from the access selector and the operator', () => {
    const spec = resolved({ access: { podSelector: { matchLabels: { app: 'composer-mcp-server' } } } });
    const np = desiredNetworkPolicy(pool, spec, { namespace: 'ops', podLabels: { app: 'operator' } });
    expect(np.spec!.podSelector!.matchLabels).to.deep.equal({ 'app.kubernetes.io/name': 'composer-mcp-browser', 'browser.composer-mcp.io/pool': 'pool' });
    expect(np.spec!.policyTypes).to.deep.equal(['Ingress']);
    expect(np.spec!.ingress).to.have.length(1);
    const rule = np.spec!.ingress![0]! as { ports?: unknown; _from?: unknown };
    expect(rule.ports).to.deep.equal([{ protocol: 'TCP', port: 9222 }]);
    expect(rule['_from']).to.deep.equal([
      { podSelector: { matchLabels: { app: 'composer-mcp-server' } } },
      { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ops' } }, podSelector: { matchLabels: { app: 'operator' } } },
    ]);
  });
});
