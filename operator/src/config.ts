import { z } from 'zod';
import { ConfigError, loadConfig } from '#common/config.ts';

/** A namespace name (an RFC 1123 label). */
const NAMESPACE_NAME = /^(?=.{1,63}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** Most namespaces watched one by one: each costs five watches; more than this is what allNamespaces is for. */
export const MAX_WATCHED_NAMESPACES = 32;

/**
 * The operator's settings (env prefix `BROWSERPOOL_OPERATOR`, e.g. `BROWSERPOOL_OPERATOR_LEADER_ELECTION__ENABLED=false`).
 * Every field carries a `.describe()`: docs/configuration.md is generated from these (make config-docs).
 */
export const operatorConfigSchema = z.object({
  kubeconfig: z.string().min(1).optional()
    .describe('Kubeconfig file; unset means in-cluster (the pod\'s ServiceAccount) or the default kubeconfig.'),
  namespaces: z.array(z.string().regex(NAMESPACE_NAME, 'must be a namespace name: lower-case letters, digits and \'-\', at most 63 characters'))
    .max(MAX_WATCHED_NAMESPACES).default([])
    .describe(`Namespaces whose BrowserPools are reconciled, comma-separated or a JSON list (default: the operator's own namespace: POD_NAMESPACE, else the kubeconfig context's). Each is watched on its own (a Role in each suffices, as the chart grants); at most ${MAX_WATCHED_NAMESPACES}, beyond that use allNamespaces.`),
  allNamespaces: z.boolean().default(false)
    .describe('Reconcile BrowserPools in every namespace (needs a ClusterRole that can read Secrets and create pods everywhere): an explicit choice, off by default; namespaces must then be empty.'),
  workers: z.coerce.number().int().min(1).max(64).default(4)
    .describe('Concurrent reconciles (always of different pools; one pool is never reconciled twice at once).'),
  wedgedAfterSeconds: z.coerce.number().int().min(1).default(300)
    .describe('A reconcile running longer than this makes /healthz fail, so the kubelet restarts a wedged operator.'),
  leaderElection: z.object({
    enabled: z.boolean().default(true)
      .describe('Elect a leader on a coordination.k8s.io Lease so only one replica reconciles; false for a single replica.'),
    namespace: z.string().min(1).optional()
      .describe('Namespace of the Lease (default: the operator\'s own namespace: POD_NAMESPACE, else the kubeconfig context\'s).'),
    leaseName: z.string().min(1).default('browserpool-operator').describe('Name of the leader-election Lease.'),
    leaseDurationSeconds: z.coerce.number().int().min(2).default(15)
      .describe('How long a Lease holds without renewal before another replica may take over.'),
    renewDeadlineSeconds: z.coerce.number().int().min(1).default(10)
      .describe('How long the leader keeps trying to renew before it steps down (less than the lease duration).'),
    retryPeriodSeconds: z.coerce.number().int().min(1).default(2)
      .describe('Interval between attempts to acquire or renew the Lease.'),
  }).strict().prefault({}).describe('Leader election between operator replicas.'),
  metricsPort: z.coerce.number().int().min(0).max(65535).default(8080)
    .describe('TCP port of /metrics (Prometheus text format); 0 picks a free port (logged at start).'),
  healthPort: z.coerce.number().int().min(0).max(65535).default(8081)
    .describe('TCP port of /healthz and /readyz; 0 picks a free port (logged at start).'),
  listenHost: z.string().min(1).default('0.0.0.0').describe('Address the metrics and health ports listen on.'),
  identity: z.string().min(1).optional()
    .describe('Identity for leader election and Events (default: the pod name from POD_NAME, else the host name and process id).'),
  operatorPods: z.object({
    namespace: z.string().min(1).optional()
      .describe('Namespace of the operator\'s pods (default: the operator\'s own namespace: POD_NAMESPACE, else the kubeconfig context\'s).'),
    labels: z.record(z.string(), z.string()).default({ 'app.kubernetes.io/name': 'composer-mcp-operator' })
      .describe('Labels selecting the operator\'s pods in that namespace.'),
  }).strict().prefault({}).describe('The operator\'s own pods, admitted by each pool\'s NetworkPolicy so it can read the gateways\' /status.'),
  dns: z.object({
    namespace: z.string().min(1).default('kube-system').describe('Namespace of the cluster DNS pods.'),
    podLabels: z.record(z.string(), z.string()).default({ 'k8s-app': 'kube-dns' }).describe('Labels of the cluster DNS pods.'),
  }).strict().prefault({}).describe('The cluster DNS pods, the only place besides the allowed origins that a pool\'s egress NetworkPolicy lets browsers reach.'),
  sessionReadTimeoutMs: z.coerce.number().int().min(100).max(30_000).default(1000)
    .describe('Timeout in milliseconds of one read of a gateway\'s /status (open pages, for draining and autoscaling).'),
  shutdownGraceMs: z.coerce.number().int().min(1000).default(15_000)
    .describe('How long in milliseconds a graceful shutdown (SIGTERM) may take before the process exits anyway.'),
}).strict();

/** The validated operator settings. */
export type OperatorConfig = z.output<typeof operatorConfigSchema>;

/** Loads the operator settings from defaults < file (`--config`) < env (`BROWSERPOOL_OPERATOR_*`) < flags. */
export function loadOperatorConfig(argv: string[] = process.argv.slice(2), env: NodeJS.ProcessEnv = process.env): OperatorConfig {
  const config = loadConfig(operatorConfigSchema, { envPrefix: 'BROWSERPOOL_OPERATOR', env, argv });
  if (config.allNamespaces && config.namespaces.length > 0) {
    throw new ConfigError([{
      path: 'allNamespaces', source: 'env or flags',
      message: `set together with namespaces (${config.namespaces.join(', ')}): choose one (leave namespaces empty to watch every namespace)`,
    }]);
  }
  return config;
}

/**
 * The namespaces the operator watches: `undefined` for every namespace (allNamespaces), else the ones set
 * (without repeats) or its own.
 */
export function watchedNamespaces(config: OperatorConfig, ownNamespace: string): string[] | undefined {
  if (config.allNamespaces) return undefined;
  return config.namespaces.length > 0 ? [...new Set(config.namespaces)] : [ownNamespace];
}
