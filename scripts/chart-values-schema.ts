/**
 * The Helm chart's values schema, written once in zod and emitted as `charts/composer-mcp/values.schema.json`
 * (strict: `additionalProperties: false` on every object the chart owns, types, enums and minimums), so a typo
 * in a values file fails `helm install` with the key named. Run `node scripts/chart-values-schema.ts` (or
 * `make chart-docs`) after changing values.yaml; test/unit/chart/values-schema.test.ts fails when it is stale.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { MAX_WATCHED_NAMESPACES } from '#operator/config.ts';

const str = z.string();
const nonNegativeInt = z.number().int().min(0);
const positiveInt = z.number().int().min(1);
const port = z.number().int().min(1).max(65535);
const stringMap = z.record(z.string(), z.string());
const quantity = z.union([z.string().regex(/^[0-9.]+[a-zA-Z]*$/), z.number().min(0)]);
const dnsLabel = z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/).max(63);
const duration = z.string().regex(/^[0-9]+(ms|s|m|h)$/);
const url = z.string().regex(/^https?:\/\/\S+$/);
const optionalUrl = z.union([z.literal(''), url]);
const logLevel = z.enum(['error', 'warn', 'info', 'debug']);

/** Container resources: only requests and limits of cpu, memory and ephemeral-storage. */
const resources = z.strictObject({
  requests: z.strictObject({ cpu: quantity.optional(), memory: quantity.optional(), 'ephemeral-storage': quantity.optional() }).optional(),
  limits: z.strictObject({ cpu: quantity.optional(), memory: quantity.optional(), 'ephemeral-storage': quantity.optional() }).optional(),
});

const toleration = z.strictObject({
  key: str.optional(),
  operator: z.enum(['Exists', 'Equal']).optional(),
  value: str.optional(),
  effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute', '']).optional(),
  tolerationSeconds: z.number().int().optional(),
});

/**
 * Affinity and topology spread constraints are Kubernetes structures passed through verbatim; the API server
 * validates their inside, so only their top-level shape is checked here.
 */
const affinity = z.strictObject({
  nodeAffinity: z.record(z.string(), z.unknown()).optional(),
  podAffinity: z.record(z.string(), z.unknown()).optional(),
  podAntiAffinity: z.record(z.string(), z.unknown()).optional(),
});
const topologySpreadConstraint = z.record(z.string(), z.unknown());

const seccompProfile = z.strictObject({ type: z.enum(['RuntimeDefault', 'Localhost', 'Unconfined']), localhostProfile: str.optional() });

const imageRef = z.strictObject({ repository: str.min(1), tag: str, digest: z.union([z.literal(''), z.string().regex(/^sha256:[a-f0-9]{64}$/)]) });

const pdb = z.strictObject({ enabled: z.boolean(), minAvailable: nonNegativeInt });

const podPlacement = {
  podAnnotations: stringMap,
  podLabels: stringMap,
  nodeSelector: stringMap,
  tolerations: z.array(toleration),
  affinity,
  topologySpreadConstraints: z.array(topologySpreadConstraint),
  priorityClassName: str,
};

const operator = z.strictObject({
  enabled: z.boolean(),
  replicas: positiveInt,
  image: imageRef,
  watchNamespaces: z.array(dnsLabel).max(MAX_WATCHED_NAMESPACES), // each watched on its own (operator/src/config.ts `namespaces`), or all with clusterWide
  clusterWide: z.boolean(),
  leaderElection: z.strictObject({
    enabled: z.boolean(),
    leaseDurationSeconds: positiveInt,
    renewDeadlineSeconds: positiveInt,
    retryPeriodSeconds: positiveInt,
  }),
  logLevel,
  metricsPort: port,
  healthPort: port,
  // NODE_OPTIONS of the operator container: space-separated `--flag` or `--flag=value` words, or empty for none.
  nodeOptions: z.string().regex(/^(--[a-z0-9-]+(=\S+)?( +--[a-z0-9-]+(=\S+)?)*)?$/),
  mallocArenaMax: z.number().int().min(0).max(64),
  resources,
  podDisruptionBudget: pdb,
  ...podPlacement,
});

const server = z.strictObject({
  enabled: z.boolean(),
  replicas: positiveInt,
  image: imageRef,
  port,
  service: z.strictObject({ type: z.enum(['ClusterIP', 'NodePort', 'LoadBalancer']), port, annotations: stringMap }),
  allowedHosts: z.array(str.min(1)),
  allowedOrigins: z.array(str.min(1)),
  bodyLimit: z.string().regex(/^\d+(b|kb|mb)$/i),
  logLevel,
  shutdownGraceSeconds: nonNegativeInt,
  shutdownDrainSeconds: nonNegativeInt,
  auth: z.strictObject({
    mode: z.enum(['none', 'jwt']),
    allowUnauthenticated: z.boolean(),
    issuer: str,
    audience: str,
    jwksUrl: optionalUrl,
    hs256Secret: z.strictObject({ existingSecret: str, key: str.min(1) }),
    resourceUrl: optionalUrl,
    authorizationServers: z.array(url),
  }),
  rateLimit: z.strictObject({ windowSeconds: positiveInt, maxRequests: positiveInt, maxFailedAuthentications: positiveInt }),
  tasks: z.strictObject({
    store: z.enum(['', 'memory', 'kubernetes']),
    ttlSeconds: positiveInt,
    pollIntervalMs: positiveInt,
    maxResultBytes: positiveInt.max(1_048_576), // a ConfigMap holds at most 1 MiB
    maxActivePerSubject: positiveInt,
    maxStoredPerSubject: positiveInt,
  }),
  composer: z.strictObject({
    composerUrl: url,
    apiUrl: url,
    apiEnv: str.min(1),
    requestTimeoutMs: positiveInt,
    credentials: z.strictObject({ existingSecret: str, accessTokenKey: str.min(1), projectKeyKey: str.min(1), connectorUidKey: str.min(1) }),
  }),
  browsers: z.strictObject({
    maxSessionsPerBrowser: z.number().int().min(1).max(64),
    queueLimit: nonNegativeInt,
    queueTimeoutMs: positiveInt,
    prewarmPerBrowser: nonNegativeInt,
  }),
  otlpEndpoint: optionalUrl,
  resources,
  autoscaling: z.strictObject({
    enabled: z.boolean(),
    minReplicas: positiveInt,
    maxReplicas: positiveInt,
    targetCPUUtilizationPercentage: z.number().int().min(1).max(100),
  }),
  podDisruptionBudget: pdb,
  idempotency: z.strictObject({ maxConfigMaps: nonNegativeInt, maxRecords: positiveInt }),
  networkPolicy: z.strictObject({
    enabled: z.boolean(),
    clientPodLabels: stringMap.refine((labels) => Object.keys(labels).length > 0, 'at least one label: without one every pod of the namespace could call the server'),
    ingressNamespaceSelectors: z.array(stringMap),
    metricsNamespaceSelectors: z.array(stringMap),
  }),
  ...podPlacement,
});

