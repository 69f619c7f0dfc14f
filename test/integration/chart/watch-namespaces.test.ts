import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { CoreV1Api, CustomObjectsApi, KubernetesObjectApi, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { createLogger } from '#common/logger.ts';
import { applyBrowserPoolCrd } from '#support/kube/browserpool-crd.ts';
import { createTestNamespace, eventually, sharedKubeConfig, type TestNamespace } from '#support/control-plane/kube-test-kit.ts';
import { sharedControlPlane } from '#support/control-plane/shared.ts';
import { startPodRunner, type PodRunner } from '#support/pod-runner/pod-runner.ts';
import { CHART_DIR, helmOk, parseManifests, type RenderedObject } from './helm.ts';
import { startLocalProcess, type LocalProcess } from './processes.ts';
import { startRecordingProxy, type RecordingProxy } from './recording-proxy.ts';

type EnvVar = { name: string; value?: string };
type OperatorDeployment = RenderedObject & { spec: { template: { spec: { containers: Array<{ env: EnvVar[] }> } } } };

const POOL_API = { group: 'browser.composer-mcp.io', version: 'v1alpha1', plural: 'browserpools' };
const logger = createLogger({ component: 'chart-test', level: 'warn' });

/**
 * operator.watchNamespaces with several namespaces: the chart grants a Role in each (and nowhere else) and tells
 * the operator the list; the operator, as its ServiceAccount under exactly those Roles, watches each namespace on
 * its own and reconciles the pools there, never needing a cluster-wide grant.
 */
describe('Helm chart: an operator managing several namespaces (real API server, rendered RBAC)', function () {
  this.timeout(120_000);
  const release = 'wn';
  let kc: KubeConfig;
  let home: TestNamespace;
  let teamA: TestNamespace;
  let teamB: TestNamespace;
  let outside: TestNamespace;
  let objects: RenderedObject[];
  let workDir: string;
  let proxy: RecordingProxy | undefined;
  let operator: LocalProcess | undefined;
  let runner: PodRunner | undefined;

  before(async () => {
    kc = sharedKubeConfig();
    await applyBrowserPoolCrd(kc);
    // Short names: the test CA issues user names of at most 64 characters (system:serviceaccount:<ns>:<sa>).
    [home, teamA, teamB, outside] = await Promise.all([
      createTestNamespace(kc, 'wn'), createTestNamespace(kc, 'wna'), createTestNamespace(kc, 'wnb'), createTestNamespace(kc, 'wno'),
    ]);
    workDir = await mkdtemp(path.join(os.tmpdir(), 'chart-watch-ns-'));
    objects = parseManifests(await helmOk([
      'template', release, CHART_DIR, '-n', home.name, '--set', 'server.auth.allowUnauthenticated=true',
      '--set', `operator.watchNamespaces={${teamA.name},${teamB.name}}`, '--set', `browserPool.namespace=${teamA.name}`,
    ]));
  });

  after(async function () {
    this.timeout(60_000);
    await operator?.stop();
    await runner?.stop();
    await proxy?.stop();
    await Promise.all([home, teamA, teamB, outside].map((n) => n?.remove()));
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  const operatorRbac = () => objects.filter((o) => ['ServiceAccount', 'Role', 'RoleBinding', 'ClusterRole', 'ClusterRoleBinding'].includes(o.kind)
    && o.metadata.name.startsWith(`${release}-composer-mcp-operator`));

  it('renders a Role and RoleBinding in each listed namespace, no ClusterRole, and the list in the operator\'s environment', () => {
    const roles = operatorRbac().filter((o) => o.kind === 'Role' && !o.metadata.name.endsWith('-leader-election'));
    expect(roles.map((r) => r.metadata.namespace).toSorted()).to.deep.equal([teamA.name, teamB.name].toSorted());
    const bindings = operatorRbac().filter((o) => o.kind === 'RoleBinding' && !o.metadata.name.endsWith('-leader-election'));
    expect(bindings.map((r) => r.metadata.namespace).toSorted()).to.deep.equal([teamA.name, teamB.name].toSorted());
    expect(operatorRbac().filter((o) => o.kind.startsWith('Cluster'))).to.deep.equal([]);
    const deployment = objects.find((o) => o.kind === 'Deployment' && o.metadata.name.endsWith('-operator')) as OperatorDeployment;
    const env = deployment.spec.template.spec.containers[0]!.env;
    expect(env.find((e) => e.name === 'BROWSERPOOL_OPERATOR_NAMESPACES')?.value).to.equal(`${teamA.name},${teamB.name}`);
  });

  it('lets the operator, as its ServiceAccount, reconcile the pools of both namespaces and leave a third alone, without a forbidden call', async () => {
    const apply = kc.makeApiClient(KubernetesObjectApi);
    for (const object of operatorRbac()) await apply.create(object as KubernetesObject);
    const identity = await sharedControlPlane().kubeconfigFor(`system:serviceaccount:${home.name}:${release}-composer-mcp-operator`, [
      'system:serviceaccounts', `system:serviceaccounts:${home.name}`, 'system:authenticated',
    ]);
    proxy = await startRecordingProxy(identity, path.join(workDir, 'operator.kubeconfig'));
    runner = await startPodRunner({ kubeconfigPath: sharedControlPlane().kubeconfigPath, browserless: true, logger });
    const deployment = objects.find((o) => o.kind === 'Deployment' && o.metadata.name.endsWith('-operator')) as OperatorDeployment;
    const rendered = Object.fromEntries(deployment.spec.template.spec.containers[0]!.env
      .filter((e): e is Required<EnvVar> => e.value !== undefined && e.name.startsWith('BROWSERPOOL_OPERATOR_'))
      .map((e) => [e.name, e.value]));
    operator = startLocalProcess('operator/src/main.ts', {
      ...rendered,
      BROWSERPOOL_OPERATOR_KUBECONFIG: proxy.kubeconfigPath, KUBECONFIG: proxy.kubeconfigPath,
      BROWSERPOOL_OPERATOR_METRICS_PORT: '0', BROWSERPOOL_OPERATOR_HEALTH_PORT: '0', BROWSERPOOL_OPERATOR_LISTEN_HOST: '127.0.0.1',
      POD_NAMESPACE: home.name, POD_NAME: 'operator-under-test', LOG_LEVEL: 'info',
    });
    const started = await operator.waitForLog('Started BrowserPool operator', 60_000);
    expect(started['namespaces']).to.equal(`${teamA.name}, ${teamB.name}`);

    const custom = kc.makeApiClient(CustomObjectsApi);
    const core = kc.makeApiClient(CoreV1Api);
    const create = (namespace: string, name: string) => custom.createNamespacedCustomObject({
      ...POOL_API, namespace, body: { apiVersion: 'browser.composer-mcp.io/v1alpha1', kind: 'BrowserPool', metadata: { name }, spec: { replicas: 1 } },
    });
    const readyReplicas = async (namespace: string, name: string) =>
      ((await custom.getNamespacedCustomObject({ ...POOL_API, namespace, name })) as { status?: { readyReplicas?: number } }).status?.readyReplicas;
    await Promise.all([create(teamA.name, 'a'), create(teamB.name, 'b'), create(outside.name, 'c')]);
    await eventually(async () => (await readyReplicas(teamA.name, 'a')) === 1, 60_000, 'the pool in the first namespace has a Ready browser');
    await eventually(async () => (await readyReplicas(teamB.name, 'b')) === 1, 60_000, 'the pool in the second namespace has a Ready browser');
    expect(await readyReplicas(outside.name, 'c'), 'the pool outside the list has no status').to.equal(undefined);
    expect((await core.listNamespacedPod({ namespace: outside.name })).items).to.deep.equal([]);
    expect(proxy.calls.filter((c) => c.status === 403), 'forbidden calls').to.deep.equal([]);
    expect(proxy.calls.filter((c) => c.namespace === undefined && ['list', 'watch'].includes(c.verb)), 'cluster-wide lists or watches').to.deep.equal([]);
    const watched = new Set(proxy.calls.filter((c) => c.verb === 'watch').map((c) => c.namespace));
    expect([...watched].toSorted()).to.deep.equal([teamA.name, teamB.name].toSorted());
  });
});
