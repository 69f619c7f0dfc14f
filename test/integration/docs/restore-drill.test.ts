import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { applyBrowserPoolCrd } from '#support/kube/browserpool-crd.ts';
import { eventually, sharedKubeConfig } from '#support/control-plane/kube-test-kit.ts';
import { sharedControlPlane } from '#support/control-plane/shared.ts';
import { resolveBinary } from '#support/control-plane/binaries.ts';

const REPO = path.resolve(import.meta.dirname, '..', '..', '..');
const POOL_API = { group: 'browser.composer-mcp.io', version: 'v1alpha1', plural: 'browserpools' };
const IDEMPOTENCY_LABELS = { 'app.kubernetes.io/part-of': 'composer-mcp', 'composer-mcp.io/idempotency': 'save' };

/** The `sh` blocks of one section of a Markdown document, in order. */
export function shellBlocks(markdown: string, heading: string): string[] {
  const start = markdown.indexOf(`\n${heading}\n`);
  if (start < 0) throw new Error(`no section "${heading}"`);
  const level = /^#+/.exec(heading)![0];
  const rest = markdown.slice(start + heading.length + 2);
  const end = rest.search(new RegExp(`\\n#{1,${level.length}} `));
  const section = end < 0 ? rest : rest.slice(0, end);
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

/** Runs a runbook block with bash in `cwd`, the runbook's namespace replaced by `namespace`; resolves with the output. */
function runBlock(block: string, namespace: string, cwd: string, env: NodeJS.ProcessEnv): Promise<string> {
  const script = block.replaceAll(/(-n |namespace )composer-mcp\b/g, `$1${namespace}`);
  return new Promise((resolve, reject) => {
    execFile('bash', ['-euo', 'pipefail', '-c', script], { cwd, env, timeout: 120_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`runbook block failed: ${error.message}\n--- script\n${script}\n--- stderr\n${stderr}\n--- stdout\n${stdout}`));
      else resolve(stdout);
    });
  });
}

