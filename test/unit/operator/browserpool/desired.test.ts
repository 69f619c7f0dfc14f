import { expect } from 'chai';
import { desiredPod, specHash, type PoolRef } from '#operator/controllers/browserpool/desired-pods.ts';
import { desiredSecret, generateToken } from '#operator/controllers/browserpool/desired-secret.ts';
import { tokenOf } from '#kube/api/v1alpha1/contract.ts';
import { desiredNetworkPolicy } from '#operator/controllers/browserpool/desired-network-policy.ts';
import { podName } from '#operator/controllers/browserpool/names.ts';
import { holdsDeclared, missingLabels } from '#operator/controllers/browserpool/drift.ts';
import { desiredEgressPolicy } from '#operator/controllers/browserpool/desired-egress-policy.ts';
import { dnsOriginResolver } from '#operator/controllers/browserpool/origin-resolver.ts';
import { parseAllowedOrigin } from '#operator/controllers/browserpool/validate-spec.ts';
import { resolved } from './fixtures.ts';

const pool: PoolRef = { apiVersion: 'browser.composer-mcp.io/v1alpha1', kind: 'BrowserPool', name: 'pool', namespace: 'ns', uid: 'uid-1' };

describe('desiredPod', () => {
  const spec = resolved({
    browser: { image: 'example.com/browser:1', args: ['--lang=pt-BR'], env: [{ name: 'TZ', value: 'UTC' }], resources: { limits: { memory: '1Gi' } } },
    gateway: { port: 9222 },
    maxSessionsPerBrowser: 6,
    egress: { allowedOrigins: ['https://composer.example.com', 'https://api.example.com:8443'] },
    scheduling: { nodeSelector: { pool: 'browsers' }, tolerations: [{ key: 'dedicated', operator: 'Exists', effect: 'NoSchedule' }], priorityClassName: 'browsers' },
  });
  const pod = desiredPod(pool, spec, 4);
  const browser = pod.spec!.containers[0]!;
  const env = Object.fromEntries(browser.env!.map((e) => [e.name, e]));

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

  it('runs one container, the gateway with Chromium as its child: no Chromium container, no DevTools port', () => {
    expect(pod.spec!.containers.map((c) => c.name)).to.deep.equal(['browser']);
    expect(browser.ports).to.deep.equal([{ name: 'cdp', containerPort: 9222, protocol: 'TCP' }]);
    expect(browser.args, 'the image CMD runs the gateway').to.equal(undefined);
    expect(JSON.stringify(pod)).to.not.match(/remote-debugging|9223|UPSTREAM/);
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
    expect(browser.volumeMounts!.map((m) => m.mountPath)).to.have.members(['/tmp', '/dev/shm', '/var/run/composer-mcp/cdp-token']);
  });

  it('mounts the token Secret read-only and points GATEWAY_TOKEN_FILE at it; POD_IP from the downward API', () => {
    const vol = pod.spec!.volumes!.find((v) => v.name === 'cdp-token')!;
    expect(vol.secret!.secretName).to.equal('pool-cdp-token');
    const mount = browser.volumeMounts!.find((m) => m.name === 'cdp-token')!;
    expect(mount).to.include({ readOnly: true });
    expect(env['GATEWAY_TOKEN_FILE']!.value).to.equal(`${mount.mountPath}/token`);
    expect(env['POD_IP']!.valueFrom!.fieldRef!.fieldPath).to.equal('status.podIP');
    expect(env['GATEWAY_PORT']!.value).to.equal('9222');
  });

  it('gives the gateway the pool\'s egress origins, session cap and Chromium flags', () => {
    expect(env['GATEWAY_ALLOWED_ORIGINS']!.value).to.equal('https://composer.example.com,https://api.example.com:8443');
    expect(env['GATEWAY_MAX_SESSIONS_PER_BROWSER']!.value).to.equal('6');
    expect(JSON.parse(env['GATEWAY_CHROMIUM_ARGS']!.value!)).to.deep.equal(['--lang=pt-BR']);
    expect(Object.fromEntries(desiredPod(pool, resolved(), 0).spec!.containers[0]!.env!.map((e) => [e.name, e.value]))['GATEWAY_ALLOWED_ORIGINS'], 'no egress by default').to.equal('');
  });

  it('probes readiness on the gateway /healthz port', () => {
    expect(browser.readinessProbe!.httpGet).to.deep.equal({ path: '/healthz', port: 'cdp' });
  });

  it('takes the image, env, resources and scheduling from the spec', () => {
    expect(browser.image).to.equal('example.com/browser:1');
    expect(env['TZ']!.value).to.equal('UTC');
    expect(browser.resources).to.deep.equal({ limits: { memory: '1Gi' } });
    expect(pod.spec!.nodeSelector).to.deep.equal({ pool: 'browsers' });
    expect(pod.spec!.tolerations).to.have.length(1);
    expect(pod.spec!.priorityClassName).to.equal('browsers');
  });

  it('keeps Chromium\'s own sandbox off by default: RuntimeDefault, no sandbox setting for the gateway', () => {
    expect(browser.securityContext!.seccompProfile).to.deep.equal({ type: 'RuntimeDefault' });
    expect(env['GATEWAY_CHROMIUM_SANDBOX']).to.equal(undefined);
  });

  it('with spec.browser.sandbox runs Chromium with its sandbox under the pool\'s Localhost seccomp profile, everything else as tight', () => {
    const sandboxed = desiredPod(pool, resolved({ browser: { image: 'example.com/browser:1', sandbox: true } }), 0);
    const c = sandboxed.spec!.containers[0]!;
    expect(c.securityContext!.seccompProfile).to.deep.equal({ type: 'Localhost', localhostProfile: 'composer-mcp/chromium-sandbox.json' });
    expect(c.securityContext).to.include({ runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
    expect(c.securityContext!.capabilities!.drop).to.deep.equal(['ALL']);
    expect(c.env!.find((e) => e.name === 'GATEWAY_CHROMIUM_SANDBOX')!.value).to.equal('true');
    const own = desiredPod(pool, resolved({ browser: { image: 'example.com/browser:1', sandbox: true, sandboxSeccompProfile: 'operator/composer-mcp/chromium.json' } }), 0);
    expect(own.spec!.containers[0]!.securityContext!.seccompProfile).to.deep.equal({ type: 'Localhost', localhostProfile: 'operator/composer-mcp/chromium.json' });
    // A profile named without the sandbox changes nothing.
    expect(specHash('pool', resolved({ browser: { image: 'x/y:1', sandboxSeccompProfile: 'a/b.json' } }))).to.equal(specHash('pool', resolved({ browser: { image: 'x/y:1' } })));
  });

  it('changes the spec hash when the pod template changes, not when replicas or recycle settings do', () => {
    const base = resolved();
    expect(specHash('pool', resolved({ replicas: 7, recycle: { maxAgeSeconds: 99, drainTimeoutSeconds: 1, unhealthyAfterSeconds: 5 } }))).to.equal(specHash('pool', base));
    expect(specHash('pool', resolved({ browser: { image: 'x/y:2' } }))).to.not.equal(specHash('pool', base));
    expect(specHash('pool', resolved({ browser: { image: base.browser.image, args: ['--foo'] } }))).to.not.equal(specHash('pool', base));
    expect(specHash('pool', resolved({ egress: { allowedOrigins: ['https://x.example'] } }))).to.not.equal(specHash('pool', base));
    expect(specHash('pool', resolved({ browser: { image: base.browser.image, sandbox: true } }))).to.not.equal(specHash('pool', base));
  });
});

describe('desiredSecret', () => {
  it('holds the given token under `token`, with the pool labels and a controller owner reference', () => {
    const token = generateToken();
    const s = desiredSecret(pool, token);
    expect(tokenOf(s)).to.equal(token);
    expect(s.metadata!.name).to.equal('pool-cdp-token');
    expect(s.metadata!.labels).to.include({ 'app.kubernetes.io/managed-by': 'browserpool-operator', 'browser.composer-mcp.io/pool': 'pool' });
    expect(s.metadata!.ownerReferences![0]).to.include({ uid: 'uid-1', controller: true });
  });

  it('generates 32-byte base64url tokens', () => {
    const token = generateToken();
    expect(Buffer.from(token, 'base64url')).to.have.length(32);
    expect(token).to.match(/^[A-Za-z0-9_-]{43}$/);
    expect(generateToken(() => Buffer.alloc(32, 1))).to.equal(Buffer.alloc(32, 1).toString('base64url'));
  });
});

describe('holdsDeclared (drift of an owned object)', () => {
  const np = desiredNetworkPolicy(pool, resolved(), { namespace: 'ops', podLabels: { app: 'operator' } });
  /** The policy as the API server returns it: wire names, defaults and other managers' fields added. */
  interface WirePolicy {
    metadata: { labels: Record<string, string> } & Record<string, unknown>;
    spec: { ingress: Array<{ ports: Array<{ port: number }>; from: unknown[] }> };
  }
  const stored = (): WirePolicy => {
    const wire = JSON.parse(JSON.stringify(np).replaceAll('"_from"', '"from"')) as WirePolicy;
    wire.metadata = { ...wire.metadata, uid: 'np-1', resourceVersion: '7', labels: { ...wire.metadata.labels, team: 'x' } };
    return wire;
  };

  it('accepts the stored object with defaults and extra fields', () => {
    expect(holdsDeclared(np, stored())).to.equal(true);
  });

  it('sees an edited port, an added rule, a dropped peer and a changed label', () => {
    const port = stored();
    port.spec.ingress[0]!.ports[0]!.port = 9999;
    expect(holdsDeclared(np, port)).to.equal(false);
    const added = stored();
    added.spec.ingress.push({ ports: [], from: [] });
    expect(holdsDeclared(np, added)).to.equal(false);
    const dropped = stored();
    dropped.spec.ingress[0]!.from.pop();
    expect(holdsDeclared(np, dropped)).to.equal(false);
    const label = stored();
    label.metadata.labels['browser.composer-mcp.io/pool'] = 'other';
    expect(holdsDeclared(np, label)).to.equal(false);
  });

  it('names the pool labels a pod lacks or has changed', () => {
    expect(missingLabels({ a: '1', b: '2' }, { a: '1', b: 'x', c: '3' })).to.deep.equal(['b']);
    expect(missingLabels({ a: '1' }, undefined)).to.deep.equal(['a']);
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

describe('desiredEgressPolicy', () => {
  const dns = { namespace: 'kube-system', podLabels: { 'k8s-app': 'kube-dns' } };

  it('admits DNS and each allowed origin\'s addresses on its port over TCP, and nothing else', () => {
    const np = desiredEgressPolicy(pool, [
      { origin: 'https://composer.example.com', port: 443, addresses: ['203.0.113.7', '2001:db8::7'] },
      { origin: 'https://api.example.com', port: 443, addresses: ['203.0.113.9'] },
      { origin: 'http://storage.example.com:8080', port: 8080, addresses: ['198.51.100.1'] },
    ], dns);
    expect(np.metadata!.name).to.equal('pool-egress');
    expect(np.spec!.policyTypes).to.deep.equal(['Egress']);
    expect(np.spec!.podSelector!.matchLabels).to.deep.equal({ 'app.kubernetes.io/name': 'composer-mcp-browser', 'browser.composer-mcp.io/pool': 'pool' });
    const [dnsRule, https, http] = np.spec!.egress!;
    expect(dnsRule!.ports).to.deep.equal([{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }]);
    expect(dnsRule!.to![0]!.namespaceSelector!.matchLabels).to.deep.equal({ 'kubernetes.io/metadata.name': 'kube-system' });
    expect(https!.to!.map((p) => p.ipBlock!.cidr)).to.deep.equal(['2001:db8::7/128', '203.0.113.7/32', '203.0.113.9/32']);
    expect(https!.ports).to.deep.equal([{ protocol: 'TCP', port: 443 }]);
    expect(http!.ports).to.deep.equal([{ protocol: 'TCP', port: 8080 }]);
    expect(JSON.stringify(np)).to.not.include('0.0.0.0/0');
  });

  it('admits DNS only when no origin is allowed or none resolves', () => {
    expect(desiredEgressPolicy(pool, [], dns).spec!.egress).to.have.length(1);
    expect(desiredEgressPolicy(pool, [{ origin: 'https://gone.example', port: 443, addresses: [] }], dns).spec!.egress).to.have.length(1);
  });

  it('reads allowed origins: scheme, host and port, refusing paths, credentials and the unspecified address', () => {
    expect(parseAllowedOrigin('https://composer.example.com')).to.deep.equal({ origin: 'https://composer.example.com', host: 'composer.example.com', port: 443 });
    expect(parseAllowedOrigin('http://api.example.com:8080/')).to.deep.equal({ origin: 'http://api.example.com:8080', host: 'api.example.com', port: 8080 });
    expect(parseAllowedOrigin('https://[2001:db8::1]')?.host).to.equal('2001:db8::1');
    for (const bad of ['https://x.example/path', 'https://user:pw@x.example', 'ftp://x.example', 'https://0.0.0.0', 'not a url', 'https://x.example?q=1']) {
      expect(parseAllowedOrigin(bad), bad).to.equal(undefined);
    }
  });

  it('resolves hosts through DNS with a cache, IP literals as themselves, never the unspecified address', async () => {
    let now = 0;
    let calls = 0;
    const resolver = dnsOriginResolver({ now: () => now, ttlMs: 1000, lookupAll: async () => { calls++; return ['203.0.113.7', '0.0.0.0', '203.0.113.7']; } });
    expect(await resolver.addresses('composer.example.com')).to.deep.equal(['203.0.113.7']);
    expect(await resolver.addresses('composer.example.com')).to.deep.equal(['203.0.113.7']);
    expect(calls).to.equal(1);
    now = 2000;
    await resolver.addresses('composer.example.com');
    expect(calls).to.equal(2);
    expect(await resolver.addresses('192.0.2.1')).to.deep.equal(['192.0.2.1']);
    expect(await resolver.addresses('0.0.0.0')).to.deep.equal([]);
  });
});
