import { randomBytes } from 'node:crypto';
import { ApiextensionsV1Api, CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';

/** The admin kubeconfig of the shared test control plane (set by the control-plane mocha hook). */
export function testKubeConfig(): KubeConfig {
  const path = process.env['KUBECONFIG'];
  if (!path) throw new Error('KUBECONFIG is not set: run mocha with --require test/support/hooks/control-plane-hook.ts');
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  return kc;
}

/** Creates a uniquely named namespace; the returned `remove()` deletes it (call it in after hooks). */
export async function testNamespace(kc: KubeConfig, prefix: string): Promise<{ name: string; remove(): Promise<void> }> {
  const core = kc.makeApiClient(CoreV1Api);
  const name = `${prefix}-${randomBytes(3).toString('hex')}`;
  await core.createNamespace({ body: { metadata: { name } } });
  return {
    name,
    async remove() {
      await core.deleteNamespace({ name }).catch(() => undefined);
    },
  };
}

/** Polls `condition` every 25 ms until it is true or `timeoutMs` passes; throws `what` on timeout. */
export async function eventually(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`Timed out after ${timeoutMs} ms waiting until ${what}`);
}

/** API group of the throw-away test CRD. */
export const PROBE_GROUP = 'runtime-test.composer-mcp.io';

/**
 * Creates a namespaced test CRD `probes.runtime-test.composer-mcp.io` (kind Probe) and waits until it is served.
 * `create` makes a Probe; `remove` deletes the CRD.
 */
export async function createProbeCrd(kc: KubeConfig): Promise<{ create(namespace: string, name: string): Promise<void>; remove(): Promise<void> }> {
  const ext = kc.makeApiClient(ApiextensionsV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const name = `probes.${PROBE_GROUP}`;
  await ext.createCustomResourceDefinition({
    body: {
      metadata: { name },
      spec: {
        group: PROBE_GROUP,
        scope: 'Namespaced',
        names: { plural: 'probes', singular: 'probe', kind: 'Probe', listKind: 'ProbeList' },
        versions: [
          {
            name: 'v1',
            served: true,
            storage: true,
            schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { n: { type: 'integer' } } } } } },
          },
        ],
      },
    },
  });
  const create = async (namespace: string, objectName: string): Promise<void> => {
    await custom.createNamespacedCustomObject({
      group: PROBE_GROUP,
      version: 'v1',
      namespace,
      plural: 'probes',
      body: { apiVersion: `${PROBE_GROUP}/v1`, kind: 'Probe', metadata: { name: objectName }, spec: { n: 1 } },
    });
  };
  // Established, then actually served (discovery can lag the condition).
  await eventually(async () => {
    const crd = await ext.readCustomResourceDefinition({ name });
    return crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') ?? false;
  }, 30_000, `CRD ${name} is Established`);
  await eventually(
    () => custom.listClusterCustomObject({ group: PROBE_GROUP, version: 'v1', plural: 'probes' }).then(() => true, () => false),
    30_000,
    `CRD ${name} is served`,
  );
  return {
    create,
    async remove() {
      await ext.deleteCustomResourceDefinition({ name }).catch(() => undefined);
    },
  };
}
