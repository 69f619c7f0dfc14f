import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { createTestNamespace, sharedKubeConfig, type TestNamespace } from '#support/control-plane/kube-test-kit.ts';
import { CoreV1Api, type V1ConfigMap } from '@kubernetes/client-node';
import { CHART_DIR, helmOk, MAXIMAL_VALUES, parseManifests, type RenderedObject } from './helm.ts';

const DASHBOARD_FILE = path.join(CHART_DIR, 'files', 'dashboards', 'composer-mcp.json');

/** The chart needs a confirmed auth mode to render at all; the dashboard does not depend on it. */
const AUTH = ['--set', 'server.auth.allowUnauthenticated=true'];

async function render(extra: string[]): Promise<RenderedObject[]> {
  return parseManifests(await helmOk(['template', 'cmcp', CHART_DIR, '-n', 'tools', ...AUTH, ...extra]));
}

const dashboards = (objects: RenderedObject[]) => objects.filter((o) => o.kind === 'ConfigMap' && o.metadata.name.endsWith('-dashboard'));

describe('Grafana dashboard in the Helm chart (monitoring.grafanaDashboard)', function () {
  this.timeout(120_000);

  it('is off by default', async () => {
    expect(dashboards(await render([]))).to.deep.equal([]);
  });

  it('renders a ConfigMap the Grafana sidecar picks up: its label, the dashboard JSON unchanged, folder annotation', async () => {
    const [cm, ...more] = dashboards(await render(['-f', MAXIMAL_VALUES]));
    expect(more).to.deep.equal([]);
    expect(cm!.metadata.labels).to.include({ grafana_dashboard: '1', 'app.kubernetes.io/part-of': 'composer-mcp' });
    expect(cm!.metadata.annotations).to.deep.equal({ grafana_folder: 'composer-mcp' });
    expect(cm!.metadata.namespace).to.equal('tools');
    const data = (cm as unknown as V1ConfigMap).data!;
    expect(Object.keys(data)).to.deep.equal(['composer-mcp.json']);
    expect(JSON.parse(data['composer-mcp.json']!)).to.deep.equal(JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')));
  });

  it('goes to the namespace and labels the values name (another sidecar label, the monitoring namespace)', async () => {
    const [cm] = dashboards(await render(['--set', 'monitoring.grafanaDashboard.enabled=true', '--set', 'monitoring.grafanaDashboard.namespace=monitoring',
      '--set', 'monitoring.grafanaDashboard.labels.grafana_dashboard=null', '--set', 'monitoring.grafanaDashboard.labels.dashboards=composer']));
    expect(cm!.metadata.namespace).to.equal('monitoring');
    expect(cm!.metadata.labels).to.include({ dashboards: 'composer' });
    expect(cm!.metadata.labels).to.not.have.property('grafana_dashboard');
  });

  describe('against a real API server', () => {
    let ns: TestNamespace;
    before(async () => {
      ns = await createTestNamespace(sharedKubeConfig(), 'dashboard');
    });
    after(async () => {
      await ns.remove();
    });

    it('is accepted by the API server and reads back as the same dashboard', async () => {
      const [cm] = dashboards(parseManifests(await helmOk(['template', 'cmcp', CHART_DIR, '-n', ns.name, ...AUTH, '--set', 'monitoring.grafanaDashboard.enabled=true'])));
      const core = sharedKubeConfig().makeApiClient(CoreV1Api);
      await core.createNamespacedConfigMap({ namespace: ns.name, body: cm as unknown as V1ConfigMap });
      const stored = await core.readNamespacedConfigMap({ namespace: ns.name, name: cm!.metadata.name });
      expect(JSON.parse(stored.data!['composer-mcp.json']!)).to.deep.equal(JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')));
      const selected = await core.listNamespacedConfigMap({ namespace: ns.name, labelSelector: 'grafana_dashboard=1' });
      expect(selected.items.map((i) => i.metadata!.name)).to.deep.equal([cm!.metadata.name]);
    });
  });
});
