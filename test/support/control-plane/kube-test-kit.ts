import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiException, CoreV1Api, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { sharedControlPlane } from './shared.ts';

/** A KubeConfig for the shared test control plane: admin, or the kubeconfig file given. */
export function sharedKubeConfig(kubeconfigPath: string = sharedControlPlane().kubeconfigPath): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  return kc;
}

/** A namespace created for one test file; `remove()` deletes it (the controller-manager then empties it). */
export interface TestNamespace {
  name: string;
  remove(): Promise<void>;
}

/** Creates a uniquely named namespace `<prefix>-<6 hex>`; call `remove()` in an after hook. */
export async function createTestNamespace(kc: KubeConfig, prefix: string): Promise<TestNamespace> {
  const core = kc.makeApiClient(CoreV1Api);
  const name = `${prefix}-${randomBytes(3).toString('hex')}`;
  await core.createNamespace({ body: { metadata: { name } } });
  await ensureDefaultServiceAccount(core, name);
  return {
    name,
    async remove() {
      await core.deleteNamespace({ name }).catch(() => undefined);
    },
  };
}

/**
 * Waits for the namespace's `default` ServiceAccount, which the apiserver requires before it admits a pod. The
 * controller-manager's ServiceAccount controller makes it, but falls far behind when earlier suites leave many
 * namespaces terminating (seen after apiserver restarts); past a short wait this creates it exactly as that
 * controller would (a bare ServiceAccount named `default`), so a test never waits on the backlog of another.
 */
export async function ensureDefaultServiceAccount(core: CoreV1Api, namespace: string, waitMs = 5000): Promise<void> {
  const exists = () => core.readNamespacedServiceAccount({ namespace, name: 'default' }).then(() => true, () => false);
  const deadline = Date.now() + waitMs;
  while (Date.now() < deadline) {
    if (await exists()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: 'default' } } }).catch((error: unknown) => {
    if (apiError(error).status !== 409) throw error;
  });
}

/** The HTTP status and the API server's Status message of a failed call (message of other errors, status 0). */
export function apiError(error: unknown): { status: number; message: string } {
  if (error instanceof ApiException) {
    const body = error.body as unknown;
    let message = typeof body === 'string' ? body : JSON.stringify(body);
    try {
      const parsed = (typeof body === 'string' ? JSON.parse(body) : body) as { message?: string };
      if (typeof parsed.message === 'string') message = parsed.message;
    } catch {
      // Not JSON: keep the raw body.
    }
    return { status: error.code, message };
  }
  return { status: 0, message: (error as Error).message };
}

/** Awaits `call` and returns its apiError; throws when the call succeeded. */
export async function expectApiFailure(call: Promise<unknown>): Promise<{ status: number; message: string }> {
  try {
    await call;
  } catch (error) {
    return apiError(error);
  }
  throw new Error('Expected the API call to fail, but it succeeded');
}

/** Polls `condition` every 50 ms until it holds or `timeoutMs` passes; throws naming `what` on timeout. */
export async function eventually(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return;
    await sleep(50);
  }
  throw new Error(`Timed out after ${timeoutMs} ms waiting until ${what}`);
}

/**
 * Request options that send a patch as JSON merge patch. Typed `patch*` calls default to JSON Patch, and custom
 * resources reject strategic merge patch: pass this as the options argument.
 */
export function mergePatch(): ReturnType<typeof setHeaderOptions> {
  return setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
}
