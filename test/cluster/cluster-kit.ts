import { readFileSync } from 'node:fs';
import { AppsV1Api, CoordinationV1Api, CoreV1Api, CustomObjectsApi, type V1Pod } from '@kubernetes/client-node';
import { expect } from 'chai';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { SAMPLE_OUTLINE } from '../integration/server/server-harness.ts';
import { clusterTier, type ClusterTier } from '#support/cluster/shared.ts';

export { eventually } from '../integration/operator/helpers.ts';

/** Kubernetes API clients of the tier's admin. */
export function apis(tier: ClusterTier = clusterTier()): { core: CoreV1Api; apps: AppsV1Api; custom: CustomObjectsApi; coordination: CoordinationV1Api } {
  return {
    core: tier.kc.makeApiClient(CoreV1Api),
    apps: tier.kc.makeApiClient(AppsV1Api),
    custom: tier.kc.makeApiClient(CustomObjectsApi),
    coordination: tier.kc.makeApiClient(CoordinationV1Api),
  };
}

/** The pods of a BrowserPool in the release namespace (any state, deleted ones included until gone). */
export async function poolPods(pool = 'default', tier: ClusterTier = clusterTier()): Promise<V1Pod[]> {
  const list = await apis(tier).core.listNamespacedPod({ namespace: tier.settings.namespace, labelSelector: `browser.composer-mcp.io/pool=${pool}` });
  return list.items;
}

/** Pods of the release's operator or server Deployment. */
export async function componentPods(component: 'operator' | 'server', tier: ClusterTier = clusterTier()): Promise<V1Pod[]> {
  const list = await apis(tier).core.listNamespacedPod({
    namespace: tier.settings.namespace,
    labelSelector: `app.kubernetes.io/instance=${tier.settings.release},app.kubernetes.io/component=${component}`,
  });
  return list.items;
}

/** A BrowserPool object (status included). */
export interface PoolObject {
  metadata: { name: string; uid: string; generation?: number };
  spec: Record<string, unknown>;
  status?: { readyReplicas?: number; replicas?: number; conditions?: Array<{ type: string; status: string; reason?: string; message?: string }>; browsers?: Array<{ name: string; state: string; sessions?: number }> };
}

export async function getPool(name = 'default', tier: ClusterTier = clusterTier()): Promise<PoolObject> {
  return (await apis(tier).custom.getNamespacedCustomObject({
    group: 'browser.composer-mcp.io', version: 'v1alpha1', plural: 'browserpools', namespace: tier.settings.namespace, name,
  })) as PoolObject;
}

/** Pool and pod state in one line, for failure messages. */
export async function describePool(name = 'default'): Promise<string> {
  const pool = await getPool(name).catch((e: unknown) => ({ error: String(e) }));
  const pods = (await poolPods(name)).map((p) => [p.metadata?.name, p.status?.phase, p.metadata?.deletionTimestamp ? 'deleting' : '',
    p.status?.containerStatuses?.map((c) => `${c.name}:${c.ready ? 'ready' : 'not-ready'}:${c.restartCount}`)]);
  return JSON.stringify({ pool: 'status' in pool ? pool.status : pool, pods });
}

/** Whether the pool reports `replicas` Ready browsers and as many live pods. */
export async function poolSettled(name: string, replicas: number): Promise<boolean> {
  const pool = await getPool(name);
  const live = (await poolPods(name)).filter((p) => !p.metadata?.deletionTimestamp);
  const ready = pool.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
  return ready && pool.status?.readyReplicas === replicas && live.length === replicas
    && live.every((p) => p.status?.containerStatuses?.every((c) => c.ready) === true);
}

/** The host PID of a container's first process (its init, tini), from containerd's task list. */
export async function containerPid(pod: V1Pod, container: string, tier: ClusterTier = clusterTier()): Promise<number> {
  const id = pod.status?.containerStatuses?.find((c) => c.name === container)?.containerID?.replace(/^containerd:\/\//, '');
  if (!id) throw new Error(`Pod ${pod.metadata?.name} has no running ${container} container`);
  const tasks = await tier.cluster.ctr.run(['tasks', 'list']);
  const line = tasks.split('\n').find((l) => l.startsWith(`${id} `));
  const pid = Number(line?.trim().split(/\s+/)[1]);
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`containerd has no task for ${container} of ${pod.metadata?.name} (${id})`);
  return pid;
}

