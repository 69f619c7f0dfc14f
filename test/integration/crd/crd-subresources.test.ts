import { expect } from 'chai';
import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { applyBrowserPoolCrd } from '#support/kube/browserpool-crd.ts';
import {
  BROWSERPOOL_API_VERSION,
  BROWSERPOOL_GROUP,
  BROWSERPOOL_KIND,
  BROWSERPOOL_PLURAL,
  BROWSERPOOL_VERSION,
  type BrowserPool,
  type BrowserPoolStatus,
} from '#kube/api/v1alpha1/browserpool.ts';
import {
  createTestNamespace,
  expectApiFailure,
  mergePatch,
  sharedKubeConfig,
  type TestNamespace,
} from '#support/control-plane/kube-test-kit.ts';
import { kubectl } from '#support/control-plane/kubectl.ts';
import { sharedControlPlane } from '#support/control-plane/shared.ts';

interface Scale {
  spec: { replicas?: number };
  status: { replicas: number; selector?: string };
}

const NOW = '2026-01-01T00:00:00Z';

function status(generation: number, ready: number): BrowserPoolStatus {
  return {
    observedGeneration: generation,
    replicas: 2,
    readyReplicas: ready,
    selector: 'browser.composer-mcp.io/pool=scaled',
    conditions: [
      { type: 'Ready', status: ready >= 2 ? 'True' : 'False', reason: ready >= 2 ? 'AllBrowsersReady' : 'BrowsersStarting',
        message: `${ready} of 2 browsers ready`, observedGeneration: generation, lastTransitionTime: NOW },
      { type: 'Available', status: ready > 0 ? 'True' : 'False', reason: 'SomeBrowsersReady', message: 'ok',
        observedGeneration: generation, lastTransitionTime: NOW },
    ],
    browsers: [
      { name: 'scaled-a', endpoint: 'http://10.1.0.5:9222', state: 'Ready', sessions: 1, startedAt: NOW },
      { name: 'scaled-b', endpoint: 'http://10.1.0.6:9222', state: ready >= 2 ? 'Ready' : 'Starting', sessions: 0, startedAt: NOW },
    ],
  };
}

