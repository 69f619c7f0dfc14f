import { randomBytes } from 'node:crypto';
import { CoreV1Api, CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions, type V1Pod } from '@kubernetes/client-node';
import { createLogger, type Logger } from '#common/logger.ts';
import {
  BROWSERPOOL_API_VERSION, BROWSERPOOL_GROUP, BROWSERPOOL_KIND, BROWSERPOOL_PLURAL, BROWSERPOOL_VERSION,
  type BrowserPool, type BrowserPoolSpec, type Condition,
} from '#kube/api/v1alpha1/browserpool.ts';
import { applyBrowserPoolCrd } from '#support/kube/browserpool-crd.ts';
import { isNotFound } from '#kube/runtime/kube-errors.ts';
import { ensureDefaultServiceAccount } from '#support/control-plane/kube-test-kit.ts';
import type { Manager } from '#kube/runtime/manager.ts';
import type { LeaseStore } from '#kube/runtime/lease-store.ts';
import type { BrowserPoolController } from '#operator/controllers/browserpool/controller.ts';
import { createBrowserPoolOperator, type BrowserPoolOperatorOptions } from '#operator/browserpool-operator.ts';

/** A quiet logger for tests (set TEST_LOG_LEVEL=debug to see everything). */
export function testLogger(component: string): Logger {
  return createLogger({ component, level: process.env['TEST_LOG_LEVEL'] ?? 'warn', format: 'json' });
}

/** The admin kubeconfig of the shared test control plane. */
export function kubeConfig(): KubeConfig {
  const path = process.env['KUBECONFIG'];
  if (!path) throw new Error('KUBECONFIG is not set: run with --require test/support/hooks/control-plane-hook.ts');
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  return kc;
}

let crdApplied: Promise<unknown> | undefined;
/** Applies the BrowserPool CRD once per run and waits until it is served. */
export function ensureCrd(kc: KubeConfig): Promise<unknown> {
  crdApplied ??= applyBrowserPoolCrd(kc);
  return crdApplied;
}

/** Creates a fresh namespace; returns its name and a clean-up that deletes it. */
export async function createNamespace(kc: KubeConfig, prefix: string): Promise<{ name: string; remove: () => Promise<void> }> {
  const name = `${prefix}-${randomBytes(3).toString('hex')}`;
  const core = kc.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name } } });
  // Pods are refused until the namespace's default ServiceAccount exists (see ensureDefaultServiceAccount).
  await ensureDefaultServiceAccount(core, name);
  return {
    name,
    remove: async () => {
      await core.deleteNamespace({ name }).catch(() => undefined);
    },
  };
}

const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** CRUD on BrowserPools for tests. */
export class Pools {
  readonly #custom: CustomObjectsApi;
  readonly #core: CoreV1Api;
  readonly namespace: string;

  constructor(kc: KubeConfig, namespace: string) {
    this.#custom = kc.makeApiClient(CustomObjectsApi);
    this.#core = kc.makeApiClient(CoreV1Api);
    this.namespace = namespace;
  }

  async create(name: string, spec: Partial<BrowserPoolSpec>): Promise<BrowserPool> {
    return (await this.#custom.createNamespacedCustomObject({
      group: BROWSERPOOL_GROUP, version: BROWSERPOOL_VERSION, plural: BROWSERPOOL_PLURAL, namespace: this.namespace,
      body: { apiVersion: BROWSERPOOL_API_VERSION, kind: BROWSERPOOL_KIND, metadata: { name }, spec },
    })) as BrowserPool;
  }

  async get(name: string): Promise<BrowserPool | undefined> {
    try {
      return (await this.#custom.getNamespacedCustomObject({
        group: BROWSERPOOL_GROUP, version: BROWSERPOOL_VERSION, plural: BROWSERPOOL_PLURAL, namespace: this.namespace, name,
      })) as BrowserPool;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async patchSpec(name: string, spec: Record<string, unknown>): Promise<BrowserPool> {
    return (await this.#custom.patchNamespacedCustomObject({
      group: BROWSERPOOL_GROUP, version: BROWSERPOOL_VERSION, plural: BROWSERPOOL_PLURAL, namespace: this.namespace, name,
      body: { spec },
    }, merge)) as BrowserPool;
  }

  async patchMetadata(name: string, metadata: Record<string, unknown>): Promise<void> {
    await this.#custom.patchNamespacedCustomObject({
      group: BROWSERPOOL_GROUP, version: BROWSERPOOL_VERSION, plural: BROWSERPOOL_PLURAL, namespace: this.namespace, name,
      body: { metadata },
    }, merge);
  }

  async delete(name: string): Promise<void> {
    await this.#custom.deleteNamespacedCustomObject({
      group: BROWSERPOOL_GROUP, version: BROWSERPOOL_VERSION, plural: BROWSERPOOL_PLURAL, namespace: this.namespace, name,
    });
  }

  /** Pods of the pool (any state). */
  async pods(name: string): Promise<V1Pod[]> {
    const list = await this.#core.listNamespacedPod({ namespace: this.namespace, labelSelector: `browser.composer-mcp.io/pool=${name}` });
    return list.items;
  }

  async events(): Promise<Array<{ reason: string; message: string }>> {
    const list = await this.#core.listNamespacedEvent({ namespace: this.namespace });
    return list.items.map((e) => ({ reason: e.reason ?? '', message: e.message ?? '' }));
  }
}

/** A condition of a pool, or undefined. */
export function condition(pool: BrowserPool | undefined, type: string): Condition | undefined {
  return pool?.status?.conditions?.find((c) => c.type === type);
}

/** Polls `check` until it returns a truthy value or `timeoutMs` passes; then throws with `describe()`. */
export async function eventually<T>(check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs: number, describe: () => Promise<string> | string = () => ''): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`Condition not met within ${timeoutMs} ms. ${await describe()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** An in-process operator instance (the same assembly as the entry point: manager + controller). */
export interface TestOperator {
  controller: BrowserPoolController;
  manager: Manager;
  isLeader(): boolean;
  stop(): Promise<void>;
}

/** Starts the operator in this process; with `lease`, it reconciles only while this instance leads. */
export async function startTestOperator(kc: KubeConfig, options: Partial<BrowserPoolOperatorOptions> & {
  lease?: {
    namespace: string; name: string; identity: string; leaseDurationMs?: number; renewDeadlineMs?: number; retryPeriodMs?: number;
    releaseOnCancel?: boolean; store?: LeaseStore;
  };
} = {}): Promise<TestOperator> {
  const { lease, ...rest } = options;
  const logger = options.logger ?? testLogger('operator');
  const { manager, controller } = createBrowserPoolOperator({
    kubeConfig: kc, logger, planOptions: { minDrainSeconds: 0.5, sessionPollSeconds: 2 }, identity: lease?.identity ?? 'test-operator',
    ...(lease ? {
      leaderElection: {
        namespace: lease.namespace, name: lease.name,
        leaseDurationMs: lease.leaseDurationMs ?? 4000, renewDeadlineMs: lease.renewDeadlineMs ?? 3000,
        retryPeriodMs: lease.retryPeriodMs ?? 500, releaseOnCancel: lease.releaseOnCancel ?? true,
        ...(lease.store ? { store: lease.store } : {}),
      },
      writeTimeoutMs: Math.min(2000, (lease.leaseDurationMs ?? 4000) - (lease.renewDeadlineMs ?? 3000)),
      drainTimeoutMs: 1000,
    } : {}),
    ...rest,
  });
  manager.start();
  return { controller, manager, isLeader: () => manager.isLeader(), stop: () => manager.stop() };
}
