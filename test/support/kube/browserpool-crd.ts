import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ApiextensionsV1Api,
  CustomObjectsApi,
  KubernetesObjectApi,
  loadYaml,
  PatchStrategy,
  type KubeConfig,
  type V1CustomResourceDefinition,
} from '@kubernetes/client-node';
import { BROWSERPOOL_CRD_NAME, BROWSERPOOL_GROUP, BROWSERPOOL_PLURAL, BROWSERPOOL_VERSION } from '#kube/api/v1alpha1/browserpool.ts';

/** Path of the BrowserPool CRD manifest in this repository. */
export const BROWSERPOOL_CRD_PATH = path.resolve(import.meta.dirname, '..', '..', '..', 'crds', 'browser.composer-mcp.io_browserpools.yaml');

/** Field manager used when applying the CRD. */
export const CRD_FIELD_MANAGER = 'composer-mcp-crd-installer';

/** How applyBrowserPoolCrd applies and waits. */
export interface ApplyCrdOptions {
  /** Manifest to apply; default BROWSERPOOL_CRD_PATH. */
  crdPath?: string;
  /** How long to wait for Established and discovery; default 60 s. */
  timeoutMs?: number;
}

/**
 * Reads the CRD manifest into the client's typed model and checks that it is the BrowserPool CRD.
 *
 * Typed, not raw: `KubernetesObjectApi` (client-node 2.x) serializes a body through the model of its kind, so a raw
 * object would silently lose `default` and `x-kubernetes-*` keys (the model names them `_default`,
 * `xKubernetesValidations`, ...). Deserializing first makes the round trip exact.
 */
export async function loadBrowserPoolCrd(crdPath: string = BROWSERPOOL_CRD_PATH): Promise<V1CustomResourceDefinition> {
  const manifest = loadYaml<V1CustomResourceDefinition | null>(await readFile(crdPath, 'utf8'));
  if (manifest?.kind !== 'CustomResourceDefinition' || manifest.metadata?.name !== BROWSERPOOL_CRD_NAME) {
    throw new Error(`${crdPath} is not the ${BROWSERPOOL_CRD_NAME} CustomResourceDefinition`);
  }
  return manifest;
}

/** Whether the CRD's Established condition is True (its API is being served). */
export function isEstablished(crd: V1CustomResourceDefinition): boolean {
  return crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') ?? false;
}

/**
 * Applies the BrowserPool CRD with server-side apply (field manager CRD_FIELD_MANAGER, conflicts forced) and
 * resolves once it is Established and `browserpools` shows in API discovery, so objects can be created right
 * away. Throws an error naming what was still missing when `timeoutMs` passes.
 */
export async function applyBrowserPoolCrd(kubeConfig: KubeConfig, options: ApplyCrdOptions = {}): Promise<V1CustomResourceDefinition> {
  const manifest = await loadBrowserPoolCrd(options.crdPath);
  const objects = KubernetesObjectApi.makeApiClient(kubeConfig);
  await objects.patch(manifest, undefined, undefined, CRD_FIELD_MANAGER, true, PatchStrategy.ServerSideApply);

  const extensions = kubeConfig.makeApiClient(ApiextensionsV1Api);
  const custom = kubeConfig.makeApiClient(CustomObjectsApi);
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  let missing = 'the Established condition';
  while (Date.now() < deadline) {
    const crd = await extensions.readCustomResourceDefinition({ name: BROWSERPOOL_CRD_NAME });
    if (isEstablished(crd)) {
      missing = `${BROWSERPOOL_PLURAL} in discovery of ${BROWSERPOOL_GROUP}/${BROWSERPOOL_VERSION}`;
      const discovered = await custom.getAPIResources({ group: BROWSERPOOL_GROUP, version: BROWSERPOOL_VERSION })
        .then((list) => list.resources.some((r) => r.name === BROWSERPOOL_PLURAL), () => false);
      if (discovered) return crd;
    }
    await sleep(100);
  }
  throw new Error(`The ${BROWSERPOOL_CRD_NAME} CRD was applied but ${missing} did not appear in time`);
}
