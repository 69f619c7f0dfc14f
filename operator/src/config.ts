import { z } from 'zod';
import { loadConfig } from '#common/config.ts';

/** The operator's settings (env prefix `BROWSERPOOL_OPERATOR`, e.g. `BROWSERPOOL_OPERATOR_LEADER_ELECTION__ENABLED=false`). */
export const operatorConfigSchema = z.object({
  /** Kubeconfig file; unset means in-cluster (service account) or the default kubeconfig. */
  kubeconfig: z.string().min(1).optional(),
  /** Namespace to watch; unset or empty watches all namespaces. */
  namespace: z.string().optional(),
  /** Concurrent reconciles (different pools only). */
  workers: z.coerce.number().int().min(1).max(64).default(4),
  leaderElection: z.object({
    enabled: z.boolean().default(true),
    /** Namespace of the Lease (default: the operator's own namespace, from POD_NAMESPACE). */
    namespace: z.string().min(1).optional(),
    leaseName: z.string().min(1).default('browserpool-operator'),
    leaseDurationSeconds: z.coerce.number().int().min(2).default(15),
    renewDeadlineSeconds: z.coerce.number().int().min(1).default(10),
    retryPeriodSeconds: z.coerce.number().int().min(1).default(2),
  }).prefault({}),
  /** Port of /metrics (Prometheus text); 0 picks a free port. */
  metricsPort: z.coerce.number().int().min(0).max(65535).default(8080),
  /** Port of /healthz and /readyz. */
  healthPort: z.coerce.number().int().min(0).max(65535).default(8081),
  /** Address the metrics and health ports listen on. */
  listenHost: z.string().min(1).default('0.0.0.0'),
  /** Identity for leader election and Events (default the pod name from POD_NAME or the hostname). */
  identity: z.string().min(1).optional(),
  /** The operator's own pods, admitted by each pool's NetworkPolicy so it can read gateway /status. */
  operatorPods: z.object({
    namespace: z.string().min(1).optional(),
    labels: z.record(z.string(), z.string()).default({ 'app.kubernetes.io/name': 'composer-mcp-operator' }),
  }).prefault({}),
  /** Timeout of one gateway /status read. */
  sessionReadTimeoutMs: z.coerce.number().int().min(100).max(30_000).default(1000),
  /** How long shutdown may take. */
  shutdownGraceMs: z.coerce.number().int().min(1000).default(15_000),
});

/** The validated operator settings. */
export type OperatorConfig = z.output<typeof operatorConfigSchema>;

/** Loads the operator settings from defaults < file (`--config`) < env (`BROWSERPOOL_OPERATOR_*`) < flags. */
export function loadOperatorConfig(argv: string[] = process.argv.slice(2), env: NodeJS.ProcessEnv = process.env): OperatorConfig {
  return loadConfig(operatorConfigSchema, { envPrefix: 'BROWSERPOOL_OPERATOR', env, argv });
}
