import { expect } from 'chai';
import { CoreV1Api, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { CollectingMetricReader as TestReader } from '#support/telemetry/collecting-metric-reader.ts';
import { Controller } from '#kube/runtime/controller.ts';
import { createInformer, type Informer } from '#kube/runtime/informer.ts';
import { ControllerMetrics } from '#kube/runtime/metrics.ts';
import { eventually, testKubeConfig, testNamespace } from './kube-test-kit.ts';

describe('Controller against a real kube-apiserver', function () {
  this.timeout(60_000);
  let kc: KubeConfig;
  let core: CoreV1Api;
  let ns: { name: string; remove(): Promise<void> };
  let informer: Informer<KubernetesObject> | undefined;
  let controller: Controller | undefined;

  before(async () => {
    kc = testKubeConfig();
    core = kc.makeApiClient(CoreV1Api);
    ns = await testNamespace(kc, 'rt-controller');
  });

  after(async () => {
    await controller?.stop(5000);
    await informer?.stop();
    await ns?.remove();
  });

  it('reconciles each ConfigMap, retries a real 409 conflict quietly and converges', async () => {
    await core.createNamespacedConfigMap({ namespace: ns.name, body: { metadata: { name: 'target', labels: { app: 'ctl' } }, data: { want: 'x' } } });
    informer = createInformer<KubernetesObject>(kc, { version: 'v1', plural: 'configmaps', namespace: ns.name }, { labelSelector: 'app=ctl' });
    const reader = new TestReader();
    const metrics = new ControllerMetrics(new MeterProvider({ readers: [reader] }).getMeter('composer-mcp.operator'));
    let attempts = 0;
    controller = new Controller({
      name: 'copy',
      sources: [{ informer }],
      metrics,
      reconcile: async (key) => {
        const [namespace, name] = key.split('/') as [string, string];
        const current = await core.readNamespacedConfigMap({ name, namespace });
        if (current.data?.['done'] === current.data?.['want']) return;
        attempts++;
        if (attempts === 1) {
          // Another writer changes the object between our read and our write: the write must get a 409.
          await core.patchNamespacedConfigMap({ name, namespace, body: [{ op: 'add', path: '/data/other', value: 'y' }] });
        }
        await core.replaceNamespacedConfigMap({
          name,
          namespace,
          body: { ...current, data: { ...current.data, done: current.data?.['want'] ?? '' } },
        });
      },
    });
    expect(await controller.start(AbortSignal.timeout(20_000))).to.equal(true);
    await eventually(async () => {
      const cm = await core.readNamespacedConfigMap({ name: 'target', namespace: ns.name });
      return cm.data?.['done'] === 'x';
    }, 20_000, 'the controller wrote data.done');
    const cm = await core.readNamespacedConfigMap({ name: 'target', namespace: ns.name });
    expect(cm.data).to.deep.equal({ want: 'x', other: 'y', done: 'x' });
    expect(attempts).to.equal(2);
    const collected = await reader.collect();
    const results: Record<string, number> = {};
    for (const scope of collected.resourceMetrics.scopeMetrics) {
      for (const metric of scope.metrics) {
        if (metric.descriptor.name !== 'composer_mcp_operator_reconciles') continue;
        for (const point of metric.dataPoints) results[String(point.attributes['result'])] = point.value as number;
      }
    }
    expect(results['conflict']).to.equal(1);
    expect(results['error']).to.equal(undefined);
    expect(results['success']).to.be.at.least(1);
  });
});
