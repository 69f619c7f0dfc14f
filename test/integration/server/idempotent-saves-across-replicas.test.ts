import { expect } from 'chai';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { CoreV1Api } from '@kubernetes/client-node';
import { standinServerEnv } from '#support/composer-standin/server-env.ts';
import { startComposerStandin, type ComposerStandin } from '#support/composer-standin/standin.ts';
import { createTestNamespace, sharedKubeConfig, type TestNamespace } from '#support/control-plane/kube-test-kit.ts';
import { connectHttp, SAMPLE_OUTLINE, startServerProcess, type ServerProcess } from './server-harness.ts';

const TOKEN = 'standin-token-for-idempotent-replicas';

type Saved = { uid: string; created: boolean; idempotencyKey: string };

/**
 * Two real server processes (the chart's replicas) with composer.idempotency.store=kubernetes sharing one namespace
 * of a real kube-apiserver, each with its own MCP client: a save and its retry never store two compositions,
 * whichever replica each lands on. Needs --require test/support/hooks/control-plane-hook.ts (KUBECONFIG).
 */
describe('exactly-once composer_save_composition across two server replicas (Kubernetes idempotency store)', function () {
  this.timeout(120_000);
  let standin: ComposerStandin;
  let ns: TestNamespace;
  let replicas: ServerProcess[] = [];
  let clients: Client[] = [];
  let composition: Record<string, unknown>;

  before(async () => {
    standin = await startComposerStandin({ tokens: [TOKEN] });
    ns = await createTestNamespace(sharedKubeConfig(), 'idem-servers');
    const env = { ...standinServerEnv(standin, { accessToken: TOKEN }), COMPOSER_MCP_COMPOSER__IDEMPOTENCY__STORE: 'kubernetes', POD_NAMESPACE: ns.name };
    replicas = await Promise.all([startServerProcess({ env }), startServerProcess({ env })]);
    clients = await Promise.all(replicas.map((r) => connectHttp(r.url)));
    const built = (await clients[0]!.callTool({ name: 'composer_build_composition', arguments: SAMPLE_OUTLINE })) as CallToolResult;
    composition = (built.structuredContent as { composition: Record<string, unknown> }).composition;
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await Promise.all(replicas.map((r) => r.stop()));
    await standin?.stop();
    await ns?.remove();
  });

  const save = async (client: Client, args: Record<string, unknown>): Promise<Saved> => {
    const result = (await client.callTool({ name: 'composer_save_composition', arguments: args })) as CallToolResult;
    expect(result.isError, JSON.stringify(result.content)).to.not.equal(true);
    return result.structuredContent as Saved;
  };

  it('stores one composition when both replicas save the same lesson at once, and a later retry on either returns its uid', async () => {
    standin.setFaults({ latencyMs: { upload: 500 } });
    const before = standin.compositions().length;
    const concurrent = await Promise.all([save(clients[0]!, { composition }), save(clients[1]!, { composition })]);
    standin.resetFaults();
    const retried = await Promise.all([save(clients[1]!, { composition }), save(clients[0]!, { composition })]);
    const stored = standin.compositions().slice(before);
    expect(stored, 'compositions stored upstream').to.have.length(1);
    expect([...concurrent, ...retried].map((s) => s.uid)).to.deep.equal(Array(4).fill(stored[0]!.uid));
    expect(concurrent.map((s) => s.created).toSorted()).to.deep.equal([false, true]);
    expect(retried.map((s) => s.created)).to.deep.equal([false, false]);
    const objects = await sharedKubeConfig().makeApiClient(CoreV1Api).listNamespacedConfigMap({ namespace: ns.name, labelSelector: 'composer-mcp.io/idempotency=save' });
    expect(objects.items.map((o) => o.data?.['uid'])).to.deep.equal([stored[0]!.uid]);
  });

  it('answers a caller-keyed retry on the other replica with created: false, and refuses that key for changed content', async () => {
    const key = `lesson-${Date.now()}`;
    const before = standin.compositions().length;
    const first = await save(clients[0]!, { composition, idempotencyKey: key });
    const retry = await save(clients[1]!, { composition, idempotencyKey: key });
    expect(first.created).to.equal(true);
    expect(retry).to.include({ uid: first.uid, created: false });
    const changed = { ...composition, metadata: { ...(composition['metadata'] as object), title: 'Outra aula' } };
    const refused = (await clients[1]!.callTool({ name: 'composer_save_composition', arguments: { composition: changed, idempotencyKey: key } })) as CallToolResult;
    expect(refused.isError).to.equal(true);
    expect(JSON.stringify(refused.content)).to.include('INVALID_INPUT');
    expect(standin.compositions().length - before).to.equal(1);
    for (const r of replicas) expect(r.proc.exitCode, 'replica still running').to.equal(null);
  });
});
