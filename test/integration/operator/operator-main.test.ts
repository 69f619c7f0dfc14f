import { expect } from 'chai';
import type { KubeConfig } from '@kubernetes/client-node';
import { startOperator, type RunningOperator } from '#operator/main.ts';
import { loadOperatorConfig } from '#operator/config.ts';
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
    const c = loadOperatorConfig(['--namespace=x', '--leader-election.lease-name=my-lease'], { BROWSERPOOL_OPERATOR_LEADER_ELECTION__ENABLED: 'false', BROWSERPOOL_OPERATOR_WORKERS: '2' });
    expect(c.namespace).to.equal('x');
    expect(c.leaderElection.leaseName).to.equal('my-lease');
    expect(c.leaderElection.enabled).to.equal(false);
    expect(c.workers).to.equal(2);
    expect(() => loadOperatorConfig(['--workers=0', '--metrics-port=99999'], {})).to.throw(/workers[\s\S]*metricsPort/);
  });

  it('leads, becomes ready, reconciles a pool and exposes reconcile metrics', async () => {
    const config = loadOperatorConfig([
      `--kubeconfig=${process.env['KUBECONFIG'] ?? ''}`, `--namespace=${ns.name}`, `--leader-election.namespace=${ns.name}`,
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
