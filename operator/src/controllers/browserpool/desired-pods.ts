import type { V1EnvVar, V1OwnerReference, V1Pod, V1PodSpec, V1SecurityContext } from '@kubernetes/client-node';
import type { ResolvedPoolSpec } from './validate-spec.ts';
import { ANNOTATION_SERIAL, ANNOTATION_SPEC_HASH, TOKEN_KEY, poolLabels, tokenSecretName } from '#kube/api/v1alpha1/contract.ts';
import { BROWSER_CONTAINER, GATEWAY_PORT_NAME, TOKEN_MOUNT_DIR, canonicalJson, podName, shortHash } from './names.ts';

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

/**
 * The browser container's security context. With Chromium's own sandbox (`spec.browser.sandbox`) the seccomp
 * profile is the Localhost one that admits the namespace sandbox's clone/unshare flags (RuntimeDefault refuses them:
 * "No usable sandbox!"); everything else stays: non-root, no capabilities, NoNewPrivs, read-only root.
 */
function containerSecurity(spec: ResolvedPoolSpec): V1SecurityContext {
  return {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    runAsNonRoot: true,
    runAsUser: BROWSER_UID,
    runAsGroup: BROWSER_UID,
    capabilities: { drop: ['ALL'] },
    seccompProfile: spec.browser.sandbox ? { type: 'Localhost', localhostProfile: spec.browser.sandboxSeccompProfile } : { type: 'RuntimeDefault' },
  };
}

/**
 * The pod spec every browser of the pool runs (without name or identity): one container, the gateway, which runs
 * Chromium as its child over a DevTools pipe behind its egress proxy (no DevTools port in the pod), secure by
 * default, the token Secret mounted read-only, readiness on the gateway's /healthz (a CDP round trip). When Chromium
 * dies the gateway exits non-zero and the kubelet restarts the container. With `spec.browser.sandbox` Chromium keeps
 * its own sandbox, under the pool's Localhost seccomp profile.
 */
export function podTemplateSpec(poolName: string, spec: ResolvedPoolSpec): V1PodSpec {
  const env: V1EnvVar[] = [
    { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
    { name: 'GATEWAY_PORT', value: String(spec.gateway.port) },
    { name: 'GATEWAY_TOKEN_FILE', value: `${TOKEN_MOUNT_DIR}/${TOKEN_KEY}` },
    { name: 'GATEWAY_ALLOWED_ORIGINS', value: spec.egress.origins.map((o) => o.origin).join(',') },
    { name: 'GATEWAY_MAX_SESSIONS_PER_BROWSER', value: String(spec.maxSessionsPerBrowser) },
    { name: 'GATEWAY_CHROMIUM_ARGS', value: JSON.stringify(spec.browser.args) },
    // Only when asked, so that pools without it keep their pod template (and their pods) across this release.
    ...(spec.browser.sandbox ? [{ name: 'GATEWAY_CHROMIUM_SANDBOX', value: 'true' }] : []),
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
        name: BROWSER_CONTAINER,
        image: spec.browser.image,
        ports: [{ name: GATEWAY_PORT_NAME, containerPort: spec.gateway.port, protocol: 'TCP' }],
        env,
        securityContext: containerSecurity(spec),
        readinessProbe: {
          httpGet: { path: '/healthz', port: GATEWAY_PORT_NAME },
          periodSeconds: 2,
          timeoutSeconds: 2,
          failureThreshold: 2,
          successThreshold: 1,
        },
        volumeMounts: [
          { name: 'tmp', mountPath: '/tmp' },
          { name: 'dshm', mountPath: '/dev/shm' },
          { name: 'cdp-token', mountPath: TOKEN_MOUNT_DIR, readOnly: true },
        ],
        ...(spec.browser.resources ? { resources: spec.browser.resources } : {}),
      },
    ],
    volumes: [
      { name: 'tmp', emptyDir: {} },
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
