import { expect } from 'chai';
import { CoreV1Api } from '@kubernetes/client-node';
import { KubernetesTaskStore, taskObjectNames } from '#server/mcp/tasks/kubernetes-task-store.ts';
import type { TaskRecord } from '#server/mcp/tasks/task-record.ts';
import { startComposerStandin, type ComposerStandin } from '#support/composer-standin/standin.ts';
import { createTestNamespace, sharedKubeConfig, type TestNamespace } from '#support/control-plane/kube-test-kit.ts';
import { connectEraHttp, type EraClient } from './era-clients.ts';
import { awaitTask, modernResult } from './modern-wire.ts';
import { SAMPLE_OUTLINE, startServerProcess, type ServerProcess } from './server-harness.ts';

const TOKEN = 'tasks-token-standin-0099';

function record(taskId: string, subject: string, now: number, ttlMs = 60_000): TaskRecord {
  return { taskId, subject, tool: 'composer_open_composition', status: 'working', createdAt: now, lastUpdatedAt: now, ttlMs, pollIntervalMs: 1000, runner: 'test/1' };
}

/**
 * Tasks of the 2026-07-28 tasks extension across two real server replicas sharing the Kubernetes task store in one
 * namespace of a real kube-apiserver (as the chart runs them), each with its own local browser. Needs
 * --require test/support/hooks/control-plane-hook.ts (KUBECONFIG).
 */
