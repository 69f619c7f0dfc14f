import type { V1EnvVar, V1OwnerReference, V1Pod, V1PodSpec, V1SecurityContext } from '@kubernetes/client-node';
import type { ResolvedPoolSpec } from './validate-spec.ts';
import { ANNOTATION_SERIAL, ANNOTATION_SPEC_HASH, TOKEN_KEY, poolLabels, tokenSecretName } from '#kube/api/v1alpha1/contract.ts';
import {
  CHROMIUM_CONTAINER, CHROMIUM_PORT, GATEWAY_CONTAINER, GATEWAY_PORT_NAME, TOKEN_MOUNT_DIR, canonicalJson, podName, shortHash,
} from './names.ts';

/** The user and group every browser container runs as. */
export const BROWSER_UID = 10001;

/** What a pool's children need to know about the pool itself. */
export interface PoolRef {
  apiVersion: string;
  kind: string;
  name: string;
  namespace: string;
  uid: string;
}

/** Owner reference to the pool (controller=true, blockOwnerDeletion) so children are garbage-collected with it. */
export function ownerReference(pool: PoolRef): V1OwnerReference {
  return { apiVersion: pool.apiVersion, kind: pool.kind, name: pool.name, uid: pool.uid, controller: true, blockOwnerDeletion: true };
}

const containerSecurity: V1SecurityContext = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  runAsUser: BROWSER_UID,
  runAsGroup: BROWSER_UID,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
};

/**
 * The pod spec every browser of the pool runs (without name or identity): chromium and gateway containers,
 * secure by default, the token Secret mounted read-only into the gateway, readiness on the gateway's /healthz.
 */
export function podTemplateSpec(poolName: string, spec: ResolvedPoolSpec): V1PodSpec {
  const gatewayEnv: V1EnvVar[] = [
    { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
    { name: 'GATEWAY_PORT', value: String(spec.gateway.port) },
    { name: 'GATEWAY_UPSTREAM_PORT', value: String(CHROMIUM_PORT) },
    { name: 'GATEWAY_TOKEN_FILE', value: `${TOKEN_MOUNT_DIR}/${TOKEN_KEY}` },
  ];
  const browserEnv: V1EnvVar[] = [
    { name: 'CHROMIUM_PORT', value: String(CHROMIUM_PORT) },
    { name: 'HOME', value: '/tmp' },
    ...spec.browser.env,
  ];
  const podSpec: V1PodSpec = {
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    restartPolicy: 'Always',
    terminationGracePeriodSeconds: 30,
    securityContext: {
      runAsNonRoot: true,
      runAsUser: BROWSER_UID,
      runAsGroup: BROWSER_UID,
      fsGroup: BROWSER_UID,
      seccompProfile: { type: 'RuntimeDefault' },
    },
    containers: [
      {
        name: CHROMIUM_CONTAINER,
        image: spec.browser.image,
        args: [...spec.browser.args],
        env: browserEnv,
        securityContext: containerSecurity,
        volumeMounts: [
          { name: 'tmp', mountPath: '/tmp' },
          { name: 'dshm', mountPath: '/dev/shm' },
        ],
        ...(spec.browser.resources ? { resources: spec.browser.resources } : {}),
      },
      {
        name: GATEWAY_CONTAINER,
        image: spec.gateway.image,
        ports: [{ name: GATEWAY_PORT_NAME, containerPort: spec.gateway.port, protocol: 'TCP' }],
        env: gatewayEnv,
        securityContext: containerSecurity,
        readinessProbe: {
          httpGet: { path: '/healthz', port: GATEWAY_PORT_NAME },
          periodSeconds: 2,
          timeoutSeconds: 2,
          failureThreshold: 2,
          successThreshold: 1,
        },
        volumeMounts: [
          { name: 'gateway-tmp', mountPath: '/tmp' },
          { name: 'cdp-token', mountPath: TOKEN_MOUNT_DIR, readOnly: true },
        ],
        ...(spec.gateway.resources ? { resources: spec.gateway.resources } : {}),
      },
    ],
    volumes: [
      { name: 'tmp', emptyDir: {} },
      { name: 'gateway-tmp', emptyDir: {} },
      { name: 'dshm', emptyDir: { medium: 'Memory' } },
      { name: 'cdp-token', secret: { secretName: tokenSecretName(poolName), items: [{ key: TOKEN_KEY, path: TOKEN_KEY }], defaultMode: 0o440 } },
    ],
  };
  const s = spec.scheduling;
  if (s.nodeSelector) podSpec.nodeSelector = { ...s.nodeSelector };
  if (s.tolerations) podSpec.tolerations = s.tolerations;
  if (s.affinity) podSpec.affinity = s.affinity;
  if (s.priorityClassName) podSpec.priorityClassName = s.priorityClassName;
  return podSpec;
}

/** Hash of the pod template; stored in an annotation so a spec change (and only that) replaces browsers. */
export function specHash(poolName: string, spec: ResolvedPoolSpec): string {
  return shortHash(canonicalJson(podTemplateSpec(poolName, spec)), 16);
}

/** The full Pod object (for server-side apply) of the browser in slot `serial`. Pure and deterministic. */
export function desiredPod(pool: PoolRef, spec: ResolvedPoolSpec, serial: number): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: podName(pool.name, pool.uid, serial),
      namespace: pool.namespace,
      labels: poolLabels(pool.name),
      annotations: { [ANNOTATION_SPEC_HASH]: specHash(pool.name, spec), [ANNOTATION_SERIAL]: String(serial) },
      ownerReferences: [ownerReference(pool)],
    },
    spec: podTemplateSpec(pool.name, spec),
  };
}
