import { expect } from 'chai';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { clusterTier } from '#support/cluster/shared.ts';
import { SAMPLE_OUTLINE } from '../integration/server/server-harness.ts';
import { apis, callOk, containerPid, describePool, eventually, poolPods, poolSettled, releaseLogs, text } from './cluster-kit.ts';

describe('cluster tier: browsers failing under the kubelet', function () {
  this.timeout(240_000);
  let client: Client;
  let uid = '';

  before(async () => {
    client = await clusterTier().connect();
    await eventually(() => poolSettled('default', 2), 120_000, () => describePool());
    const built = await callOk(client, 'composer_build_composition', { ...SAMPLE_OUTLINE, title: 'Falhas de navegador' });
    const saved = await callOk(client, 'composer_save_composition', { composition: (built.structuredContent as { composition: unknown }).composition });
    uid = (saved.structuredContent as { uid: string }).uid;
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed') console.error(await releaseLogs(60));
  });

  after(async () => {
    clusterTier().standin.resetFaults();
    await client?.close();
  });

  it('a browser container killed with SIGKILL is restarted by the kubelet, and the next call succeeds', async () => {
    const [victim] = (await poolPods()).filter((p) => !p.metadata?.deletionTimestamp);
    if (!victim) throw new Error(`no browser pod: ${await describePool()}`);
    const restartsBefore = victim.status?.containerStatuses?.find((c) => c.name === 'browser')?.restartCount ?? 0;
    const pid = await containerPid(victim, 'browser');
    process.kill(pid, 'SIGKILL');
    // The very next call: the router leaves the dead browser and uses the other one.
    const next = await callOk(client, 'composer_preview_composition', { uid, format: 'png' });
    expect(next.content.some((c) => c.type === 'image')).to.equal(true);
    const restarted = await eventually(async () => {
      const pod = (await poolPods()).find((p) => p.metadata?.uid === victim.metadata?.uid);
      const status = pod?.status?.containerStatuses?.find((c) => c.name === 'browser');
      return (status?.restartCount ?? 0) > restartsBefore && status?.ready ? status : undefined;
    }, 90_000, () => describePool());
    expect(restarted.lastState?.terminated?.exitCode, 'the container died of the SIGKILL').to.equal(137);
    await eventually(() => poolSettled('default', 2), 90_000, () => describePool());
    // The same pod (not a replacement) serves again: calls succeed with both browsers back.
    for (let i = 0; i < 4; i++) await callOk(client, 'composer_open_composition', { uid });
  });

  it('a browser pod deleted mid-lease fails only that lease: the idempotent calls on it are retried elsewhere', async () => {
    const tier = clusterTier();
    const pods = (await poolPods()).filter((p) => !p.metadata?.deletionTimestamp);
    expect(pods).to.have.length(2);
    // Slow Composer app loads keep each lease open for seconds: long enough to delete a pod under one.
    tier.standin.setFaults({ latencyMs: { app: 3000 } });
    const seen = tier.originRecorder.requests.length;
    const calls = Array.from({ length: 6 }, (_, i) => client.callTool({ name: 'composer_preview_composition', arguments: { uid, format: i % 2 ? 'png' : 'pdf' } }) as Promise<CallToolResult>);
    const ips = new Map(pods.map((p) => [p.status?.podIP ?? '', p]));
    // The first browser pod seen loading the app is mid-lease: delete it now.
    const busy = await eventually(() => tier.originRecorder.requests.slice(seen).find((r) => r.origin === tier.standin.appUrl && ips.has(r.from)), 30_000,
      () => JSON.stringify(tier.originRecorder.requests.slice(seen)));
    const victim = ips.get(busy.from);
    await apis().core.deleteNamespacedPod({ name: victim?.metadata?.name ?? '', namespace: tier.settings.namespace });
    const results = await Promise.allSettled(calls);
    tier.standin.resetFaults();
    const failures = results.map((r, i) => (r.status === 'rejected' ? `call ${i}: ${String(r.reason)}` : r.value.isError ? `call ${i}: ${text(r.value)}` : ''))
      .filter(Boolean);
    process.stdout.write(`      pod ${victim?.metadata?.name} deleted mid-lease: ${results.length} preview calls, ${failures.length} failed\n`);
    expect(failures, 'preview is idempotent: a lease lost with its pod is retried on another browser').to.deep.equal([]);
    // The pool replaces the pod and the deleted one is gone.
    await eventually(async () => (await poolSettled('default', 2)) && !(await poolPods()).some((p) => p.metadata?.uid === victim?.metadata?.uid), 120_000, () => describePool());
  });
});
