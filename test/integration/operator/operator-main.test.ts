import { expect } from 'chai';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { startOperator, type RunningOperator } from '#operator/main.ts';
import { loadOperatorConfig, watchedNamespaces } from '#operator/config.ts';
import { startPodRunner, type PodRunner } from '#support/pod-runner/pod-runner.ts';
import { Pools, condition, createNamespace, ensureCrd, eventually, kubeConfig, testLogger } from './helpers.ts';

describe('operator entry point (config, leader election, health, metrics)', function () {
  this.timeout(60_000);
  let kc: KubeConfig;
  let ns: { name: string; remove: () => Promise<void> };
  let runner: PodRunner;
  let operator: RunningOperator | undefined;

  before(async () => {
    kc = kubeConfig();
    await ensureCrd(kc);
    ns = await createNamespace(kc, 'bp-main');
    runner = await startPodRunner({ kubeconfigPath: process.env['KUBECONFIG'] ?? '', browserless: true, logger: testLogger('pod-runner') });
  });

  after(async () => {
    await operator?.stop();
    await runner?.stop();
    await ns?.remove();
  });

  it('reads its settings from flags and env, and names every invalid one', () => {
    const c = loadOperatorConfig(['--namespaces=x', '--leader-election.lease-name=my-lease'], { BROWSERPOOL_OPERATOR_LEADER_ELECTION__ENABLED: 'false', BROWSERPOOL_OPERATOR_WORKERS: '2' });
    expect(c.namespaces).to.deep.equal(['x']);
    expect(c.leaderElection.leaseName).to.equal('my-lease');
    expect(c.leaderElection.enabled).to.equal(false);
    expect(c.workers).to.equal(2);
    expect(() => loadOperatorConfig(['--workers=0', '--metrics-port=99999'], {})).to.throw(/workers[\s\S]*metricsPort/);
  });

  it('watches the namespaces it is given, each on its own; its own by default; every one only when asked; and refuses a mix or a bad name', () => {
    const own = 'home';
    expect(watchedNamespaces(loadOperatorConfig([], {}), own)).to.deep.equal(['home']);
    expect(watchedNamespaces(loadOperatorConfig([], { BROWSERPOOL_OPERATOR_NAMESPACES: 'team-a, team-b,team-a' }), own)).to.deep.equal(['team-a', 'team-b']);
    expect(watchedNamespaces(loadOperatorConfig(['--namespaces=["team-c"]'], {}), own)).to.deep.equal(['team-c']);
    expect(watchedNamespaces(loadOperatorConfig(['--all-namespaces'], {}), own)).to.equal(undefined);
    expect(() => loadOperatorConfig(['--all-namespaces', '--namespaces=a,b'], {})).to.throw(/allNamespaces: set together with namespaces \(a, b\): choose one/);
    expect(() => loadOperatorConfig(['--namespaces=team-a,Team_B'], {})).to.throw(/namespaces\.1: must be a namespace name/);
    // The single-namespace setting of earlier versions is refused by name rather than silently ignored.
    expect(() => loadOperatorConfig([], { BROWSERPOOL_OPERATOR_NAMESPACE: 'x' })).to.throw(/unknown setting\(s\) namespace/);
  });

  it('reconciles pools in every namespace of its list and none elsewhere', async () => {
    const second = await createNamespace(kc, 'bp-main-b');
    const outside = await createNamespace(kc, 'bp-main-out');
    let multi: RunningOperator | undefined;
    try {
      multi = await startOperator(loadOperatorConfig([
        `--kubeconfig=${process.env['KUBECONFIG'] ?? ''}`, `--namespaces=${ns.name},${second.name}`, '--leader-election.enabled=false',
        '--metrics-port=0', '--health-port=0', '--listen-host=127.0.0.1', '--identity=multi-test',
      ], {}), testLogger('operator'));
      const inFirst = new Pools(kc, ns.name);
      const inSecond = new Pools(kc, second.name);
      const elsewhere = new Pools(kc, outside.name);
      await Promise.all([inFirst.create('first', { replicas: 1 }), inSecond.create('second', { replicas: 2 }), elsewhere.create('ignored', { replicas: 1 })]);
      await eventually(async () => condition(await inFirst.get('first'), 'Ready')?.status === 'True', 30_000);
      await eventually(async () => (await inSecond.get('second'))?.status?.readyReplicas === 2 || undefined, 30_000);
      // A pool's pods wake its own pool in its own namespace: deleting one in the second namespace is replaced.
      const victim = (await inSecond.pods('second'))[0]?.metadata?.name ?? '';
      await kc.makeApiClient(CoreV1Api).deleteNamespacedPod({ namespace: second.name, name: victim, gracePeriodSeconds: 0 });
      await eventually(async () => {
        const pods = (await inSecond.pods('second')).filter((p) => !p.metadata?.deletionTimestamp);
        return pods.length === 2 && !pods.some((p) => p.metadata?.name === victim) ? true : undefined;
      }, 30_000);
      expect((await elsewhere.get('ignored'))?.status, 'a pool outside the list is left alone').to.equal(undefined);
      expect(await elsewhere.pods('ignored')).to.deep.equal([]);
    } finally {
      await multi?.stop();
      await Promise.all([second.remove(), outside.remove()]);
    }
  });

  it('leads, becomes ready, reconciles a pool and exposes reconcile metrics', async () => {
    const config = loadOperatorConfig([
      `--kubeconfig=${process.env['KUBECONFIG'] ?? ''}`, `--namespaces=${ns.name}`, `--leader-election.namespace=${ns.name}`,
      '--metrics-port=0', '--health-port=0', '--listen-host=127.0.0.1', '--identity=main-test',
    ], {});
    operator = await startOperator(config, testLogger('operator'));
    await eventually(async () => (await fetch(`${operator?.healthUrl}/readyz`)).status === 200, 20_000);
    await eventually(() => operator?.elector?.isLeader() || undefined, 20_000);
    const pools = new Pools(kc, ns.name);
    await pools.create('main', { replicas: 1 });
    await eventually(async () => condition(await pools.get('main'), 'Ready')?.status === 'True', 20_000);
    const metrics = await (await fetch(operator.metricsUrl)).text();
    expect(metrics).to.match(/composer_mcp_operator_reconciles_total\{[^}]*controller="browserpool"[^}]*\} \d+/);
    expect(metrics).to.match(/composer_mcp_operator_workqueue_adds_total\{[^}]*controller="browserpool"[^}]*\} \d+/);
    await operator.stop();
    operator = undefined;
  });
});
