import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { parse as parseYaml } from 'yaml';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createLogger } from '#common/logger.ts';
import { operatorConfigSchema } from '#operator/config.ts';
import { SERVER_QUEUE_METRIC } from '#kube/api/v1alpha1/contract.ts';
import { sumOfMetric } from '#operator/controllers/browserpool/demand-reader.ts';
import { SERVER_ENV_PREFIX, serverConfigSchema } from '#server/config.ts';
import { taskStoreKind } from '#server/mcp/tasks/build-task-store.ts';
import { loadConfig } from '#common/config.ts';
import { settingRows } from '../../../scripts/config-reference.ts';
import { kubectl } from '#support/control-plane/kubectl.ts';
import { createTestNamespace, eventually, mergePatch, sharedKubeConfig, type TestNamespace } from '#support/control-plane/kube-test-kit.ts';
import { sharedControlPlane } from '#support/control-plane/shared.ts';
import { startPodRunner, type PodRunner } from '#support/pod-runner/pod-runner.ts';
import { CHART_DIR, helm, helmOk, MAXIMAL_VALUES, parseManifests, type RenderedObject } from './helm.ts';
import { startLocalProcess, type LocalProcess } from './processes.ts';
import { startRecordingProxy, type RecordingProxy } from './recording-proxy.ts';
import { callPairs, grantedPairs, OPERATOR_LEASE_CALLS, OPERATOR_POOL_CALLS, SERVER_CALLS } from './used-api-calls.ts';

const REPO = path.resolve(CHART_DIR, '..', '..');
const CRD_FILE = path.join(REPO, 'crds', 'browser.composer-mcp.io_browserpools.yaml');
const POOL_API = { group: 'browser.composer-mcp.io', version: 'v1alpha1', plural: 'browserpools' };
const logger = createLogger({ component: 'chart-test', level: 'warn' });

/**
 * Minimal stand-ins for the Prometheus Operator's CRDs, so ServiceMonitor and PrometheusRule objects can be
 * validated by the API server too (kind and group exist; their inside is not validated here).
 */
