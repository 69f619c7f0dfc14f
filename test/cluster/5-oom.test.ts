import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { chromium, type Browser } from 'playwright-core';
import { TOKEN_KEY, tokenSecretName } from '#kube/api/v1alpha1/contract.ts';
import { clusterTier } from '#support/cluster/shared.ts';
import { apis, containerPid, describePool, eventually, poolPods, poolSettled } from './cluster-kit.ts';

const POOL = 'oom';
const LIMIT = '384Mi';

/** The memory cgroup directory (v1 or v2) of a process, from /proc/<pid>/cgroup. */
function memoryCgroup(pid: number): string {
  const lines = readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim().split('\n').map((l) => l.split(':'));
  const v1 = lines.find((f) => (f[1] ?? '').split(',').includes('memory'));
  if (v1) return path.join('/sys/fs/cgroup/memory', v1[2] ?? '');
  return path.join('/sys/fs/cgroup', lines.find((f) => f[0] === '0')?.[2] ?? '');
}

/** How many processes the kernel's OOM killer has killed in a memory cgroup (v1 memory.oom_control, v2 memory.events). */
function oomKills(cgroup: string): number {
  for (const [file, key] of [['memory.oom_control', 'oom_kill'], ['memory.events', 'oom_kill']] as const) {
    try {
      const match = new RegExp(`^${key} (\\d+)$`, 'm').exec(readFileSync(path.join(cgroup, file), 'utf8'));
      if (match) return Number(match[1]);
    } catch {
      // The other cgroup version.
    }
  }
  throw new Error(`No OOM kill counter in ${cgroup}`);
}

describe('cluster tier: a browser container over its memory limit', function () {
  this.timeout(300_000);

  after(async () => {
    const tier = clusterTier();
    await apis().custom.deleteNamespacedCustomObject({
      group: 'browser.composer-mcp.io', version: 'v1alpha1', plural: 'browserpools', namespace: tier.settings.namespace, name: POOL,
    }).catch(() => undefined);
  });

  it(`is OOM-killed by the kernel (limit ${LIMIT}) and the browser recovers: the next page works`, async () => {
    const tier = clusterTier();
    const browserImage = `composer-mcp.local/browser:${tier.settings.tag}`;
    await apis().custom.createNamespacedCustomObject({
      group: 'browser.composer-mcp.io', version: 'v1alpha1', plural: 'browserpools', namespace: tier.settings.namespace,
      body: {
        apiVersion: 'browser.composer-mcp.io/v1alpha1', kind: 'BrowserPool', metadata: { name: POOL },
        spec: {
          replicas: 1,
          browser: { image: browserImage, resources: { requests: { memory: '256Mi' }, limits: { memory: LIMIT } } },
        },
      },
    });
    await eventually(() => poolSettled(POOL, 1), 120_000, () => describePool(POOL));
    const [pod] = await poolPods(POOL);
    if (!pod) throw new Error('no oom pool pod');
    const pid = await containerPid(pod, 'browser');
    const cgroup = memoryCgroup(pid);
    const killsBefore = oomKills(cgroup);
    const restartsBefore = pod.status?.containerStatuses?.find((c) => c.name === 'browser')?.restartCount ?? 0;
    const secret = await apis().core.readNamespacedSecret({ name: tokenSecretName(POOL), namespace: tier.settings.namespace });
    const token = Buffer.from(secret.data?.[TOKEN_KEY] ?? '', 'base64').toString();
    const endpoint = `http://${pod.status?.podIP}:9222`;
    const connect = (): Promise<Browser> => chromium.connectOverCDP(endpoint, { headers: { authorization: `Bearer ${token}` }, timeout: 30_000 });

    const browser = await connect();
    const page = await (await browser.newContext()).newPage();
    // 32 MB at a time, each page touched, until the kernel steps in.
    const grown = page.evaluate(() => {
      const hold: Uint8Array[] = [];
      for (;;) hold.push(new Uint8Array(32 * 1024 * 1024).fill(7));
    }).then(() => 'returned', (error: unknown) => String(error));
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([grown, new Promise<string>((r) => { timer = setTimeout(() => r('still running after 120 s'), 120_000); })]);
    clearTimeout(timer); // a pending timer kept the whole tier's process alive for two minutes after its last test
    expect(outcome, 'the allocating page ended by a crash, not by itself').to.match(/crash|closed|Target|disconnected/i);
    const kills = await eventually(() => (oomKills(cgroup) > killsBefore ? oomKills(cgroup) : undefined), 30_000, () => `oom_kill ${oomKills(cgroup)}`);
    expect(kills - killsBefore, 'processes the kernel OOM-killed in the browser container').to.be.at.least(1);

    // Recovers: either Chromium lost only the renderer (the gateway and the connection stay), or the browser went
    // with it (the gateway exits when Chromium does, or the kernel took the gateway) and the kubelet restarted the
    // container. Either way a new page works, once the pod is Ready again.
    await browser.close().catch(() => undefined);
    const fresh = await eventually(async () => {
      if (!(await poolSettled(POOL, 1))) return undefined;
      try {
        const b = await connect();
        const answer = await (await (await b.newContext()).newPage()).evaluate(() => 6 * 7);
        await b.close();
        return answer;
      } catch {
        return undefined;
      }
    }, 120_000, () => describePool(POOL));
    expect(fresh).to.equal(42);
    const after = (await poolPods(POOL)).find((p) => p.metadata?.uid === pod.metadata?.uid);
    const status = after?.status?.containerStatuses?.find((c) => c.name === 'browser');
    const restarted = (status?.restartCount ?? 0) > restartsBefore;
    const how = restarted ? `${status?.lastState?.terminated?.reason} (exit ${status?.lastState?.terminated?.exitCode})` : '';
    // The kernel's OOM kill, or the gateway's own exit (1) after the kernel killed its Chromium.
    if (restarted) expect(how, 'why the container ended').to.match(/^OOMKilled|^Error \(exit 1\)/);
    process.stdout.write(`      OOM: ${kills - killsBefore} process(es) killed by the kernel in the ${LIMIT} browser container (gateway + Chromium); ` +
      `${restarted ? `the kubelet restarted the container (${how})` : 'Chromium lost the renderer and kept running'}; the next page worked\n`);
  });
});
