import { expect } from 'chai';
import type { KubeConfig } from '@kubernetes/client-node';
import { startPodRunner, type PodRunner } from '#support/pod-runner/pod-runner.ts';
import { KubernetesEndpointSource } from '#server/browsers/kubernetes-source.ts';
import { BrowserRouter } from '#server/browsers/router.ts';
import { ANNOTATION_DRAINING_SINCE } from '#kube/api/v1alpha1/contract.ts';
import { connectHttp, startServerProcess } from '../integration/server/server-harness.ts';
import {
  Pools, condition, createNamespace, ensureCrd, eventually, kubeConfig, startTestOperator, testLogger, type TestOperator,
} from '../integration/operator/helpers.ts';

/** A deferred: a promise with its resolve in hand. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  const { promise, resolve } = Promise.withResolvers<void>();
  return { promise, resolve: () => resolve() };
}

describe('BrowserPool end to end: operator + pod runner + real browsers + router', function () {
  this.timeout(180_000);
  let kc: KubeConfig;
  let ns: { name: string; remove: () => Promise<void> };
  let runner: PodRunner;
  let operator: TestOperator;
  let pools: Pools;
  const cleanups: Array<() => Promise<void>> = [];

  before(async function () {
    this.timeout(60_000);
    kc = kubeConfig();
    await ensureCrd(kc);
    ns = await createNamespace(kc, 'bp-e2e');
    runner = await startPodRunner({ kubeconfigPath: process.env['KUBECONFIG'] ?? '', logger: testLogger('pod-runner') });
    operator = await startTestOperator(kc, { namespace: ns.name });
    pools = new Pools(kc, ns.name);
  });

  afterEach(async () => {
    for (const c of cleanups.splice(0).toReversed()) await c().catch(() => undefined);
  });

  after(async function () {
    this.timeout(60_000);
    await operator?.stop();
    await runner?.stop();
    await ns?.remove();
  });

  const describePool = async (name: string): Promise<string> => JSON.stringify({
    status: (await pools.get(name))?.status,
    pods: (await pools.pods(name)).map((p) => [p.metadata?.name, p.status?.phase, p.status?.podIP, p.status?.containerStatuses?.map((c) => [c.name, c.ready, c.restartCount])]),
  });

  async function poolWithRouter(name: string, spec: Parameters<Pools['create']>[1]): Promise<{ router: BrowserRouter; source: KubernetesEndpointSource }> {
    await pools.create(name, spec);
    await eventually(async () => {
      const p = await pools.get(name);
      return condition(p, 'Ready')?.status === 'True' && p?.status?.readyReplicas === spec.replicas ? p : undefined;
    }, 90_000, () => describePool(name));
    const source = new KubernetesEndpointSource({ kubeConfig: kc, namespace: ns.name, pool: name, logger: testLogger('kubernetes-source') });
    const router = new BrowserRouter({ source, logger: testLogger('router'), healthIntervalMs: 1000, queueTimeoutMs: 60_000, prewarmPerBrowser: 0 });
    await router.start();
    cleanups.push(async () => {
      await router.stop();
      await source.stop();
      await pools.delete(name).catch(() => undefined);
      await eventually(async () => (await pools.pods(name)).length === 0 || undefined, 60_000).catch(() => undefined);
    });
    await eventually(() => router.stats().healthy >= (spec.replicas ?? 0) || undefined, 30_000, () => JSON.stringify(router.stats()));
    return { router, source };
  }

  it('a pool of 2: real browsers in their own network namespaces, leases land on both', async () => {
    const { router, source } = await poolWithRouter('two', { replicas: 2 });
    const endpoints = source.current();
    expect(endpoints.map((e) => e.state)).to.deep.equal(['Ready', 'Ready']);
    for (const e of endpoints) expect(e.url).to.match(/^http:\/\/10\.244\.\d+\.\d+:9222$/);
    const both = deferred();
    let entered = 0;
    const ids = await Promise.all([0, 1].map(() => router.withLease(async (lease) => {
      expect(await lease.page.evaluate(() => 6 * 7)).to.equal(42);
      entered++;
      if (entered === 2) both.resolve();
      await both.promise;
      return lease.browserId;
    })));
    expect(new Set(ids)).to.deep.equal(new Set(endpoints.map((e) => e.id)));
    // The gateway refuses a wrong token: CDP is never open without the pool's token.
    const res = await fetch(`${endpoints[0]?.url ?? ''}/json/version`, { headers: { authorization: 'Bearer wrong' } });
    expect(res.status).to.equal(401);
  });

  it('a killed browser process is restarted and leases fail over meanwhile', async () => {
    const { router, source } = await poolWithRouter('crash', { replicas: 2, recycle: { maxAgeSeconds: 3600, drainTimeoutSeconds: 30, unhealthyAfterSeconds: 60 } });
    const victim = source.current()[0]?.id ?? '';
    expect(runner.killContainer(ns.name, victim, 'browser')).to.equal(true);
    // Leases keep working on the other browser while the victim is down.
    for (let i = 0; i < 5; i++) {
      const id = await router.withLease(async (lease) => {
        await lease.page.evaluate(() => document.title);
        return lease.browserId;
      }, { idempotent: true });
      expect(id).to.be.a('string');
    }
    await eventually(async () => {
      const pod = (await pools.pods('crash')).find((p) => p.metadata?.name === victim);
      const restarted = pod?.status?.containerStatuses?.find((c) => c.name === 'browser')?.restartCount ?? 0;
      const p = await pools.get('crash');
      return restarted >= 1 && p?.status?.browsers?.find((b) => b.name === victim)?.state === 'Ready' && p.status.readyReplicas === 2 ? true : undefined;
    }, 60_000, () => describePool('crash'));
    await eventually(() => router.stats().healthy === 2 || undefined, 30_000, () => JSON.stringify(router.stats()));
    const seen = new Set<string>();
    const gate = deferred();
    let entered = 0;
    await Promise.all([0, 1].map(() => router.withLease(async (lease) => {
      seen.add(lease.browserId);
      entered++;
      if (entered === 2) gate.resolve();
      await gate.promise;
    })));
    expect(seen.size).to.equal(2);
  });

  it('a short maxAge recycles a browser without failing the lease in flight on it', async () => {
    const { router } = await poolWithRouter('recycle', { replicas: 1, recycle: { maxAgeSeconds: 12, drainTimeoutSeconds: 12, unhealthyAfterSeconds: 60 } });
    const first = (await pools.get('recycle'))?.status?.browsers?.[0]?.name ?? '';
    let drainedWhileLeased = false;
    const result = await router.withLease(async (lease) => {
      expect(lease.browserId).to.equal(first);
      await eventually(async () => {
        const pod = (await pools.pods('recycle')).find((p) => p.metadata?.name === first);
        return pod?.metadata?.annotations?.[ANNOTATION_DRAINING_SINCE] ? true : undefined;
      }, 60_000, () => describePool('recycle'));
      drainedWhileLeased = true;
      // Still usable while draining: the operator waits for the open page to close.
      return lease.page.evaluate(() => 'still here');
    });
    expect(drainedWhileLeased).to.equal(true);
    expect(result).to.equal('still here');
    await eventually(async () => {
      const pods = await pools.pods('recycle');
      return pods.every((p) => p.metadata?.name !== first) || undefined;
    }, 60_000, () => describePool('recycle'));
    const after = await router.withLease(async (lease) => lease.browserId);
    expect(after).to.not.equal(first);
  });

  it('scaling 2 → 1 removes the idle browser, not the busy one', async () => {
    const { router, source } = await poolWithRouter('shrink', { replicas: 2, recycle: { maxAgeSeconds: 3600, drainTimeoutSeconds: 120, unhealthyAfterSeconds: 60 } });
    expect(source.current()).to.have.length(2);
    const release = deferred();
    let busy = '';
    const holding = router.withLease(async (lease) => {
      busy = lease.browserId;
      await release.promise;
      return lease.page.evaluate(() => 'done');
    });
    await eventually(() => busy || undefined, 30_000);
    // Let the operator observe the open page on the busy browser.
    await eventually(async () => ((await pools.get('shrink'))?.status?.browsers?.find((b) => b.name === busy)?.sessions ?? 0) >= 1 || undefined, 30_000, () => describePool('shrink'));
    await pools.patchSpec('shrink', { replicas: 1 });
    await eventually(async () => {
      const pods = (await pools.pods('shrink')).filter((p) => !p.metadata?.deletionTimestamp);
      return pods.length === 1 && pods[0]?.metadata?.name === busy ? true : undefined;
    }, 60_000, () => describePool('shrink'));
    release.resolve();
    expect(await holding).to.equal('done');
    const p = await eventually(async () => {
      const pool = await pools.get('shrink');
      return pool?.status?.browsers?.length === 1 && condition(pool, 'Progressing')?.status === 'False' ? pool : undefined;
    }, 30_000, () => describePool('shrink'));
    expect(p.status?.browsers?.[0]?.name).to.equal(busy);
  });

  it('the MCP server on a BrowserPool: composer_status over Streamable HTTP follows the pool as it scales', async () => {
    await pools.create('mcp', { replicas: 2 });
    await eventually(async () => (await pools.get('mcp'))?.status?.readyReplicas === 2 || undefined, 90_000, () => describePool('mcp'));
    const server = await startServerProcess({
      env: { KUBECONFIG: process.env['KUBECONFIG'] ?? '' },
      args: ['--browsers.source=kubernetes', `--browsers.kubernetes.namespace=${ns.name}`, '--browsers.kubernetes.pool=mcp'],
      timeoutMs: 60_000,
    });
    cleanups.push(async () => {
      await server.stop();
      await pools.delete('mcp').catch(() => undefined);
    });
    const client = await connectHttp(server.url);
    cleanups.push(() => client.close());
    const status = async () => {
      const r = await client.callTool({ name: 'composer_status', arguments: {} });
      return (r.structuredContent as { browsers?: { browsers: number; healthy: number } } | undefined)?.browsers;
    };
    await eventually(async () => (await status())?.healthy === 2 || undefined, 60_000, async () => JSON.stringify(await status()));
    await pools.patchSpec('mcp', { replicas: 1 });
    await eventually(async () => {
      const b = await status();
      return b?.browsers === 1 && b.healthy === 1 ? true : undefined;
    }, 60_000, async () => JSON.stringify(await status()));
  });

  it('stopping the pod runner leaves no browser process and no network namespace behind', async () => {
    await pools.create('leftover', { replicas: 1 });
    await eventually(async () => (await pools.get('leftover'))?.status?.readyReplicas === 1 || undefined, 90_000, () => describePool('leftover'));
    const { execFileSync } = await import('node:child_process');
    const ips = [...runner.running().values()];
    expect(ips.length).to.be.at.least(1);
    const netnsNames = ips.map((ip) => {
      const [, , third, fourth] = ip.split('.').map(Number);
      return `cmcp-pr-${((third ?? 0) * 256 + (fourth ?? 0) - 2) / 4}`;
    });
    const pidsBefore = netnsNames.flatMap((n) => execFileSync('ip', ['netns', 'pids', n], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number));
    expect(pidsBefore.length, 'browser processes run in the pod namespaces').to.be.at.least(2);
    await operator.stop();
    await runner.stop();
    const left = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').map((l) => l.split(' ')[0]);
    for (const n of netnsNames) expect(left, n).to.not.include(n);
    const { readFileSync } = await import('node:fs');
    for (const pid of pidsBefore) {
      let state = 'gone';
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] ?? '?';
      } catch {
        // gone
      }
      // A zombie waiting for init to reap it has already exited.
      expect(['gone', 'Z'], `process ${pid} still running (state ${state})`).to.include(state);
    }
    expect(runner.running().size).to.equal(0);
  });
});