/** What the kernel says about a process's identity and confinement (/proc/<pid>/status). */
export interface ProcessConfinement {
  uid: number;
  gid: number;
  noNewPrivs: boolean;
  /** 0 disabled, 2 filter. */
  seccomp: number;
  effectiveCapabilities: bigint;
}

export function processConfinement(pid: number): ProcessConfinement {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string): string => new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(status)?.[1]?.trim() ?? '';
  return {
    uid: Number(field('Uid').split(/\s+/)[1]),
    gid: Number(field('Gid').split(/\s+/)[1]),
    noNewPrivs: field('NoNewPrivs') === '1',
    seccomp: Number(field('Seccomp')),
    effectiveCapabilities: BigInt(`0x${field('CapEff') || '0'}`),
  };
}

/** Children (and their children) of `pid`, from /proc. */
export function descendants(pid: number): number[] {
  const out: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const p = queue.shift() ?? 0;
    let children: number[] = [];
    try {
      children = readFileSync(`/proc/${p}/task/${p}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    } catch {
      // Gone.
    }
    out.push(...children);
    queue.push(...children);
  }
  return out;
}

/** Whether the root filesystem of process `pid` is mounted read-only. */
export function rootIsReadOnly(pid: number): boolean {
  const mountinfo = readFileSync(`/proc/${pid}/mountinfo`, 'utf8').split('\n');
  const root = mountinfo.find((l) => l.split(' ')[4] === '/');
  return (root?.split(' ')[5] ?? '').split(',').includes('ro');
}

export function text(result: CallToolResult): string {
  return result.content.map((c) => (c.type === 'text' ? c.text : `[${c.type}]`)).join('\n');
}

/** Calls a tool and fails the test with the tool's own message when it reports an error. */
export async function callOk(client: Client, name: string, args: Record<string, unknown>): Promise<CallToolResult> {
  const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
  expect(result.isError, `${name}: ${text(result)}`).to.not.equal(true);
  return result;
}

/** Every tool in workflow order: catalog, guidance → build → validate → save → get → open → preview (png, pdf), status. */
export async function wholeWorkflow(client: Client, title: string): Promise<{ uid: string; png: Buffer }> {
  const listed = await callOk(client, 'composer_list_widgets', {});
  expect(JSON.stringify(listed.structuredContent)).to.include('quiz-1');
  await callOk(client, 'composer_describe_widget', { type: 'quiz-1' });
  const guidance = await callOk(client, 'composer_guidance', { topic: 'Fotossíntese', subject: 'Ciências', grade: '7º ano' });
  expect(guidance.structuredContent).to.have.property('topic', 'Fotossíntese');
  const built = await callOk(client, 'composer_build_composition', { ...SAMPLE_OUTLINE, title });
  const composition = (built.structuredContent as { composition: Record<string, unknown> }).composition;
  const validated = await callOk(client, 'composer_validate_composition', { composition });
  expect((validated.structuredContent as { valid: boolean }).valid).to.equal(true);
  const saved = await callOk(client, 'composer_save_composition', { composition });
  const uid = (saved.structuredContent as { uid: string }).uid;
  const got = await callOk(client, 'composer_get_composition', { uid });
  expect(JSON.stringify(got.structuredContent)).to.include(title);
  const opened = await callOk(client, 'composer_open_composition', { uid });
  const image = opened.content.find((c) => c.type === 'image');
  expect(image, 'open returns a screenshot as image content').to.include({ mimeType: 'image/png' });
  const preview = await callOk(client, 'composer_preview_composition', { uid, format: 'png' });
  const png = preview.content.find((c) => c.type === 'image') as { data: string } | undefined;
  expect(png, 'preview returns a PNG').to.not.equal(undefined);
  const pdf = await callOk(client, 'composer_preview_composition', { uid, format: 'pdf' });
  expect((pdf.structuredContent as { preview: { mimeType: string } }).preview.mimeType).to.equal('application/pdf');
  return { uid, png: Buffer.from(png?.data ?? '', 'base64') };
}

/** The last lines of every server and operator container's log (for a failed test's message). */
export async function releaseLogs(lines = 40, tier: ClusterTier = clusterTier()): Promise<string> {
  const out: string[] = [];
  for (const component of ['server', 'operator'] as const) {
    for (const pod of await componentPods(component, tier)) {
      const name = pod.metadata?.name ?? '';
      const log = await apis(tier).core.readNamespacedPodLog({ name, namespace: tier.settings.namespace, container: component, tailLines: lines })
        .catch((e: unknown) => `(no log: ${String(e)})`);
      out.push(`--- ${name}\n${String(log)}`);
    }
  }
  return out.join('\n');
}
