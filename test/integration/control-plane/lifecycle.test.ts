import { spawn } from 'node:child_process';
import { chmod, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { toolsBinDir } from '#support/control-plane/binaries.ts';
import { ControlPlaneStartError, startControlPlane } from '#support/control-plane/control-plane.ts';
import { isRunning } from '#support/control-plane/processes.ts';
import { createTestNamespace, eventually, sharedKubeConfig, type TestNamespace } from '#support/control-plane/kube-test-kit.ts';
import { sharedControlPlane } from '#support/control-plane/shared.ts';

const repoRoot = path.resolve(import.meta.dirname, '..', '..', '..');

describe('Test control plane: controllers and lifecycle', function () {
  this.timeout(120_000);
  let kc: KubeConfig;
  let core: CoreV1Api;
  let ns: TestNamespace;
  const tempDirs: string[] = [];

  before(async () => {
    kc = sharedKubeConfig();
    core = kc.makeApiClient(CoreV1Api);
    ns = await createTestNamespace(kc, 'cp-lifecycle');
  });

  after(async () => {
    await ns?.remove();
    for (const dir of tempDirs) await rm(dir, { recursive: true, force: true });
  });

  it('garbage-collects objects whose owner was deleted (kube-controller-manager runs)', async () => {
    const owner = await core.createNamespacedConfigMap({ namespace: ns.name, body: { metadata: { name: 'owner' } } });
    await core.createNamespacedConfigMap({
      namespace: ns.name,
      body: { metadata: { name: 'child', ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata!.uid! }] } },
    });
    await core.deleteNamespacedConfigMap({ namespace: ns.name, name: 'owner' });
    await eventually(() => core.readNamespacedConfigMap({ namespace: ns.name, name: 'child' }).then(() => false, () => true),
      30_000, 'the child ConfigMap is garbage-collected');
  });

  it('finishes deleting a namespace and creates the default ServiceAccount in new ones', async () => {
    const doomed = await createTestNamespace(kc, 'cp-doomed');
    await core.createNamespacedConfigMap({ namespace: doomed.name, body: { metadata: { name: 'content' } } });
    await eventually(() => core.readNamespacedServiceAccount({ namespace: doomed.name, name: 'default' }).then(() => true, () => false),
      30_000, 'the default ServiceAccount exists');
    await doomed.remove();
    await eventually(() => core.readNamespace({ name: doomed.name }).then(() => false, () => true), 30_000, 'the namespace is gone');
  });

  it('restarts the apiserver on the same port and keeps the data', async () => {
    const cp = sharedControlPlane();
    await core.createNamespacedConfigMap({ namespace: ns.name, body: { metadata: { name: 'survivor' }, data: { k: 'v' } } });
    const before = cp.processes().find((p) => p.name === 'kube-apiserver')!;
    await cp.restartApiserver();
    const after = cp.processes().find((p) => p.name === 'kube-apiserver')!;
    expect(after.pid).to.not.equal(before.pid);
    expect(isRunning(before.pid)).to.equal(false);
    const survivor = await core.readNamespacedConfigMap({ namespace: ns.name, name: 'survivor' });
    expect(survivor.data).to.deep.equal({ k: 'v' });
  });

  it('starts a second, independent control plane without a controller-manager and stops it by PID', async () => {
    const started = Date.now();
    const cp = await startControlPlane();
    try {
      expect(Date.now() - started).to.be.below(90_000);
      expect(cp.server).to.match(/^https:\/\/127\.0\.0\.1:\d+$/);
      expect(cp.server).to.not.equal(sharedControlPlane().server);
      expect(cp.processes().map((p) => p.name)).to.deep.equal(['etcd', 'kube-apiserver']);
      const other = sharedKubeConfig(cp.kubeconfigPath).makeApiClient(CoreV1Api);
      const names = (await other.listNamespace()).items.map((n) => n.metadata?.name);
      expect(names).to.include('default');
      expect(names).to.not.include(ns.name);
    } finally {
      const processes = cp.processes();
      await cp.stop();
      for (const proc of processes) expect(isRunning(proc.pid), proc.name).to.equal(false);
      expect(existsSync(cp.dir)).to.equal(false);
    }
  });

  it('names the component that failed to start and shows the tail of its log, then cleans up', async () => {
    const binDir = await mkdtemp(path.join(os.tmpdir(), 'cp-bin-'));
    tempDirs.push(binDir);
    await symlink(path.join(toolsBinDir(), 'etcd'), path.join(binDir, 'etcd'));
    const fake = path.join(binDir, 'kube-apiserver');
    await writeFile(fake, '#!/bin/sh\necho "starting fake apiserver"\necho "E0101 unknown flag: --broken" >&2\nexit 3\n');
    await chmod(fake, 0o755);

    let error: unknown;
    const baseDir = await mkdtemp(path.join(os.tmpdir(), 'cp-failed-'));
    tempDirs.push(baseDir);
    await startControlPlane({ binDir, baseDir }).catch((e: unknown) => (error = e));
    expect(error).to.be.instanceOf(ControlPlaneStartError);
    const failure = error as ControlPlaneStartError;
    expect(failure.component).to.equal('kube-apiserver');
    expect(failure.message).to.contain('kube-apiserver failed to start: it exited with code 3');
    expect(failure.message).to.contain('E0101 unknown flag: --broken');
    // etcd, which did start, was stopped again.
    await eventually(async () => {
      const { readdir, readFile } = await import('node:fs/promises');
      for (const pid of (await readdir('/proc')).filter((p) => /^\d+$/.test(p))) {
        const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
        if (cmdline.includes(baseDir) && isRunning(Number(pid))) return false;
      }
      return true;
    }, 15_000, 'no process of the failed control plane is left');
  });

  it('tells to run make control-plane when a binary is missing', async () => {
    const empty = await mkdtemp(path.join(os.tmpdir(), 'cp-empty-'));
    tempDirs.push(empty);
    let error: Error | undefined;
    await startControlPlane({ binDir: empty }).catch((e: Error) => (error = e));
    expect(error?.message).to.contain(`The etcd binary is missing at ${path.join(empty, 'etcd')}`);
    expect(error?.message).to.contain('Run `make control-plane`');
  });
});

describe('Test control plane: cleanup when the test process is terminated', function () {
  this.timeout(120_000);

  it('kills its components and removes its directory when the Node process gets SIGTERM before stop()', async () => {
    const script = [
      "import { startControlPlane } from '#support/control-plane/control-plane.ts';",
      'const cp = await startControlPlane();',
      'console.log(JSON.stringify({ dir: cp.dir, pids: cp.processes().map((p) => p.pid) }));',
      'setInterval(() => {}, 1000);',
    ].join('\n');
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          if (out.includes('\n')) resolve(out.split('\n')[0]!);
        });
        child.once('exit', (code) => reject(new Error(`the child exited early with ${String(code)}`)));
      });
      const { dir, pids } = JSON.parse(line) as { dir: string; pids: number[] };
      expect(pids).to.have.length(2);
      for (const pid of pids) expect(isRunning(pid)).to.equal(true);
      const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
      child.kill('SIGTERM');
      expect(await exited).to.equal('SIGTERM');
      await eventually(() => pids.every((pid) => !isRunning(pid)), 10_000, 'etcd and kube-apiserver are gone');
      expect(existsSync(dir)).to.equal(false);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
});
