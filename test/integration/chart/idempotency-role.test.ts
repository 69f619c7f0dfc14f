import { expect } from 'chai';
import { CoreV1Api, KubeConfig, RbacAuthorizationV1Api, type V1Role, type V1RoleBinding } from '@kubernetes/client-node';
import { sharedControlPlane } from '#support/control-plane/shared.ts';
import { apiError, createTestNamespace, sharedKubeConfig, type TestNamespace } from '#support/control-plane/kube-test-kit.ts';
import { KubernetesIdempotencyStore } from '#server/composer/storage/kubernetes-idempotency-store.ts';
import { CHART_DIR, helm, helmOk, parseManifests, type RenderedObject } from './helm.ts';
import { callPairs, grantedPairs, SERVER_IDEMPOTENCY_CALLS } from './used-api-calls.ts';

type EnvVar = { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } };

/**
 * The chart's grant for exactly-once saves (ADR 0005): the server's `-idempotency` Role in the release namespace,
 * checked against the calls the store makes, and used for real by the store running as the server's ServiceAccount.
 */
describe('Helm chart: the server\'s idempotency store Role (real API server)', function () {
  this.timeout(90_000);
  let kc: KubeConfig;
  let ns: TestNamespace;
  let other: TestNamespace;
  let objects: RenderedObject[];
  const release = 'idem';

  before(async () => {
    kc = sharedKubeConfig();
    ns = await createTestNamespace(kc, 'idem-chart');
    other = await createTestNamespace(kc, 'idem-other');
    // The pool in another namespace: the idempotency Role must still land in the release namespace.
    objects = parseManifests(await helmOk(['template', release, CHART_DIR, '-n', ns.name, '--set', 'server.auth.allowUnauthenticated=true', '--set', `browserPool.namespace=${other.name}`, '--set', `operator.watchNamespaces={${other.name}}`]));
  });
  after(async () => {
    await ns?.remove();
    await other?.remove();
  });

  const byKind = <T>(kind: string, suffix: string) => objects.find((o) => o.kind === kind && o.metadata.name.endsWith(suffix)) as unknown as T;

  it('grants exactly the ConfigMap calls the store makes, in the release namespace only, to the server\'s ServiceAccount', () => {
    const role = byKind<V1Role>('Role', '-server-idempotency');
    const binding = byKind<V1RoleBinding>('RoleBinding', '-server-idempotency');
    expect(role.metadata?.namespace).to.equal(ns.name);
    expect(grantedPairs(role.rules!)).to.deep.equal(callPairs(SERVER_IDEMPOTENCY_CALLS));
    expect(binding.metadata?.namespace).to.equal(ns.name);
    expect(binding.subjects).to.deep.equal([{ kind: 'ServiceAccount', name: `${release}-composer-mcp-server`, namespace: ns.name }]);
    expect(objects.filter((o) => o.kind === 'ClusterRole' && JSON.stringify(o).includes('configmaps'))).to.deep.equal([]);
  });

  it('runs the server with the Kubernetes store and its own namespace from the downward API', () => {
    const deployment = byKind<{ spec: { template: { spec: { containers: Array<{ env: EnvVar[] }> } } } }>('Deployment', '-server');
    const env = deployment.spec.template.spec.containers[0]!.env;
    expect(env.find((e) => e.name === 'COMPOSER_MCP_COMPOSER__IDEMPOTENCY__STORE')?.value).to.equal('kubernetes');
    // The server's own cap, below the namespace's ConfigMap quota, so a full store gets the server's clear error.
    expect(env.find((e) => e.name === 'COMPOSER_MCP_COMPOSER__IDEMPOTENCY__MAX_RECORDS')?.value).to.equal('4000');
    expect(env.find((e) => e.name === 'POD_NAMESPACE')?.valueFrom).to.deep.equal({ fieldRef: { fieldPath: 'metadata.namespace' } });
  });

  it('refuses to render a record cap at or above the ConfigMap quota, naming both values', async () => {
    const result = await helm(['template', release, CHART_DIR, '-n', ns.name, '--set', 'server.auth.allowUnauthenticated=true', '--set', 'server.idempotency.maxRecords=5000']);
    expect(result.code).to.not.equal(0);
    expect(result.stderr).to.include('server.idempotency.maxRecords (5000) must be below server.idempotency.maxConfigMaps (5000)');
    expect((await helm(['template', release, CHART_DIR, '-n', ns.name, '--set', 'server.auth.allowUnauthenticated=true', '--set', 'server.idempotency.maxRecords=9000', '--set', 'server.idempotency.maxConfigMaps=0'])).code).to.equal(0);
  });

  it('lets the store, as the server\'s ServiceAccount under the rendered Role, claim, record, release and sweep; and nothing in another namespace', async () => {
    const core = kc.makeApiClient(CoreV1Api);
    const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
    const role = byKind<V1Role>('Role', '-server-idempotency');
    const binding = byKind<V1RoleBinding>('RoleBinding', '-server-idempotency');
    await rbac.createNamespacedRole({ namespace: ns.name, body: role });
    await rbac.createNamespacedRoleBinding({ namespace: ns.name, body: binding });
    const saKubeconfig = await sharedControlPlane().kubeconfigFor(`system:serviceaccount:${ns.name}:${release}-composer-mcp-server`, ['system:serviceaccounts', `system:serviceaccounts:${ns.name}`, 'system:authenticated']);
    const saKc = new KubeConfig();
    saKc.loadFromFile(saKubeconfig);
    // RBAC caches need a moment after the binding; retry the first call briefly.
    const store = new KubernetesIdempotencyStore({ kubeConfig: saKc, namespace: ns.name, staleAfterMs: 60_000, sweepIntervalMs: 0, ttlMs: 1 });
    let first: Awaited<ReturnType<typeof store.claim>> | undefined;
    for (let i = 0; i < 50 && !first; i++) {
      first = await store.claim('key-a', 'sha256:aa').catch(async (error: unknown) => {
        if (apiError(error).status !== 403) throw error;
        await new Promise((r) => setTimeout(r, 100));
        return undefined;
      });
    }
    expect(first).to.deep.equal({ kind: 'claimed' });
    expect(await store.claim('key-a', 'sha256:aa')).to.deep.equal({ kind: 'in-progress', contentKey: 'sha256:aa' });
    await store.set('key-a', { uid: 'H4sI-a', contentKey: 'sha256:aa' });
    expect(await store.get('key-a')).to.deep.equal({ uid: 'H4sI-a', contentKey: 'sha256:aa' });
    expect(await store.claim('key-b', 'sha256:bb')).to.deep.equal({ kind: 'claimed' });
    await store.release('key-b');
    expect(await store.get('key-b')).to.equal(undefined);
    await new Promise((r) => setTimeout(r, 5));
    expect(await store.sweep()).to.equal(1);
    const elsewhere = new KubernetesIdempotencyStore({ kubeConfig: saKc, namespace: other.name, staleAfterMs: 60_000, sweepIntervalMs: 0 });
    const refused = await elsewhere.claim('key-c', 'sha256:cc').then(() => 0, (error: unknown) => apiError(error).status);
    expect(refused).to.equal(403);
    expect((await core.listNamespacedConfigMap({ namespace: other.name })).items.filter((c) => c.metadata?.name?.startsWith('composer-mcp-save-'))).to.deep.equal([]);
  });
});
