import { expect } from 'chai';
import { CoreV1Api, NetworkingV1Api, PatchStrategy, setHeaderOptions, type KubeConfig, type V1NetworkPolicy } from '@kubernetes/client-node';
import { tokenOf } from '#kube/api/v1alpha1/contract.ts';
import { isNotFound } from '#kube/runtime/kube-errors.ts';
import { startPodRunner, type PodRunner } from '#support/pod-runner/pod-runner.ts';
import {
  Pools, createNamespace, ensureCrd, eventually, kubeConfig, startTestOperator, testLogger, type TestOperator,
} from './helpers.ts';

const jsonPatch = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);
const POOL = 'kept';

describe('every object a pool owns is kept as declared: deleted or edited, it is put back (real API server)', function () {
  this.timeout(120_000);
  let kc: KubeConfig;
  let ns: { name: string; remove: () => Promise<void> };
  let runner: PodRunner;
  let operator: TestOperator;
  let pools: Pools;
  let core: CoreV1Api;
  let net: NetworkingV1Api;

  const readPolicy = async (): Promise<V1NetworkPolicy | undefined> =>
    net.readNamespacedNetworkPolicy({ namespace: ns.name, name: `${POOL}-cdp` }).catch((err: unknown) => {
      if (isNotFound(err)) return undefined;
      throw err;
    });
  const readSecret = () => core.readNamespacedSecret({ namespace: ns.name, name: `${POOL}-cdp-token` }).catch((err: unknown) => {
    if (isNotFound(err)) return undefined;
    throw err;
  });
  const livePods = async () => (await pools.pods(POOL)).filter((p) => !p.metadata?.deletionTimestamp);

  before(async () => {
    kc = kubeConfig();
    core = kc.makeApiClient(CoreV1Api);
    net = kc.makeApiClient(NetworkingV1Api);
    await ensureCrd(kc);
    ns = await createNamespace(kc, 'bp-kept');
    runner = await startPodRunner({ kubeconfigPath: process.env['KUBECONFIG'] ?? '', browserless: true, logger: testLogger('pod-runner') });
    operator = await startTestOperator(kc, { namespace: ns.name });
    pools = new Pools(kc, ns.name);
    await pools.create(POOL, { replicas: 2 });
    await eventually(async () => (await pools.get(POOL))?.status?.readyReplicas === 2 || undefined, 30_000);
  });

  after(async () => {
    await operator?.stop();
    await runner?.stop();
    await ns?.remove();
  });

  it('a deleted NetworkPolicy comes back', async () => {
    const before = await readPolicy();
    expect(before?.spec?.ingress?.[0]?.ports?.[0]?.port).to.equal(9222);
    await net.deleteNamespacedNetworkPolicy({ namespace: ns.name, name: `${POOL}-cdp` });
    const after = await eventually(async () => {
      const np = await readPolicy();
      return np && np.metadata?.uid !== before?.metadata?.uid ? np : undefined;
    }, 15_000, () => 'the NetworkPolicy was not recreated');
    expect(after.spec).to.deep.equal(before?.spec);
  });

  it('an edited NetworkPolicy (port opened, a peer added, its pod selector widened) is put back', async () => {
    const before = await readPolicy();
    await net.patchNamespacedNetworkPolicy({
      namespace: ns.name, name: `${POOL}-cdp`,
      body: [
        { op: 'replace', path: '/spec/ingress/0/ports/0/port', value: 1234 },
        { op: 'add', path: '/spec/ingress/0/from/-', value: { ipBlock: { cidr: '0.0.0.0/0' } } },
        { op: 'replace', path: '/spec/podSelector', value: { matchLabels: { nothing: 'here' } } },
      ],
    }, jsonPatch);
    const after = await eventually(async () => {
      const np = await readPolicy();
      return np && np.metadata?.resourceVersion !== before?.metadata?.resourceVersion &&
        JSON.stringify(np.spec) === JSON.stringify(before?.spec) ? np : undefined;
    }, 15_000, async () => `the NetworkPolicy is still ${JSON.stringify((await readPolicy())?.spec)}`);
    expect(after.spec?.ingress?.[0]?.ports?.[0]?.port).to.equal(9222);
  });

  it('a deleted token Secret comes back with the same token', async () => {
    const before = await readSecret();
    const token = tokenOf(before);
    expect(token).to.be.a('string');
    await core.deleteNamespacedSecret({ namespace: ns.name, name: `${POOL}-cdp-token` });
    const after = await eventually(async () => {
      const s = await readSecret();
      return s && s.metadata?.uid !== before?.metadata?.uid ? s : undefined;
    }, 15_000, () => 'the Secret was not recreated');
    expect(tokenOf(after), 'the same token').to.equal(token);
  });

  it('an edited token Secret (labels and owner stripped, token removed) is put back', async () => {
    const before = await readSecret();
    await core.patchNamespacedSecret({
      namespace: ns.name, name: `${POOL}-cdp-token`,
      body: [
        { op: 'remove', path: '/metadata/labels/browser.composer-mcp.io~1pool' },
        { op: 'remove', path: '/metadata/ownerReferences' },
        { op: 'remove', path: '/data/token' },
      ],
    }, jsonPatch);
    const after = await eventually(async () => {
      const s = await readSecret();
      return s?.metadata?.labels?.['browser.composer-mcp.io/pool'] === POOL && s.metadata.ownerReferences?.[0]?.controller && tokenOf(s) ? s : undefined;
    }, 15_000, async () => `the Secret is still ${JSON.stringify((await readSecret())?.metadata)}`);
    expect(tokenOf(after)).to.equal(tokenOf(before));
  });

  it('every pool gets an egress NetworkPolicy: DNS plus its allowed origins\' addresses and ports, never 0.0.0.0/0, kept as declared', async () => {
    await pools.create('out', { replicas: 0, egress: { allowedOrigins: ['https://127.0.0.1:8443', 'http://localhost:9000'] } });
    const read = () => net.readNamespacedNetworkPolicy({ namespace: ns.name, name: 'out-egress' }).catch((err: unknown) => {
      if (isNotFound(err)) return undefined;
      throw err;
    });
    const np = await eventually(read, 15_000, () => 'no egress NetworkPolicy');
    expect(np.spec?.policyTypes).to.deep.equal(['Egress']);
    expect(np.spec?.podSelector?.matchLabels).to.deep.equal({ 'app.kubernetes.io/name': 'composer-mcp-browser', 'browser.composer-mcp.io/pool': 'out' });
    const [dns, ...origins] = np.spec?.egress ?? [];
    expect(dns?.ports?.map((p) => `${p.protocol}/${p.port}`)).to.deep.equal(['UDP/53', 'TCP/53']);
    const allowed = origins.flatMap((r) => (r.to ?? []).flatMap((peer) => (r.ports ?? []).map((p) => `${peer.ipBlock?.cidr} ${p.protocol}/${p.port}`)));
    expect(allowed).to.include('127.0.0.1/32 TCP/8443');
    expect(allowed.filter((a) => a.endsWith('TCP/9000')).length, 'localhost resolved').to.be.greaterThan(0);
    expect(JSON.stringify(np.spec)).to.not.include('0.0.0.0/0');
    // The default pool of this suite allows no origin: DNS only.
    expect((await net.readNamespacedNetworkPolicy({ namespace: ns.name, name: `${POOL}-egress` })).spec?.egress).to.have.length(1);
    await net.deleteNamespacedNetworkPolicy({ namespace: ns.name, name: 'out-egress' });
    await eventually(async () => {
      const again = await read();
      return again && again.metadata?.uid !== np.metadata?.uid ? again : undefined;
    }, 15_000, () => 'the egress NetworkPolicy was not recreated');
  });

  it('a pod whose labels were edited gets them back, and is not replaced', async () => {
    const [first, second] = await livePods();
    const uids = new Set((await livePods()).map((p) => p.metadata?.uid));
    // One pod moved to another pool and stripped of its instance label; another stripped of the label the
    // operator watches by (it leaves the operator's cache as if deleted).
    await core.patchNamespacedPod({
      namespace: ns.name, name: first!.metadata!.name!,
      body: [
        { op: 'replace', path: '/metadata/labels/browser.composer-mcp.io~1pool', value: 'elsewhere' },
        { op: 'remove', path: '/metadata/labels/app.kubernetes.io~1instance' },
      ],
    }, jsonPatch);
    await core.patchNamespacedPod({
      namespace: ns.name, name: second!.metadata!.name!,
      body: [{ op: 'remove', path: '/metadata/labels/app.kubernetes.io~1name' }],
    }, jsonPatch);
    const restored = (labels: Record<string, string> | undefined) =>
      labels?.['browser.composer-mcp.io/pool'] === POOL && labels['app.kubernetes.io/instance'] === POOL && labels['app.kubernetes.io/name'] === 'composer-mcp-browser';
    await eventually(async () => {
      const pods = await Promise.all([first, second].map((p) => core.readNamespacedPod({ namespace: ns.name, name: p!.metadata!.name! })));
      return pods.every((p) => restored(p.metadata?.labels)) || undefined;
    }, 15_000, () => 'the labels were not restored');
    await new Promise((r) => setTimeout(r, 2000));
    const all = await core.listNamespacedPod({ namespace: ns.name });
    const owned = all.items.filter((p) => p.metadata?.ownerReferences?.some((o) => o.name === POOL) && !p.metadata?.deletionTimestamp);
    expect(new Set(owned.map((p) => p.metadata?.uid)), 'the same two pods, no replacement').to.deep.equal(uids);
  });
});
