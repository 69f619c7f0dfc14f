import { expect } from 'chai';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { LOCAL_REGISTRY } from '#support/cluster/cluster.ts';
import { helmRollback, helmUpgrade } from '#support/cluster/release.ts';
import { clusterTier } from '#support/cluster/shared.ts';
import { SAMPLE_OUTLINE } from '../integration/server/server-harness.ts';
import { callOk, componentPods, describePool, eventually, poolPods, releaseLogs, text } from './cluster-kit.ts';

/** Tool calls made and failed while something happened, with the failures' messages. */
interface CallCount {
  made: number;
  failed: number;
  failures: string[];
  byTool: Record<string, number>;
}

/**
 * Clients calling tools without pause (each its own connection pool through the Service) until stopped: catalog
 * and validation (server only), get (server → Composer API), open and preview (server → browser pod → Composer).
 */
function callContinuously(clients: Client[], uid: string, composition: unknown): { stop: () => Promise<CallCount> } {
  const count: CallCount = { made: 0, failed: 0, failures: [], byTool: {} };
  const state = { running: true };
  const plan: Array<[string, Record<string, unknown>]> = [
    ['composer_list_widgets', {}],
    ['composer_validate_composition', { composition }],
    ['composer_get_composition', { uid }],
    ['composer_open_composition', { uid }],
    ['composer_preview_composition', { uid, format: 'png' }],
    ['composer_status', {}],
  ];
  const loops = clients.map(async (client, c) => {
    for (let i = c; state.running; i++) {
      const [name, args] = plan[i % plan.length] ?? plan[0]!;
      count.made++;
      count.byTool[name] = (count.byTool[name] ?? 0) + 1;
      try {
        const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
        if (result.isError) {
          count.failed++;
          count.failures.push(`${name}: ${text(result).slice(0, 300)}`);
        }
      } catch (error) {
        count.failed++;
        count.failures.push(`${name}: ${String(error).slice(0, 300)}`);
      }
    }
  });
  return {
    stop: async () => {
      state.running = false;
      await Promise.all(loops);
      return count;
    },
  };
}

/** Whether every pod of the release (operator, server, browsers) runs images of `tag` and the pool is settled. */
async function releaseRuns(tag: string): Promise<boolean> {
  const images = (pods: Awaited<ReturnType<typeof poolPods>>) => pods.filter((p) => !p.metadata?.deletionTimestamp)
    .flatMap((p) => (p.spec?.containers ?? []).map((c) => c.image ?? ''));
  const pods = [...await componentPods('operator'), ...await componentPods('server'), ...await poolPods()];
  const live = pods.filter((p) => !p.metadata?.deletionTimestamp);
  const allReady = live.every((p) => p.status?.containerStatuses?.every((c) => c.ready) === true);
  return allReady && images(pods).every((image) => image.startsWith(LOCAL_REGISTRY) && image.endsWith(`:${tag}`))
    && (await poolPods()).filter((p) => !p.metadata?.deletionTimestamp).length === 2;
}

describe('cluster tier: helm upgrade and helm rollback while clients call the tools', function () {
  this.timeout(600_000);
  let clients: Client[] = [];
  let uid = '';
  let composition: unknown;

  before(async () => {
    const tier = clusterTier();
    clients = await Promise.all([tier.connect(), tier.connect(), tier.connect()]);
    const built = await callOk(clients[0]!, 'composer_build_composition', { ...SAMPLE_OUTLINE, title: 'Atualização sem falhas' });
    composition = (built.structuredContent as { composition: unknown }).composition;
    uid = ((await callOk(clients[0]!, 'composer_save_composition', { composition })).structuredContent as { uid: string }).uid;
    await eventually(() => releaseRuns(tier.tags[0] ?? 'r1'), 180_000, () => describePool());
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed') console.error(await releaseLogs(60));
  });

  after(async () => {
    for (const c of clients) await c.close().catch(() => undefined);
  });

  for (const step of ['upgrade', 'rollback'] as const) {
    it(`helm ${step} ${step === 'upgrade' ? 'to a new image tag' : 'to the installed revision'}: zero failed calls, every pod on the ${step === 'upgrade' ? 'new' : 'old'} images`, async () => {
      const tier = clusterTier();
      const target = step === 'upgrade' ? tier.tags[1] ?? 'r2' : tier.tags[0] ?? 'r1';
      const calls = callContinuously(clients, uid, composition);
      const begin = Date.now();
      if (step === 'upgrade') await helmUpgrade(tier.cluster.kubeconfigPath, tier.settings, tier.valuesFile, target);
      else await helmRollback(tier.cluster.kubeconfigPath, tier.settings, 1);
      const helmMs = Date.now() - begin;
      // helm --wait covers the Deployments; the browsers roll after (the operator starts new ones, drains the old).
      await eventually(() => releaseRuns(target), 300_000, () => describePool());
      const count = await calls.stop();
      const rolledMs = Date.now() - begin;
      process.stdout.write(`      helm ${step} → ${target}: ${count.made} calls made, ${count.failed} failed ` +
        `(helm ${(helmMs / 1000).toFixed(1)} s, every pod on ${target} after ${(rolledMs / 1000).toFixed(1)} s; ${JSON.stringify(count.byTool)})\n`);
      expect(count.made, 'calls made during the roll').to.be.greaterThan(20);
      expect(count.failures, `failed calls during helm ${step}`).to.deep.equal([]);
    });
  }
});