const MONITORING_STANDIN_CRDS = ['servicemonitors:ServiceMonitor', 'prometheusrules:PrometheusRule'].map((pair) => {
  const [plural, kind] = pair.split(':') as [string, string];
  return {
    apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.monitoring.coreos.com` },
    spec: {
      group: 'monitoring.coreos.com', scope: 'Namespaced',
      names: { plural, kind, singular: kind.toLowerCase(), listKind: `${kind}List` },
      versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
    },
  };
});

async function kubectlOk(args: string[], kubeconfig: string): Promise<string> {
  const r = await kubectl(args, kubeconfig, 60_000);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}):\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** The chart refuses auth.mode=none without this confirmation; the tests install it as a trusted private setup. */
const ALLOW_NO_AUTH = ['--set', 'server.auth.allowUnauthenticated=true'];

async function render(release: string, namespace: string, extra: string[] = []): Promise<RenderedObject[]> {
  return parseManifests(await helmOk(['template', release, CHART_DIR, '-n', namespace, ...ALLOW_NO_AUTH, ...extra]));
}

function find(objects: RenderedObject[], kind: string, nameSuffix: string): RenderedObject {
  const found = objects.find((o) => o.kind === kind && o.metadata.name.endsWith(nameSuffix));
  if (!found) throw new Error(`No ${kind} *${nameSuffix} in the rendered chart (have ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')})`);
  return found;
}

/** A client-certificate kubeconfig for a ServiceAccount's user name and groups, as the API server sees a pod's token. */
function serviceAccountKubeconfig(namespace: string, name: string): Promise<string> {
  return sharedControlPlane().kubeconfigFor(`system:serviceaccount:${namespace}:${name}`, [
    'system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated',
  ]);
}

async function scrape(url: string): Promise<string> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  expect(res.status, `GET ${url}`).to.equal(200);
  return res.text();
}

/** Metric names an alert expression reads (PromQL identifiers followed by `{`, `)` or `[`, or compared), kube-state-metrics excluded. */
export function alertMetricNames(alertsYaml: string): string[] {
  const rules = parseYaml(alertsYaml.replaceAll(/\{\{[^}]*\}\}/g, '1')) as Array<{ expr: string }>;
  const names = new Set<string>();
  const keywords = new Set(['sum', 'by', 'max', 'min', 'rate', 'increase', 'and', 'on', 'or', 'unless', 'avg', 'count', 'without', 'ignoring', 'group_left', 'group_right', 'histogram_quantile']);
  for (const rule of rules) {
    const expr = rule.expr.replaceAll(/\{[^}]*\}/g, '{}').replaceAll(/\([^()]*\)\s*(?=\()/g, '');
    for (const m of expr.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(?=\{|\[|\)|\s*(?:==|>|<|!=|$))/g)) {
      const name = m[1]!;
      if (keywords.has(name) || name.startsWith('kube_') || /^\d/.test(name)) continue;
      if (expr.includes(`(${name})`) && !name.includes('_')) continue;
      if (name.includes('_')) names.add(name);
    }
  }
  return [...names].toSorted();
}

/** Pairs the scenario must have used (exercised entries of `list`) that are missing from `used`. */
function unused(list: typeof SERVER_CALLS, used: string[]): string[] {
  return callPairs(list.filter((c) => c.exercisedByScenario)).filter((p) => !used.includes(p));
}

describe('Helm chart (charts/composer-mcp) against a real API server', function () {
  this.timeout(120_000);
  let admin: string;
  let kc: KubeConfig;

  before(async () => {
    admin = sharedControlPlane().kubeconfigPath;
    kc = sharedKubeConfig();
    // The CRD first, so BrowserPool objects can be validated; CRDs stay (as the chart's keep policy leaves them).
    await kubectlOk(['apply', '--server-side', '--force-conflicts', '--field-manager=chart-test', '-f', CRD_FILE], admin);
    await kubectlOk(['wait', '--for=condition=Established', '--timeout=60s', 'crd/browserpools.browser.composer-mcp.io'], admin);
  });

  describe('lint and render', () => {
    it('passes helm lint --strict with the default and the maximal values', async () => {
      await helmOk(['lint', '--strict', CHART_DIR, ...ALLOW_NO_AUTH]);
      await helmOk(['lint', '--strict', CHART_DIR, '-f', MAXIMAL_VALUES]);
    });

    it('renders the operator, server, RBAC, CRD and default pool with the default values', async () => {
      const objects = await render('cmcp', 'tools');
      const kinds = objects.map((o) => `${o.kind}/${o.metadata.name}`);
      expect(kinds).to.include.members([
        'CustomResourceDefinition/browserpools.browser.composer-mcp.io', 'Deployment/cmcp-composer-mcp-operator',
        'Deployment/cmcp-composer-mcp-server', 'Role/cmcp-composer-mcp-operator', 'Role/cmcp-composer-mcp-server',
        'Role/cmcp-composer-mcp-operator-leader-election', 'PodDisruptionBudget/cmcp-composer-mcp-operator',
        'Service/cmcp-composer-mcp-operator', 'HorizontalPodAutoscaler/cmcp-composer-mcp-server', 'BrowserPool/default',
      ]);
      expect(find(objects, 'CustomResourceDefinition', 'composer-mcp.io').metadata.annotations?.['helm.sh/resource-policy']).to.equal('keep');
      const operator = find(objects, 'Deployment', '-operator') as { spec: { replicas: number; template: { spec: { containers: Array<{ env: Array<{ name: string; value?: string }> }> } } } } & RenderedObject;
      expect(operator.spec.replicas).to.equal(2);
      const env = Object.fromEntries(operator.spec.template.spec.containers[0]!.env.map((e) => [e.name, e.value]));
      expect(env['BROWSERPOOL_OPERATOR_LEADER_ELECTION__ENABLED']).to.equal('true');
      expect(env['BROWSERPOOL_OPERATOR_LEADER_ELECTION__LEASE_NAME']).to.equal('cmcp-composer-mcp-operator');
      const metrics = find(objects, 'Service', '-operator') as RenderedObject & { spec: { ports: Array<{ name: string }> } };
      expect(metrics.spec.ports.map((p) => p.name)).to.deep.equal(['metrics']);
      expect(objects.some((o) => o.apiVersion.startsWith('monitoring.coreos.com'))).to.equal(false);
    });

    it('caps the operator\'s V8 heap (operator.nodeOptions → NODE_OPTIONS) below its container memory limit', async () => {
      type Container = { env: Array<{ name: string; value?: string }>; resources: { limits: { memory: string } } };
      const operatorContainer = async (extra: string[]): Promise<Container> => {
        const deployment = find(await render('cmcp', 'tools', extra), 'Deployment', '-operator') as RenderedObject & { spec: { template: { spec: { containers: Container[] } } } };
        return deployment.spec.template.spec.containers[0]!;
      };
      const container = await operatorContainer([]);
      const nodeOptions = container.env.find((e) => e.name === 'NODE_OPTIONS')?.value;
      expect(nodeOptions).to.equal('--max-old-space-size=128 --max-semi-space-size=2');
      expect(container.resources.limits.memory).to.equal('256Mi');
      // The rendered options are ones Node accepts in NODE_OPTIONS, and they set the heap limit the operator runs with.
      const heapLimit = Number(execFileSync(process.execPath, ['-e', 'console.log(require("node:v8").getHeapStatistics().heap_size_limit)'], {
        env: { PATH: process.env['PATH'], NODE_OPTIONS: nodeOptions }, encoding: 'utf8', timeout: 10_000,
      }).trim());
      expect(heapLimit).to.be.within(128 * 2 ** 20, 160 * 2 ** 20);
      expect(heapLimit, 'V8 heap limit below the 256Mi container limit').to.be.lessThan(256 * 2 ** 20);
      expect((await operatorContainer(['--set', 'operator.nodeOptions='])).env.map((e) => e.name)).to.not.include('NODE_OPTIONS');
      // Two glibc malloc arenas by default (operator.mallocArenaMax); 0 leaves glibc's default.
      expect(container.env.find((e) => e.name === 'MALLOC_ARENA_MAX')?.value).to.equal('2');
      expect((await operatorContainer(['--set', 'operator.mallocArenaMax=0'])).env.map((e) => e.name)).to.not.include('MALLOC_ARENA_MAX');
    });

    it('refuses auth.mode=none unless confirmed, and always with a LoadBalancer or NodePort Service', async () => {
      const refused = await helm(['template', 'cmcp', CHART_DIR]);
      expect(refused.code).to.not.equal(0);
      expect(refused.stderr).to.contain('server.auth.mode is none: every pod the server\'s NetworkPolicy admits could act with the server\'s Composer credentials');
      expect(refused.stderr).to.contain('server.auth.allowUnauthenticated=true');
      for (const type of ['LoadBalancer', 'NodePort']) {
        const exposed = await helm(['template', 'cmcp', CHART_DIR, ...ALLOW_NO_AUTH, '--set', `server.service.type=${type}`]);
        expect(exposed.code, type).to.not.equal(0);
        expect(exposed.stderr).to.contain(`server.auth.mode is none and server.service.type is ${type}`);
      }
      expect((await helm(['template', 'cmcp', CHART_DIR, '-f', MAXIMAL_VALUES, '--set', 'server.service.type=LoadBalancer'])).code, 'jwt may be exposed').to.equal(0);
    });

    it('manages the release namespace only by default (a Role, no ClusterRole); every namespace only when clusterWide is set', async () => {
      const objects = await render('cmcp', 'tools');
      expect(objects.filter((o) => o.kind === 'ClusterRole' || o.kind === 'ClusterRoleBinding')).to.deep.equal([]);
      const role = find(objects, 'Role', '-operator') as RenderedObject & { rules: Array<{ resources?: string[] }> };
      expect(role.metadata.namespace).to.equal('tools');
      expect(role.rules.some((r) => r.resources?.includes('secrets'))).to.equal(true);
      const env = (find(objects, 'Deployment', '-operator') as unknown as { spec: { template: { spec: { containers: Array<{ env: Array<{ name: string; value?: string }> }> } } } })
        .spec.template.spec.containers[0]!.env;
      expect(env.find((e) => e.name === 'BROWSERPOOL_OPERATOR_NAMESPACES')?.value).to.equal('tools');
      const wide = await render('cmcp', 'tools', ['--set', 'operator.clusterWide=true']);
      expect(wide.map((o) => o.kind)).to.include('ClusterRole');
      const wideEnv = (find(wide, 'Deployment', '-operator') as unknown as { spec: { template: { spec: { containers: Array<{ env: Array<{ name: string; value?: string }> }> } } } })
        .spec.template.spec.containers[0]!.env;
      expect(wideEnv.find((e) => e.name === 'BROWSERPOOL_OPERATOR_ALL_NAMESPACES')?.value).to.equal('true');
      expect(wideEnv.some((e) => e.name === 'BROWSERPOOL_OPERATOR_NAMESPACES')).to.equal(false);
      expect((await helm(['template', 'cmcp', CHART_DIR, ...ALLOW_NO_AUTH, '--set', 'operator.clusterWide=true', '--set', 'operator.watchNamespaces={a}'])).code).to.not.equal(0);
    });

    it('admits only labelled clients, the operator and the listed namespaces to the server; the pool carries its egress origins', async () => {
      const objects = await render('cmcp', 'tools');
      const np = find(objects, 'NetworkPolicy', '-server') as RenderedObject & { spec: { ingress: Array<{ from: Array<Record<string, { matchLabels?: Record<string, string> }>> }> } };
      const peers = np.spec.ingress[0]!.from;
      expect(peers.every((p) => Object.keys(p['podSelector']?.matchLabels ?? p['namespaceSelector']?.matchLabels ?? {}).length > 0), 'no empty selector').to.equal(true);
      expect(peers[0]!['podSelector']!.matchLabels).to.deep.equal({ 'composer-mcp.io/client': 'true' });
      expect(peers[1]!['podSelector']!.matchLabels).to.include({ 'app.kubernetes.io/component': 'operator' });
      const pool = find(objects, 'BrowserPool', 'default') as RenderedObject & { spec: { egress: { allowedOrigins: string[] } } };
      expect(pool.spec.egress.allowedOrigins).to.deep.equal(['https://composer.euconquisto.com', 'https://api.digitalpages.com.br']);
      expect(objects.filter((o) => o.kind === 'NetworkPolicy').map((o) => o.metadata.name), 'no chart-wide browser egress policy').to.deep.equal(['cmcp-composer-mcp-server']);
    });

    it('renders every optional object with the maximal values (Role per watched namespace, monitoring, JWT auth)', async () => {
      const objects = await render('cmcp', 'tools', ['-f', MAXIMAL_VALUES]);
      const kinds = objects.map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`);
      expect(kinds).to.include.members([
        'Role/browsers-a/cmcp-composer-mcp-operator', 'RoleBinding/browsers-a/cmcp-composer-mcp-operator',
        'ServiceMonitor/tools/cmcp-composer-mcp-operator', 'ServiceMonitor/tools/cmcp-composer-mcp-server',
        'PrometheusRule/tools/cmcp-composer-mcp', 'BrowserPool/browsers-a/lessons',
      ]);
      expect(objects.some((o) => o.kind === 'ClusterRole')).to.equal(false);
      const pool = objects.find((o) => o.kind === 'BrowserPool') as unknown as { spec: { browser: Record<string, unknown> } };
      expect(pool.spec.browser, 'Chromium\'s own sandbox, under the named Localhost profile').to.include({ sandbox: true, sandboxSeccompProfile: 'operator/composer-mcp/chromium-sandbox.json' });
      const plain = (await render('cmcp', 'tools', ALLOW_NO_AUTH)).find((o) => o.kind === 'BrowserPool') as unknown as { spec: { browser: Record<string, unknown> } };
      expect(plain.spec.browser, 'off by default').to.not.have.property('sandbox');
    });

    it('sets only environment variables the server and operator config schemas define', async () => {
      const known = new Set([...settingRows(serverConfigSchema, SERVER_ENV_PREFIX), ...settingRows(operatorConfigSchema, 'BROWSERPOOL_OPERATOR')].map((r) => r.env));
      for (const extra of [[], ['-f', MAXIMAL_VALUES], ['-f', MAXIMAL_VALUES, '--set', 'server.auth.jwksUrl=', '--set', 'server.auth.hs256Secret.existingSecret=jwt-key']]) {
        const deployments = (await render('cmcp', 'tools', extra)).filter((o) => o.kind === 'Deployment') as unknown as Array<{ spec: { template: { spec: { containers: Array<{ env: Array<{ name: string }> }> } } } }>;
        const names = deployments.flatMap((d) => d.spec.template.spec.containers.flatMap((c) => c.env.map((e) => e.name)));
        const unknown = names.filter((n) => /^(COMPOSER_MCP|BROWSERPOOL_OPERATOR)_/.test(n) && !known.has(n));
        expect(unknown, 'env vars the code would reject or ignore').to.deep.equal([]);
      }
    });

    it('passes the tasks settings and the failed-authentication budget to the server, which reads them as set (defaults the same as the server\'s)', async () => {
      const serverEnv = async (extra: string[]): Promise<NodeJS.ProcessEnv> => {
        const deployment = find(await render('cmcp', 'tools', extra), 'Deployment', '-server') as unknown as { spec: { template: { spec: { containers: Array<{ env: Array<{ name: string; value?: string }> }> } } } };
        return Object.fromEntries(deployment.spec.template.spec.containers[0]!.env.filter((e) => e.value !== undefined).map((e) => [e.name, e.value]));
      };
      const read = (env: NodeJS.ProcessEnv) => loadConfig(serverConfigSchema, { envPrefix: SERVER_ENV_PREFIX, env, argv: [] });
      const set = read(await serverEnv(['-f', MAXIMAL_VALUES, '--set', 'server.tasks.store=memory']));
      expect(set.tasks).to.deep.equal({ store: 'memory', ttlSeconds: 900, pollIntervalMs: 500, maxResultBytes: 524288, maxActivePerSubject: 2, maxStoredPerSubject: 20 });
      expect(set.rateLimit).to.deep.equal({ windowSeconds: 30, maxRequests: 300, maxFailedAuthentications: 10 });
      // The chart's defaults are the server's own, and an empty store leaves the choice to the idempotency store.
      const defaults = read(await serverEnv([]));
      const serverDefaults = read({});
      expect(defaults.tasks).to.deep.equal(serverDefaults.tasks);
      expect(defaults.rateLimit).to.deep.equal(serverDefaults.rateLimit);
      expect(taskStoreKind(defaults)).to.equal('kubernetes');
      const refused = await helm(['template', 'cmcp', CHART_DIR, ...ALLOW_NO_AUTH, '--set', 'server.tasks.store=redis']);
      expect(refused.code).to.not.equal(0);
      expect(refused.stderr).to.contain("at '/server/tasks/store': value must be one of '', 'memory', 'kubernetes'");
    });

    it('refuses values the schema does not know, naming the key', async () => {
      const r = await helm(['template', 'cmcp', CHART_DIR, '--set', 'server.replcias=3']);
      expect(r.code).to.not.equal(0);
      expect(r.stderr).to.match(/replcias/);
    });
  });

  describe('server-side validation (kubectl apply --dry-run=server)', () => {
    const namespaces: TestNamespace[] = [];
    const tmp: string[] = [];

    before(async () => {
      for (const crd of MONITORING_STANDIN_CRDS) {
        await kubectlOk(['apply', '--server-side', '--field-manager=chart-test', '-f', await writeTemp(JSON.stringify(crd))], admin);
      }
      for (const crd of MONITORING_STANDIN_CRDS) await kubectlOk(['wait', '--for=condition=Established', '--timeout=60s', `crd/${crd.metadata.name}`], admin);
    });
    after(async () => {
      for (const ns of namespaces) await ns.remove();
      for (const crd of MONITORING_STANDIN_CRDS) await kubectl(['delete', 'crd', crd.metadata.name, '--ignore-not-found', '--wait=false'], admin);
      for (const dir of tmp) await rm(dir, { recursive: true, force: true });
    });

    async function writeTemp(text: string): Promise<string> {
      const dir = await mkdtemp(path.join(os.tmpdir(), 'chart-test-'));
      tmp.push(dir);
      const file = path.join(dir, 'objects.yaml');
      await writeFile(file, text);
      return file;
    }

    it('caps the ConfigMaps (the idempotency records of saves) in the release namespace with a ResourceQuota the API server enforces', async () => {
      const ns = await createTestNamespace(kc, 'chart-quota');
      namespaces.push(ns);
      const quota = (await render('cmcp', ns.name, ['--set', 'server.idempotency.maxConfigMaps=3', '--set', 'server.idempotency.maxRecords=2'])).filter((o) => o.kind === 'ResourceQuota');
      expect(quota.map((q) => q.metadata.name)).to.deep.equal(['cmcp-composer-mcp-server-configmaps']);
      expect((await render('cmcp', ns.name, ['--set', 'server.idempotency.maxConfigMaps=0'])).some((o) => o.kind === 'ResourceQuota')).to.equal(false);
      await kubectlOk(['apply', '-n', ns.name, '-f', await writeTemp(JSON.stringify(quota[0]))], admin);
      const core = kc.makeApiClient(CoreV1Api);
      await eventually(async () => {
        const q = await core.readNamespacedResourceQuota({ namespace: ns.name, name: 'cmcp-composer-mcp-server-configmaps' });
        return q.status?.hard?.['count/configmaps'] === '3' && q.status.used?.['count/configmaps'] !== undefined;
      }, 60_000, 'the quota controller to account the namespace');
      const created: string[] = [];
      const outcomes = [];
      for (let i = 0; i < 6; i++) {
        outcomes.push(await core.createNamespacedConfigMap({ namespace: ns.name, body: { metadata: { name: `composer-mcp-save-${i}` }, data: { uid: 'x' } } })
          .then(() => created.push(String(i)) && '', (err: unknown) => String((err as { body?: unknown }).body ?? err)));
      }
      const refused = outcomes.find((o) => o !== '') ?? '';
      expect(refused).to.contain('exceeded quota');
      expect(created.length, 'kube-root-ca.crt counts too').to.be.at.most(3);
    });

    for (const variant of ['default', 'maximal'] as const) {
      it(`accepts every object rendered with the ${variant} values`, async () => {
        const ns = await createTestNamespace(kc, `chart-dry-${variant}`);
        namespaces.push(ns);
        const extra = variant === 'maximal' ? ['-f', MAXIMAL_VALUES, '--set', `operator.watchNamespaces={${ns.name}}`, '--set', `browserPool.namespace=${ns.name}`] : ALLOW_NO_AUTH;
        const text = await helmOk(['template', 'cmcp', CHART_DIR, '-n', ns.name, ...extra]);
        const r = await kubectl(['apply', '--dry-run=server', '-n', ns.name, '-f', await writeTemp(text)], admin, 60_000);
        expect(r.code, r.stderr).to.equal(0);
        expect(r.stderr.split('\n').filter((l) => l.trim() && !l.startsWith('Warning:')), r.stderr).to.deep.equal([]);
        expect(r.stdout.trim().split('\n').length).to.equal(parseManifests(text).length);
      });
    }
  });

  describe('installed, with the operator and the server running as their ServiceAccounts', () => {
    const release = 'cmcp';
    let ns: TestNamespace;
    let operatorProxy: RecordingProxy | undefined;
    let serverProxy: RecordingProxy | undefined;
    let operator: LocalProcess | undefined;
    let server: LocalProcess | undefined;
    let runner: PodRunner | undefined;
    let workDir: string;
    let rendered: RenderedObject[];
    let operatorMetricsUrl = '';
    let serverMetricsUrl = '';
    let serverUrl = '';

    before(async function () {
      this.timeout(180_000);
      // Short names: the test CA issues user names of at most 64 characters (system:serviceaccount:<ns>:<sa>).
      ns = await createTestNamespace(kc, 'chr');
      workDir = await mkdtemp(path.join(os.tmpdir(), 'chart-rbac-'));
      rendered = await render(release, ns.name);
      // Browserless pods have no gateway /status to report their open pages, so a draining browser goes only when
      // its drain timeout passes: a short one lets the scale-down test see it go.
      await helmOk(['install', release, CHART_DIR, '-n', ns.name, '--take-ownership', ...ALLOW_NO_AUTH, '--set', 'browserPool.recycle.drainTimeoutSeconds=2'], admin, 90_000);
      operatorProxy = await startRecordingProxy(await serviceAccountKubeconfig(ns.name, `${release}-composer-mcp-operator`), path.join(workDir, 'operator.kubeconfig'));
      serverProxy = await startRecordingProxy(await serviceAccountKubeconfig(ns.name, `${release}-composer-mcp-server`), path.join(workDir, 'server.kubeconfig'));
      runner = await startPodRunner({ kubeconfigPath: admin, browserless: true, logger });
      operator = startLocalProcess('operator/src/main.ts', {
        BROWSERPOOL_OPERATOR_KUBECONFIG: operatorProxy.kubeconfigPath, KUBECONFIG: operatorProxy.kubeconfigPath,
        BROWSERPOOL_OPERATOR_LEADER_ELECTION__NAMESPACE: ns.name,
        BROWSERPOOL_OPERATOR_LEADER_ELECTION__LEASE_NAME: `${release}-composer-mcp-operator`,
        BROWSERPOOL_OPERATOR_METRICS_PORT: '0', BROWSERPOOL_OPERATOR_HEALTH_PORT: '0', BROWSERPOOL_OPERATOR_LISTEN_HOST: '127.0.0.1',
        POD_NAMESPACE: ns.name, POD_NAME: 'operator-under-test', LOG_LEVEL: 'info',
      });
      const started = await operator.waitForLog('Started BrowserPool operator', 60_000);
      operatorMetricsUrl = `${String(started['metrics'])}/metrics`;
    });

    afterEach(function () {
      if (this.currentTest?.state !== 'failed') return;
      for (const [name, p] of [['operator', operator], ['server', server]] as const) {
        if (p) console.error(`--- last ${name} log lines:\n${p.logs.slice(-12).map((l) => JSON.stringify(l).slice(0, 400)).join('\n')}`);
      }
    });

    after(async function () {
      this.timeout(90_000);
      await server?.stop();
      await operator?.stop();
      await runner?.stop();
      await operatorProxy?.stop();
      await serverProxy?.stop();
      await helm(['uninstall', release, '-n', ns.name, '--wait=false'], admin);
      await ns?.remove();
      await rm(workDir, { recursive: true, force: true });
    });

    it('lets the operator (as its ServiceAccount) create the default pool\'s browser pods and report them Ready', async () => {
      const core = kc.makeApiClient(CoreV1Api);
      const custom = kc.makeApiClient(CustomObjectsApi);
      await eventually(async () => {
        const pods = await core.listNamespacedPod({ namespace: ns.name, labelSelector: 'browser.composer-mcp.io/pool=default' });
        return pods.items.length === 2;
      }, 60_000, 'the operator created 2 browser pods');
      // The chart's pool sets resources, so its pods are Burstable: the pod runner must keep that qosClass (the
      // field is immutable) for its Ready status to be accepted, and the operator must see and report it.
      let last: unknown;
      const ready = eventually(async () => {
        const pool = (await custom.getNamespacedCustomObject({ ...POOL_API, namespace: ns.name, name: 'default' })) as
          { status?: { browsers?: Array<{ state?: string }>; observedGeneration?: number; readyReplicas?: number } };
        last = pool.status;
        return pool.status?.observedGeneration === 1 && pool.status.readyReplicas === 2
          && pool.status.browsers?.filter((b) => b.state === 'Ready').length === 2;
      }, 60_000, 'the operator reported the pool\'s 2 browsers Ready in status.readyReplicas');
      await ready.catch((err: unknown) => {
        throw new Error(`${(err as Error).message} (last status: ${JSON.stringify(last)})`);
      });
      const pods = await core.listNamespacedPod({ namespace: ns.name, labelSelector: 'browser.composer-mcp.io/pool=default' });
      expect(pods.items.map((p) => p.status?.conditions?.find((c) => c.type === 'Ready')?.status)).to.deep.equal(['True', 'True']);
      // Only this release's namespace and cluster-scoped calls count: the operator watches every namespace, and earlier
      // suites' namespaces that are still terminating refuse writes with 403 "being terminated", which is not RBAC.
      expect(operatorProxy!.calls.filter((c) => c.status === 403 && (c.namespace === undefined || c.namespace === ns.name))).to.deep.equal([]);
    });

    it('lets the server (as its ServiceAccount) list and watch its pool and token Secret, and serve a tool call', async () => {
      server = startLocalProcess('server/src/main.ts', {
        KUBECONFIG: serverProxy!.kubeconfigPath,
        COMPOSER_MCP_HTTP__HOST: '127.0.0.1', COMPOSER_MCP_HTTP__PORT: '0',
        COMPOSER_MCP_BROWSERS__SOURCE: 'kubernetes', COMPOSER_MCP_BROWSERS__KUBERNETES__NAMESPACE: ns.name,
        COMPOSER_MCP_BROWSERS__KUBERNETES__POOL: 'default', COMPOSER_MCP_BROWSERS__PREWARM_PER_BROWSER: '0',
      });
      const started = await server.waitForLog('Started MCP server', 60_000);
      serverUrl = String(started['url']);
      serverMetricsUrl = serverUrl.replace(/\/mcp$/, '/metrics');
      await server.waitForLog('Started browser router', 60_000);
      // The Kubernetes source logs this warning when its first list of the pool (or its token Secret) failed.
      expect(server.logs.filter((l) => l['message'] === 'Started without a first list of the BrowserPool; endpoints follow when the API answers')).to.deep.equal([]);
      const listed = serverProxy!.calls.filter((c) => c.verb === 'list' && c.namespace === ns.name);
      expect(listed.map((c) => `${c.resource} ${c.status}`).toSorted()).to.include.members(['browser.composer-mcp.io/browserpools 200', 'core/secrets 200']);
      expect(serverProxy!.calls.filter((c) => c.status === 403)).to.deep.equal([]);

    });

    it('answers the runbook\'s kubectl checks (docs/operations.md) as the runbook says', async () => {
      const operatorSa = `system:serviceaccount:${ns.name}:${release}-composer-mcp-operator`;
      const serverSa = `system:serviceaccount:${ns.name}:${release}-composer-mcp-server`;
      const can = async (args: string[]): Promise<string> => (await kubectl(['auth', 'can-i', ...args], admin)).stdout.trim();
      expect(await can(['create', 'pods', `--as=${operatorSa}`, '-n', ns.name])).to.equal('yes');
      // The server's Role names its pool and token Secret (resourceNames), so the check names them too.
      expect(await can(['watch', 'browserpools/default', `--as=${serverSa}`, '-n', ns.name])).to.equal('yes');
      expect(await can(['list', 'secrets/default-cdp-token', `--as=${serverSa}`, '-n', ns.name])).to.equal('yes');
      expect(await can(['list', 'browserpools/other', `--as=${serverSa}`, '-n', ns.name])).to.equal('no');
      expect(await can(['create', 'pods', `--as=${serverSa}`, '-n', ns.name])).to.equal('no');
      expect(await can(['get', 'secrets', `--as=${serverSa}`, '-n', ns.name])).to.equal('no');
      const columns = await kubectlOk(['get', 'browserpools', '-A', '-o', 'custom-columns=NS:.metadata.namespace,NAME:.metadata.name,DEGRADED:.status.conditions[?(@.type=="Degraded")].message'], admin);
      expect(columns).to.match(new RegExp(`${ns.name}\\s+default`));
      await kubectlOk(['-n', ns.name, 'scale', 'browserpool/default', '--replicas=2'], admin);
      expect(await kubectlOk(['-n', ns.name, 'get', 'browserpool', 'default', '-o', 'jsonpath={.spec.replicas}'], admin)).to.equal('2');
    });

    it('lets the operator scale the pool down and clean up after it is deleted (delete verbs)', async () => {
      const custom = kc.makeApiClient(CustomObjectsApi);
      const core = kc.makeApiClient(CoreV1Api);
      await custom.patchNamespacedCustomObject({ ...POOL_API, namespace: ns.name, name: 'default', body: { spec: { replicas: 1 } } }, mergePatch());
      await eventually(async () => (await core.listNamespacedPod({ namespace: ns.name, labelSelector: 'browser.composer-mcp.io/pool=default' })).items.length === 1, 90_000, 'the operator deleted one browser pod');
      await custom.deleteNamespacedCustomObject({ ...POOL_API, namespace: ns.name, name: 'default' });
      await eventually(() => operatorProxy!.calls.some((c) => c.verb === 'delete' && c.resource === 'networking.k8s.io/networkpolicies'), 60_000, 'the operator cleaned up the pool NetworkPolicy');
    });

    it('grants exactly the (verb, resource) pairs the code uses, and the processes used every one the scenario reaches', () => {
      const poolRole = find(rendered, 'Role', '-operator');
      expect(poolRole.metadata.namespace, 'the operator\'s Role is in the release namespace only').to.equal(ns.name);
      const leaseRole = find(rendered, 'Role', '-operator-leader-election');
      const serverRole = find(rendered, 'Role', '-server');
      expect(grantedPairs(poolRole.rules!)).to.deep.equal(callPairs(OPERATOR_POOL_CALLS));
      expect(grantedPairs(leaseRole.rules!)).to.deep.equal(callPairs(OPERATOR_LEASE_CALLS));
      expect(grantedPairs(serverRole.rules!)).to.deep.equal(callPairs(SERVER_CALLS));

      const operatorUsed = callPairs(operatorProxy!.calls);
      const serverUsed = callPairs(serverProxy!.calls);
      expect(operatorUsed, 'the operator made a call the list does not name').to.satisfy((used: string[]) => used.every((p) => callPairs([...OPERATOR_POOL_CALLS, ...OPERATOR_LEASE_CALLS]).includes(p)));
      expect(serverUsed, 'the server made a call the list does not name').to.satisfy((used: string[]) => used.every((p) => callPairs(SERVER_CALLS).includes(p)));
      expect(unused([...OPERATOR_POOL_CALLS, ...OPERATOR_LEASE_CALLS], operatorUsed), 'granted to the operator but never used').to.deep.equal([]);
      expect(unused(SERVER_CALLS, serverUsed), 'granted to the server but never used').to.deep.equal([]);
    });

    it('exposes every metric the alerts use in the real /metrics of the server and the operator', async () => {
      // Some work first: one real tool call through the MCP SDK client.
      const client = new Client({ name: 'chart-test', version: '0.0.0' });
      await client.connect(new StreamableHTTPClientTransport(new URL(serverUrl)));
      try {
        const result = await client.callTool({ name: 'composer_list_widgets', arguments: {} });
        expect(result.isError ?? false).to.equal(false);
      } finally {
        await client.close();
      }
      const text = (await scrape(serverMetricsUrl)) + (await scrape(operatorMetricsUrl));
      const names = alertMetricNames(await readFile(path.join(CHART_DIR, 'files', 'alerts.yaml'), 'utf8'));
      expect(names.length).to.be.greaterThan(2);
      const missing = names.filter((n) => !new RegExp(`^${n}(\\{| )`, 'm').test(text));
      expect(missing, `alert metrics missing from /metrics; have: ${[...new Set(text.match(/^[a-z_:]+(?=[{ ])/gm))].join(', ')}`).to.deep.equal([]);
      // The labels the alerts filter on must be labels the metrics carry (a misspelt label matches nothing).
      const alertsText = await readFile(path.join(CHART_DIR, 'files', 'alerts.yaml'), 'utf8');
      const wrongLabels: string[] = [];
      for (const m of alertsText.matchAll(/([a-z_:][a-z0-9_:]*)\{([^}]*)\}/g)) {
        const [, metric, selector] = m as unknown as [string, string, string];
        if (metric.startsWith('kube_')) continue;
        for (const l of selector.matchAll(/(\w+)\s*(?:=~|!~|!=|=)/g)) {
          if (!new RegExp(`^${metric}\\{[^}]*\\b${l[1]}="`, 'm').test(text)) wrongLabels.push(`${metric}{${l[1]}}`);
        }
      }
      expect(wrongLabels, 'alert label selectors that no scraped sample carries').to.deep.equal([]);
      // The KEDA example and the operator's demand-driven autoscaling read metrics the server really exports.
      const keda = await readFile(path.join(CHART_DIR, 'examples', 'keda-scaledobject.yaml'), 'utf8');
      const kedaMetrics = [...keda.matchAll(/\b(composer_mcp_[a-z0-9_]+)\{/g)].map((m) => m[1]!);
      expect(kedaMetrics).to.include(SERVER_QUEUE_METRIC);
      const serverText = await scrape(serverMetricsUrl);
      expect(kedaMetrics.filter((n) => !new RegExp(`^${n}(\\{| )`, 'm').test(serverText)), 'KEDA example metrics missing from the server').to.deep.equal([]);
      expect(sumOfMetric(serverText, SERVER_QUEUE_METRIC), 'the operator reads the server\'s queue depth').to.equal(0);
    });
  });

  describe('upgrade from the previous chart version', () => {
    let ns: TestNamespace;
    let oldChart: string;

    before(async function () {
      this.timeout(60_000);
      ns = await createTestNamespace(kc, 'chart-upgrade');
      // The previous release of the chart, as a user would have it installed: the first chart that shipped the CRD,
      // packaged as 0.0.1 (a released artifact, so the test needs no git history and works in shallow clones).
      oldChart = path.join(import.meta.dirname, 'fixtures', 'composer-mcp-0.0.1.tgz');
    });
    after(async function () {
      this.timeout(60_000);
      await helm(['uninstall', 'cmcp-up', '-n', ns.name, '--wait=false'], admin);
      await ns.remove();
    });

    it('keeps existing BrowserPools (same uid) across helm upgrade and helm uninstall, and keeps the CRD', async () => {
      const custom = kc.makeApiClient(CustomObjectsApi);
      // The shared control plane already serves this branch's CRD (applied by other tests): the previous chart's CRD
      // is forced over it, so the cluster looks as a user's would before the upgrade, whatever the CRD gained since.
      await helmOk(['install', 'cmcp-up', oldChart, '-n', ns.name, '--take-ownership', '--force-conflicts'], admin, 90_000);
      await custom.createNamespacedCustomObject({
        ...POOL_API, namespace: ns.name,
        body: { apiVersion: 'browser.composer-mcp.io/v1alpha1', kind: 'BrowserPool', metadata: { name: 'lessons' }, spec: { browser: { image: 'example/chromium:1' }, gateway: { image: 'example/gateway:1' } } },
      });
      const uids = async (): Promise<Record<string, string>> => {
        const list = (await custom.listNamespacedCustomObject({ ...POOL_API, namespace: ns.name })) as { items: Array<{ metadata: { name: string; uid: string } }> };
        return Object.fromEntries(list.items.map((p) => [p.metadata.name, p.metadata.uid]));
      };
      const before = await uids();
      expect(Object.keys(before).toSorted()).to.deep.equal(['default', 'lessons']);

      await helmOk(['upgrade', 'cmcp-up', CHART_DIR, '-n', ns.name, '--take-ownership', ...ALLOW_NO_AUTH], admin, 90_000);
      const history = JSON.parse(await helmOk(['history', 'cmcp-up', '-n', ns.name, '-o', 'json'], admin)) as Array<{ chart: string; revision: number }>;
      expect(history.map((h) => h.chart)).to.deep.equal(['composer-mcp-0.0.1', `composer-mcp-${(parseYaml(await readFile(path.join(CHART_DIR, 'Chart.yaml'), 'utf8')) as { version: string }).version}`]);
      expect(await uids()).to.deep.equal(before);

      await helmOk(['uninstall', 'cmcp-up', '-n', ns.name], admin, 90_000);
      expect(await uids()).to.deep.equal(before);
      const crd = await kubectl(['get', 'crd', 'browserpools.browser.composer-mcp.io', '-o', 'name'], admin);
      expect(crd.stdout.trim()).to.equal('customresourcedefinition.apiextensions.k8s.io/browserpools.browser.composer-mcp.io');
    });
  });
});