const browserPool = z.strictObject({
  create: z.boolean(),
  name: dnsLabel,
  namespace: z.union([z.literal(''), dnsLabel]),
  replicas: nonNegativeInt,
  maxSessionsPerBrowser: z.number().int().min(1).max(64),
  autoscaling: z.strictObject({
    enabled: z.boolean(), minReplicas: nonNegativeInt, maxReplicas: positiveInt, minIdle: nonNegativeInt, targetSessionsPerBrowser: positiveInt,
  }),
  recycle: z.strictObject({
    maxAgeSeconds: z.number().int().min(10), drainTimeoutSeconds: nonNegativeInt, unhealthyAfterSeconds: positiveInt,
    maxLeases: nonNegativeInt, maxMemory: z.union([z.literal(''), str.regex(/^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|k|M|G|T)?$/)]),
  }),
  browser: z.strictObject({
    repository: str.min(1),
    resources,
    sandbox: z.boolean(),
    seccompProfile: str.min(1).max(255).regex(/^[A-Za-z0-9_-][A-Za-z0-9._-]*(\/[A-Za-z0-9_-][A-Za-z0-9._-]*)*$/),
  }),
  egress: z.strictObject({ extraAllowedOrigins: z.array(str.regex(/^https?:\/\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?(:[0-9]{1,5})?\/?$/)).max(14) }),
  nodeSelector: stringMap,
  tolerations: z.array(toleration),
  priorityClassName: str,
});

/** Every value of the chart; matches values.yaml key for key. */
export const chartValuesSchema = z.strictObject({
  nameOverride: str,
  fullnameOverride: str,
  image: z.strictObject({ registry: str.min(1), tag: str, pullPolicy: z.enum(['Always', 'IfNotPresent', 'Never']) }),
  imagePullSecrets: z.array(dnsLabel),
  crds: z.strictObject({ install: z.boolean(), keep: z.boolean() }),
  operator,
  server,
  browserPool,
  monitoring: z.strictObject({
    serviceMonitor: z.strictObject({ enabled: z.boolean(), interval: duration, labels: stringMap }),
    prometheusRule: z.strictObject({
      enabled: z.boolean(), labels: stringMap, runbookBaseUrl: url, toolErrorRatio: z.number().gt(0).lt(1),
      openPreviewP95Seconds: z.number().gt(0), saveFailureRatio: z.number().gt(0).lt(1),
    }),
    grafanaDashboard: z.strictObject({ enabled: z.boolean(), namespace: z.union([z.literal(''), dnsLabel]), labels: stringMap, annotations: stringMap }),
  }),
  podSecurityContext: z.strictObject({
    runAsNonRoot: z.boolean().optional(),
    runAsUser: nonNegativeInt.optional(),
    runAsGroup: nonNegativeInt.optional(),
    fsGroup: nonNegativeInt.optional(),
    fsGroupChangePolicy: z.enum(['Always', 'OnRootMismatch']).optional(),
    supplementalGroups: z.array(nonNegativeInt).optional(),
    seccompProfile: seccompProfile.optional(),
  }),
  containerSecurityContext: z.strictObject({
    allowPrivilegeEscalation: z.boolean().optional(),
    readOnlyRootFilesystem: z.boolean().optional(),
    privileged: z.boolean().optional(),
    runAsNonRoot: z.boolean().optional(),
    runAsUser: nonNegativeInt.optional(),
    runAsGroup: nonNegativeInt.optional(),
    capabilities: z.strictObject({ add: z.array(str).optional(), drop: z.array(str).optional() }).optional(),
    seccompProfile: seccompProfile.optional(),
  }),
});

/** Path of the generated schema next to values.yaml. */
export const VALUES_SCHEMA_PATH = path.resolve(import.meta.dirname, '..', 'charts', 'composer-mcp', 'values.schema.json');

/** The JSON Schema text written to values.schema.json (stable, newline-terminated). */
export function renderValuesSchema(): string {
  const schema = z.toJSONSchema(chartValuesSchema, { target: 'draft-07' }) as Record<string, unknown>;
  return `${JSON.stringify({ ...schema, title: 'composer-mcp chart values (generated by scripts/chart-values-schema.ts)' }, null, 2)}\n`;
}

if (import.meta.main) {
  writeFileSync(VALUES_SCHEMA_PATH, renderValuesSchema());
  console.log(`Wrote ${path.relative(process.cwd(), VALUES_SCHEMA_PATH)}`);
}