describe('the backup and restore procedure of docs/operations.md, run as written against a real API server', function () {
  this.timeout(300_000);
  const namespace = `restore-drill-${Math.random().toString(16).slice(2, 8)}`;
  let dir: string;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    const kubeconfig = sharedControlPlane().kubeconfigPath;
    dir = await mkdtemp(path.join(os.tmpdir(), 'restore-drill-'));
    await symlink(path.join(REPO, 'charts'), path.join(dir, 'charts'));
    // kubectl and helm as the runbook calls them: the built binaries first on PATH, helm with its own home.
    const bin = path.join(dir, 'bin');
    await mkdir(bin);
    await symlink(resolveBinary('kubectl'), path.join(bin, 'kubectl'));
    await symlink(resolveBinary('helm'), path.join(bin, 'helm'));
    env = {
      ...process.env, KUBECONFIG: kubeconfig, PATH: `${bin}:${process.env['PATH']}`,
      HELM_CACHE_HOME: path.join(dir, 'helm', 'cache'), HELM_CONFIG_HOME: path.join(dir, 'helm', 'config'), HELM_DATA_HOME: path.join(dir, 'helm', 'data'),
    };
    await applyBrowserPoolCrd(sharedKubeConfig());
  });

  after(async () => {
    await runBlock(`helm uninstall composer-mcp -n composer-mcp --wait=false || true
kubectl delete namespace composer-mcp --wait=false --ignore-not-found`, namespace, dir, env).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  });

  it('backs up the values, pools, Secrets and idempotency records, and restores them into an empty namespace', async () => {
    const kc = sharedKubeConfig();
    const core = kc.makeApiClient(CoreV1Api);
    const custom = kc.makeApiClient(CustomObjectsApi);
    const runbook = await readFile(path.join(REPO, 'docs', 'operations.md'), 'utf8');
    const [backup, restore] = shellBlocks(runbook, '## Backup and disaster recovery');
    expect(backup, 'the backup block').to.include('helm get values');
    expect(restore, 'the restore block').to.include('kubectl apply -f backup/idempotency.json');

    // What a production namespace holds: the release (with JWT auth by an HS256 key), its Secrets, an extra pool,
    // idempotency records.
    await runBlock(`kubectl create namespace composer-mcp
kubectl -n composer-mcp create secret generic composer-credentials --from-literal=access-token=token-1 --from-literal=project-key=key-1 --from-literal=connector-uid=conn-1
kubectl -n composer-mcp create secret generic mcp-jwt-key --from-literal=hs256-secret=hs-secret-1
helm install composer-mcp charts/composer-mcp -n composer-mcp --set crds.install=false --set operator.enabled=false \\
  --set server.composer.credentials.existingSecret=composer-credentials --set server.auth.mode=jwt \\
  --set server.auth.issuer=https://auth.example.org/ --set server.auth.audience=https://mcp.example.org/mcp \\
  --set server.auth.hs256Secret.existingSecret=mcp-jwt-key --set browserPool.replicas=3`, namespace, dir, env);
    await custom.createNamespacedCustomObject({
      ...POOL_API, namespace,
      body: { apiVersion: 'browser.composer-mcp.io/v1alpha1', kind: 'BrowserPool', metadata: { name: 'lessons' }, spec: { replicas: 1, maxSessionsPerBrowser: 2 } },
    });
    for (const i of [1, 2, 3]) {
      await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: `composer-mcp-save-${i}`, labels: IDEMPOTENCY_LABELS }, data: { contentKey: `sha256:${i}`, uid: `uid-${i}`, createdAt: new Date().toISOString() } } });
    }
    const poolSpecs = async () => {
      const list = (await custom.listNamespacedCustomObject({ ...POOL_API, namespace })) as { items: Array<{ metadata: { name: string }; spec: unknown }> };
      return Object.fromEntries(list.items.map((p) => [p.metadata.name, p.spec]));
    };
    const records = async () => (await core.listNamespacedConfigMap({ namespace, labelSelector: 'composer-mcp.io/idempotency=save' })).items.map((c) => [c.metadata!.name, c.data]).toSorted();
    const secretData = async () => Object.fromEntries(await Promise.all(['composer-credentials', 'mcp-jwt-key'].map(async (name) => [name, (await core.readNamespacedSecret({ namespace, name })).data])));
    const before = { pools: await poolSpecs(), records: await records(), secrets: await secretData() };
    expect(Object.keys(before.pools).toSorted()).to.deep.equal(['default', 'lessons']);

    // 1. Back up, as written.
    await runBlock(backup!, namespace, dir, env);

    // 2. Lose everything: the release, the pools and the namespace.
    await runBlock(`helm uninstall composer-mcp -n composer-mcp
kubectl -n composer-mcp delete browserpools --all
kubectl delete namespace composer-mcp`, namespace, dir, env);
    await eventually(async () => (await core.listNamespace()).items.every((n) => n.metadata!.name !== namespace), 120_000, 'the namespace is gone');

    // 3. Restore, as written. Without a kubelet in this tier no pod becomes ready, so the lines that wait for pods
    //    are left out; everything else runs unchanged.
    const withoutWaits = restore!.split('\n').filter((line) => !line.includes('rollout status')).join('\n');
    await runBlock(withoutWaits, namespace, dir, env);

    expect(await poolSpecs(), 'the pools, spec for spec').to.deep.equal(before.pools);
    expect(await records(), 'the idempotency records').to.deep.equal(before.records);
    expect(await secretData(), 'the Secrets').to.deep.equal(before.secrets);
    const values = await runBlock('helm get values composer-mcp -n composer-mcp -o json', namespace, dir, env);
    expect(JSON.parse(values)).to.deep.include({ server: { auth: { mode: 'jwt', issuer: 'https://auth.example.org/', audience: 'https://mcp.example.org/mcp', hs256Secret: { existingSecret: 'mcp-jwt-key' } }, composer: { credentials: { existingSecret: 'composer-credentials' } } } });
  });
});