describe('BrowserPool status and scale subresources (real kube-apiserver)', function () {
  this.timeout(60_000);
  let kc: KubeConfig;
  let custom: CustomObjectsApi;
  let ns: TestNamespace;
  const target = () => ({ group: BROWSERPOOL_GROUP, version: BROWSERPOOL_VERSION, plural: BROWSERPOOL_PLURAL, namespace: ns.name });
  const read = async (name: string) => (await custom.getNamespacedCustomObject({ ...target(), name })) as BrowserPool;
  const create = (name: string, spec: Record<string, unknown>) =>
    custom.createNamespacedCustomObject({ ...target(), body: { apiVersion: BROWSERPOOL_API_VERSION, kind: BROWSERPOOL_KIND, metadata: { name }, spec } });

  before(async () => {
    kc = sharedKubeConfig();
    await applyBrowserPoolCrd(kc);
    custom = kc.makeApiClient(CustomObjectsApi);
    ns = await createTestNamespace(kc, 'crd-subresources');
  });

  after(async () => {
    await ns?.remove();
  });

  it('writes status through /status without bumping generation, and ignores spec changes sent there', async () => {
    await create('status', { replicas: 2 });
    const written = (await custom.patchNamespacedCustomObjectStatus(
      { ...target(), name: 'status', body: { spec: { replicas: 9 }, status: status(1, 1) } }, mergePatch(),
    )) as BrowserPool;
    expect(written.metadata.generation).to.equal(1);
    expect(written.spec.replicas).to.equal(2);
    expect(written.status).to.deep.equal(status(1, 1));

    // A spec change bumps generation; a status sent to the main resource is ignored.
    const updated = (await custom.patchNamespacedCustomObject(
      { ...target(), name: 'status', body: { spec: { replicas: 3 }, status: { readyReplicas: 0 } } }, mergePatch(),
    )) as BrowserPool;
    expect(updated.metadata.generation).to.equal(2);
    expect(updated.status?.readyReplicas).to.equal(1);
  });

  it('keys status.conditions by type and status.browsers by name (duplicates are rejected)', async () => {
    await create('listmaps', {});
    const duplicate = status(1, 2);
    duplicate.conditions?.push({ ...duplicate.conditions[0]!, reason: 'Again' });
    const failure = await expectApiFailure(custom.patchNamespacedCustomObjectStatus(
      { ...target(), name: 'listmaps', body: { status: duplicate } }, mergePatch(),
    ));
    expect(failure.status).to.equal(422);
    expect(failure.message).to.contain('status.conditions[2]: Duplicate value');

    const badState = status(1, 2);
    badState.browsers![0]!.state = 'Sleeping' as 'Ready';
    const stateFailure = await expectApiFailure(custom.patchNamespacedCustomObjectStatus(
      { ...target(), name: 'listmaps', body: { status: badState } }, mergePatch(),
    ));
    expect(stateFailure.message).to.contain('status.browsers[0].state: Unsupported value: "Sleeping"');
  });

  it('scales with the built kubectl: kubectl scale bp/<name> --replicas=5 sets .spec.replicas', async () => {
    await create('scaled', { replicas: 2 });
    const kubeconfig = sharedControlPlane().kubeconfigPath;
    const result = await kubectl(['scale', '-n', ns.name, 'bp/scaled', '--replicas=5'], kubeconfig);
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout).to.contain('browserpool.browser.composer-mcp.io/scaled scaled');
    expect((await read('scaled')).spec.replicas).to.equal(5);
  });

  it('scales through the API: the scale subresource reads status.replicas and status.selector and writes spec.replicas', async () => {
    await create('api-scaled', { replicas: 2 });
    await custom.patchNamespacedCustomObjectStatus({ ...target(), name: 'api-scaled', body: { status: status(1, 2) } }, mergePatch());
    const scale = (await custom.getNamespacedCustomObjectScale({ ...target(), name: 'api-scaled' })) as Scale;
    expect(scale.spec.replicas).to.equal(2);
    expect(scale.status).to.deep.equal({ replicas: 2, selector: 'browser.composer-mcp.io/pool=scaled' });

    await custom.patchNamespacedCustomObjectScale({ ...target(), name: 'api-scaled', body: { spec: { replicas: 7 } } }, mergePatch());
    const pool = await read('api-scaled');
    expect(pool.spec.replicas).to.equal(7);
    expect(pool.metadata.generation).to.equal(2);
  });

  it('refuses a scale outside the autoscaling bounds with the CEL message', async () => {
    await create('bounded', { replicas: 2, autoscaling: { minReplicas: 1, maxReplicas: 4 } });
    const failure = await expectApiFailure(custom.patchNamespacedCustomObjectScale(
      { ...target(), name: 'bounded', body: { spec: { replicas: 10 } } }, mergePatch(),
    ));
    expect(failure.status).to.equal(422);
    expect(failure.message).to.contain('replicas must be between autoscaling.minReplicas and autoscaling.maxReplicas');
    expect((await read('bounded')).spec.replicas).to.equal(2);
  });

  it('prints Desired (what the operator steers towards, not spec.replicas), Current, Ready, Status (reason of Ready) and Age in kubectl get', async () => {
    await create('printed', { replicas: 2, autoscaling: { minReplicas: 1, maxReplicas: 6 } });
    await custom.patchNamespacedCustomObjectStatus({ ...target(), name: 'printed', body: { status: { ...status(1, 1), desiredReplicas: 5 } } }, mergePatch());
    const result = await kubectl(['get', 'bp', 'printed', '-n', ns.name], sharedControlPlane().kubeconfigPath);
    expect(result.code, result.stderr).to.equal(0);
    const [header, row] = result.stdout.trim().split('\n').map((line) => line.trim().split(/\s+/));
    expect(header).to.deep.equal(['NAME', 'DESIRED', 'CURRENT', 'READY', 'STATUS', 'AGE']);
    expect(row?.slice(0, 5)).to.deep.equal(['printed', '5', '2', '1', 'BrowsersStarting']);
    // The scale subresource still reads and writes what HPA and kubectl scale expect.
    const scale = (await custom.getNamespacedCustomObjectScale({ ...target(), name: 'printed' })) as Scale;
    expect(scale.spec.replicas).to.equal(2);
    expect(scale.status.replicas).to.equal(2);
  });
});
