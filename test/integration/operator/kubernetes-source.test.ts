import { expect } from 'chai';
import { CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import { BROWSERPOOL_GROUP, BROWSERPOOL_PLURAL, BROWSERPOOL_VERSION, type BrowserPool, type BrowserStatus } from '#kube/api/v1alpha1/browserpool.ts';
import { KubernetesEndpointSource, endpointsFromPool } from '#server/browsers/kubernetes-source.ts';
import type { BrowserEndpoint } from '#server/browsers/endpoint-source.ts';
import { sharedControlPlane } from '#support/control-plane/shared.ts';
import { Pools, createNamespace, ensureCrd, eventually, kubeConfig, testLogger } from './helpers.ts';

const browser = (name: string, state: BrowserStatus['state'], endpoint = `http://10.244.0.${name.length}:9222`): BrowserStatus => ({
  name, state, endpoint, sessions: 0, startedAt: '2026-01-01T00:00:00Z',
});

function pool(browsers: BrowserStatus[]): BrowserPool {
  return {
    apiVersion: 'browser.composer-mcp.io/v1alpha1', kind: 'BrowserPool', metadata: { name: 'p' },
    spec: { maxSessionsPerBrowser: 3 } as BrowserPool['spec'], status: { browsers },
  };
}

describe('endpointsFromPool', () => {
  it('offers Ready browsers as Ready and Draining ones as Draining, nothing else', () => {
    const e = endpointsFromPool(pool([browser('b', 'Draining'), browser('a', 'Ready'), browser('c', 'Starting'), browser('d', 'Failed')]), 'tok');
    expect(e).to.deep.equal([
      { id: 'a', url: 'http://10.244.0.1:9222', token: 'tok', state: 'Ready', maxSessions: 3 },
      { id: 'b', url: 'http://10.244.0.1:9222', token: 'tok', state: 'Draining', maxSessions: 3 },
    ]);
  });

  it('offers nothing without a token, a pool, or an endpoint', () => {
    expect(endpointsFromPool(pool([browser('a', 'Ready')]), undefined)).to.deep.equal([]);
    expect(endpointsFromPool(undefined, 'tok')).to.deep.equal([]);
    expect(endpointsFromPool(pool([browser('a', 'Ready', '')]), 'tok')).to.deep.equal([]);
  });
});

describe('KubernetesEndpointSource against a real API server', function () {
  this.timeout(90_000);
  let kc: KubeConfig;
  let ns: { name: string; remove: () => Promise<void> };
  let source: KubernetesEndpointSource | undefined;

  before(async () => {
    kc = kubeConfig();
    await ensureCrd(kc);
    ns = await createNamespace(kc, 'bp-src');
  });

  after(async () => {
    await source?.stop();
    await ns?.remove();
  });

  const writeStatus = async (browsers: BrowserStatus[]): Promise<void> => {
    await kc.makeApiClient(CustomObjectsApi).patchNamespacedCustomObjectStatus({
      group: BROWSERPOOL_GROUP, version: BROWSERPOOL_VERSION, plural: BROWSERPOOL_PLURAL, namespace: ns.name, name: 'src',
      body: { status: { browsers } },
    }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
  };

  it('follows the pool status and token, and keeps following across an apiserver restart', async () => {
    const pools = new Pools(kc, ns.name);
    await pools.create('src', { replicas: 2 });
    await kc.makeApiClient(CoreV1Api).createNamespacedSecret({
      namespace: ns.name, body: { metadata: { name: 'src-cdp-token' }, stringData: { token: 'first-token-0123456789' } },
    });
    await writeStatus([browser('a', 'Ready'), browser('b', 'Starting')]);
    source = new KubernetesEndpointSource({ kubeConfig: kc, namespace: ns.name, pool: 'src', logger: testLogger('kubernetes-source') });
    const changes: BrowserEndpoint[][] = [];
    source.onChange((e) => changes.push(e));
    await source.start();
    expect(source.current().map((e) => [e.id, e.state, e.token])).to.deep.equal([['a', 'Ready', 'first-token-0123456789']]);

    await writeStatus([browser('a', 'Draining'), browser('b', 'Ready')]);
    await eventually(() => source?.current().map((e) => `${e.id}:${e.state}`).join(',') === 'a:Draining,b:Ready' || undefined, 10_000);
    expect(changes.length).to.be.at.least(1);

    await sharedControlPlane().restartApiserver();
    await eventually(async () => writeStatus([browser('b', 'Ready'), browser('c', 'Ready')]).then(() => true, () => undefined), 30_000);
    await eventually(() => source?.current().map((e) => e.id).join(',') === 'b,c' || undefined, 30_000, () => JSON.stringify(source?.current()));

    await kc.makeApiClient(CoreV1Api).replaceNamespacedSecret({
      namespace: ns.name, name: 'src-cdp-token', body: { metadata: { name: 'src-cdp-token' }, stringData: { token: 'second-token-0123456789' } },
    });
    await eventually(() => source?.current().every((e) => e.token === 'second-token-0123456789') || undefined, 10_000);
  });
});
