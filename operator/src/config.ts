import { z } from 'zod';
import { ConfigError, loadConfig } from '#common/config.ts';

/**
 * The operator's settings (env prefix `BROWSERPOOL_OPERATOR`, e.g. `BROWSERPOOL_OPERATOR_LEADER_ELECTION__ENABLED=false`).
 * Every field carries a `.describe()`: docs/configuration.md is generated from these (make config-docs).
 */
export const operatorConfigSchema = z.object({
  kubeconfig: z.string().min(1).optional()
    .describe('Kubeconfig file; unset means in-cluster (the pod\'s ServiceAccount) or the default kubeconfig.'),
  namespace: z.string().optional()
    .describe('Namespace whose BrowserPools are reconciled (default: the operator\'s own namespace: POD_NAMESPACE, else the kubeconfig context\'s).'),
  allNamespaces: z.boolean().default(false)
    .describe('Reconcile BrowserPools in every namespace (needs a ClusterRole that can read Secrets and create pods everywhere): an explicit choice, off by default; namespace must then be unset.'),
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
  }).prefault({}).describe('Leader election between operator replicas.'),
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
  }).prefault({}).describe('The operator\'s own pods, admitted by each pool\'s NetworkPolicy so it can read the gateways\' /status.'),
  dns: z.object({
    namespace: z.string().min(1).default('kube-system').describe('Namespace of the cluster DNS pods.'),
    podLabels: z.record(z.string(), z.string()).default({ 'k8s-app': 'kube-dns' }).describe('Labels of the cluster DNS pods.'),
  }).prefault({}).describe('The cluster DNS pods, the only place besides the allowed origins that a pool\'s egress NetworkPolicy lets browsers reach.'),
  sessionReadTimeoutMs: z.coerce.number().int().min(100).max(30_000).default(1000)
    .describe('Timeout in milliseconds of one read of a gateway\'s /status (open pages, for draining and autoscaling).'),
  shutdownGraceMs: z.coerce.number().int().min(1000).default(15_000)
    .describe('How long in milliseconds a graceful shutdown (SIGTERM) may take before the process exits anyway.'),
});

/** The validated operator settings. */
export type OperatorConfig = z.output<typeof operatorConfigSchema>;

/** Loads the operator settings from defaults < file (`--config`) < env (`BROWSERPOOL_OPERATOR_*`) < flags. */
export function loadOperatorConfig(argv: string[] = process.argv.slice(2), env: NodeJS.ProcessEnv = process.env): OperatorConfig {
  const config = loadConfig(operatorConfigSchema, { envPrefix: 'BROWSERPOOL_OPERATOR', env, argv });
  if (config.allNamespaces && config.namespace) {
    throw new ConfigError([{ path: 'allNamespaces', message: `set together with namespace (${config.namespace}): choose one (unset namespace to watch every namespace)`, source: 'env or flags' }]);
  }
  return config;
}

/** The namespace the operator watches: `undefined` for every namespace (allNamespaces), else the one set or its own. */
export function watchedNamespace(config: OperatorConfig, ownNamespace: string): string | undefined {
  if (config.allNamespaces) return undefined;
  return config.namespace || ownNamespace;
}