describe('tasks across replicas (Kubernetes task store, real apiserver, local browsers, stand-in)', function () {
  this.timeout(180_000);
  let ns: TestNamespace;

  before(async () => {
    ns = await createTestNamespace(sharedKubeConfig(), 'tasks');
  });

  after(async () => {
    await ns?.remove();
  });

  describe('the store itself', () => {
    let store: KubernetesTaskStore;
    let clock = 0;

    before(() => {
      store = new KubernetesTaskStore({ kubeConfig: sharedKubeConfig(), namespace: ns.name, now: () => Date.now() + clock });
    });

    it('creates, reads and updates records; keeps a result in its own ConfigMap; never loses one of two concurrent updates', async () => {
      const now = Date.now();
      await store.create(record('aaaaaaaa-0000-4000-8000-000000000001', 'alice', now));
      expect(await store.get('aaaaaaaa-0000-4000-8000-000000000001')).to.include({ status: 'working', subject: 'alice' });
      expect(await store.get('aaaaaaaa-0000-4000-8000-00000000ffff')).to.equal(undefined);
      await Promise.all([
        store.update('aaaaaaaa-0000-4000-8000-000000000001', (c) => ({ ...c, statusMessage: 'from replica A' })),
        store.update('aaaaaaaa-0000-4000-8000-000000000001', (c) => ({ ...c, cancelRequested: true })),
      ]);
      const both = await store.get('aaaaaaaa-0000-4000-8000-000000000001');
      expect(both).to.include({ statusMessage: 'from replica A', cancelRequested: true });
      const result = { content: [{ type: 'text' as const, text: 'r'.repeat(100_000) }] };
      await store.update('aaaaaaaa-0000-4000-8000-000000000001', (c) => ({ ...c, status: 'completed', result }));
      expect((await store.get('aaaaaaaa-0000-4000-8000-000000000001'))?.result).to.deep.equal(result);
      const core = sharedKubeConfig().makeApiClient(CoreV1Api);
      const names = taskObjectNames('aaaaaaaa-0000-4000-8000-000000000001');
      const recordObject = await core.readNamespacedConfigMap({ name: names.record, namespace: ns.name });
      expect(recordObject.data?.['record']?.length ?? 0, 'the record stays small').to.be.below(1000);
      const resultObject = await core.readNamespacedConfigMap({ name: names.result, namespace: ns.name });
      expect(resultObject.metadata?.ownerReferences?.[0]).to.include({ kind: 'ConfigMap', name: names.record });
    });

    it('counts a subject\'s unexpired tasks, and the sweep deletes expired ones with their results', async () => {
      const now = Date.now();
      await store.create(record('bbbbbbbb-0000-4000-8000-000000000001', 'bob', now, 1000));
      await store.create(record('bbbbbbbb-0000-4000-8000-000000000002', 'bob', now, 600_000));
      await store.update('bbbbbbbb-0000-4000-8000-000000000001', (c) => ({ ...c, status: 'completed', result: { content: [] } }));
      expect(await store.countBySubject('bob')).to.equal(2);
      clock = 5000;
      try {
        expect(await store.countBySubject('bob')).to.equal(1);
        expect(await store.get('bbbbbbbb-0000-4000-8000-000000000001')).to.equal(undefined);
        expect(await store.sweep()).to.be.greaterThan(0);
        const core = sharedKubeConfig().makeApiClient(CoreV1Api);
        const left = (await core.listNamespacedConfigMap({ namespace: ns.name, labelSelector: 'composer-mcp.io/task-id=bbbbbbbb-0000-4000-8000-000000000001' })).items;
        expect(left.map((cm) => cm.metadata?.name)).to.deep.equal([]);
      } finally {
        clock = 0;
      }
    });
  });

  describe('two server replicas', () => {
    let standin: ComposerStandin;
    let replicas: ServerProcess[] = [];
    let observers: EraClient[] = [];
    let uid: string;

    const pool = async (index: number) => ((await observers[index]!.callTool('composer_status', {})).structuredContent as { browsers: { healthy: number; sessionsInUse: number } }).browsers;
    async function until(what: string, ok: () => Promise<boolean>, timeoutMs: number): Promise<number> {
      const started = Date.now();
      while (!(await ok())) {
        if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 25));
      }
      return Date.now();
    }

    before(async () => {
      standin = await startComposerStandin({ tokens: [TOKEN] });
      const env = {
        COMPOSER_MCP_COMPOSER__COMPOSER_URL: standin.appUrl,
        COMPOSER_MCP_COMPOSER__API_URL: standin.apiUrl,
        COMPOSER_MCP_COMPOSER__ACCESS_TOKEN: TOKEN,
        COMPOSER_MCP_COMPOSER__PROJECT_KEY: 'project-key-1',
        COMPOSER_MCP_COMPOSER__CONNECTOR_UID: 'connector-1',
        COMPOSER_MCP_BROWSERS__SOURCE: 'local',
        COMPOSER_MCP_BROWSERS__LOCAL__COUNT: '1',
        COMPOSER_MCP_TASKS__STORE: 'kubernetes',
        COMPOSER_MCP_TASKS__POLL_INTERVAL_MS: '200',
        COMPOSER_MCP_RATE_LIMIT__MAX_REQUESTS: '100000',
        POD_NAMESPACE: ns.name,
      };
      replicas = await Promise.all([startServerProcess({ env }), startServerProcess({ env })]);
      observers = await Promise.all(replicas.map((r) => connectEraHttp('v2-2026', r.url)));
      await until('healthy browsers', async () => (await pool(0)).healthy === 1 && (await pool(1)).healthy === 1, 30_000);
      const built = await observers[0]!.callTool('composer_build_composition', { ...SAMPLE_OUTLINE, title: 'Tarefas' });
      uid = ((await observers[0]!.callTool('composer_save_composition', { composition: (built.structuredContent as { composition: unknown }).composition })).structuredContent as { uid: string }).uid;
    });

    after(async () => {
      await Promise.all(observers.map((c) => c.close()));
      await Promise.all(replicas.map((r) => r.stop()));
      await standin?.stop();
    });

    afterEach(() => standin.resetFaults());

    it('creates an open task on one replica and answers it, completed with its screenshot, on the other', async () => {
      const handle = await modernResult(replicas[0]!.url, 'tools/call', { name: 'composer_open_composition', arguments: { uid } }, { tasks: true });
      expect(handle).to.include({ resultType: 'task', status: 'working' });
      const taskId = handle['taskId'] as string;
      const done = await awaitTask(replicas[1]!.url, taskId, { timeoutMs: 60_000 });
      expect(done['status'], JSON.stringify(done).slice(0, 500)).to.equal('completed');
      const result = done['result'] as { content: Array<{ type: string; mimeType?: string }>; structuredContent: { uid: string } };
      expect(result.content.some((c) => c.type === 'image' && c.mimeType === 'image/png')).to.equal(true);
      expect(result.structuredContent.uid).to.equal(uid);
      expect(replicas[0]!.logs().some((l) => l['message'] === 'Created task' && l['taskId'] === taskId)).to.equal(true);
      expect(replicas[1]!.logs().some((l) => l['message'] === 'Created task' && l['taskId'] === taskId)).to.equal(false);
    });

    it('cancels, from the other replica, a task running on the first: its lease is free within a poll interval and a second, and it stays cancelled', async () => {
      standin.setFaults({ latencyMs: { read: 8000 } });
      const handle = await modernResult(replicas[0]!.url, 'tools/call', { name: 'composer_open_composition', arguments: { uid } }, { tasks: true });
      const taskId = handle['taskId'] as string;
      await until('the task to hold a lease on its replica', async () => (await pool(0)).sessionsInUse === 1, 15_000);
      const cancelledAt = Date.now();
      const ack = await modernResult(replicas[1]!.url, 'tasks/cancel', { taskId }, { tasks: true });
      expect(ack['resultType']).to.equal('complete');
      const freedAt = await until('the lease to be freed', async () => (await pool(0)).sessionsInUse === 0, 5_000);
      console.log(`      lease free ${freedAt - cancelledAt} ms after tasks/cancel on the other replica (poll interval 200 ms)`);
      expect(freedAt - cancelledAt).to.be.below(1200);
      await new Promise((r) => setTimeout(r, 500));
      for (const replica of replicas) expect((await modernResult(replica.url, 'tasks/get', { taskId }, { tasks: true }))['status']).to.equal('cancelled');
      const audit = replicas[0]!.logs().filter((l) => l['message'] === 'Tool call completed' && l['tool'] === 'composer_open_composition').at(-1);
      expect(audit).to.include({ outcome: 'CANCELLED' });
    });

    it('keeps a task when the replica that ran it goes away: the other replica still answers its result', async () => {
      const handle = await modernResult(replicas[0]!.url, 'tools/call', { name: 'composer_preview_composition', arguments: { uid, format: 'png', fullPage: false } }, { tasks: true });
      const taskId = handle['taskId'] as string;
      const done = await awaitTask(replicas[1]!.url, taskId, { timeoutMs: 60_000 });
      expect(done['status']).to.equal('completed');
      await observers[0]!.close();
      expect(await replicas[0]!.stop()).to.deep.equal({ code: 0, signal: null });
      const after = await modernResult(replicas[1]!.url, 'tasks/get', { taskId }, { tasks: true });
      expect(after).to.deep.include({ taskId, status: 'completed' });
      expect(after['result']).to.deep.equal(done['result']);
    });
  });
});
