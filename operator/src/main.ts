import os from 'node:os';
import { KubeConfig } from '@kubernetes/client-node';
import { createLogger } from '#common/logger.ts';
import { ConfigError } from '#common/config.ts';
import { HealthRegistry } from '#common/health.ts';
import { eventLoopLivenessCheck } from '#common/event-loop-watch.ts';
import { startOpsServer, type OpsServer } from '#common/ops-server.ts';
import { ProcessFailurePolicy } from '#common/process-failure.ts';
import { GracefulShutdown } from '#common/shutdown.ts';
import type { BrowserPoolController } from '#operator/controllers/browserpool/controller.ts';
import { httpSessionReader, type SessionReader } from '#operator/controllers/browserpool/session-reader.ts';
import type { LeaderElector } from '#kube/runtime/leader-election.ts';
import type { Manager } from '#kube/runtime/manager.ts';
import { createBrowserPoolOperator } from './browserpool-operator.ts';
import { startOperatorMetrics } from './operator-metrics.ts';
import { loadOperatorConfig, watchedNamespaces, type OperatorConfig } from './config.ts';

/** A running operator (for tests and the entry point). */
export interface RunningOperator {
  manager: Manager;
  controller: BrowserPoolController;
  elector?: LeaderElector;
  health: HealthRegistry;
  metricsUrl: string;
  healthUrl: string;
  stop(): Promise<void>;
}

/**
 * Starts the BrowserPool operator: its manager (informers on standbys too, leader election on a Lease unless
 * disabled, reconciles only while leading, ordered hand-over), /healthz and /readyz on the health port, /metrics on
 * the metrics port.
 */
export async function startOperator(
  config: OperatorConfig,
  logger = createLogger({ component: 'operator' }),
  /** Stand-ins for tests: how gateways' sessions are read. */
  overrides: { sessions?: SessionReader } = {},
): Promise<RunningOperator> {
  const kc = new KubeConfig();
  if (config.kubeconfig) kc.loadFromFile(config.kubeconfig);
  else kc.loadFromDefault();
  const identity = config.identity ?? process.env['POD_NAME'] ?? `${os.hostname()}-${process.pid}`;
  const ownNamespace = process.env['POD_NAMESPACE'] ?? kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default';
  const namespaces = watchedNamespaces(config, ownNamespace);
  const telemetry = startOperatorMetrics({ name: 'composer-mcp-operator', version: '0.1.0' });
  const { manager, controller } = createBrowserPoolOperator({
    kubeConfig: kc,
    ...(namespaces ? { namespace: namespaces } : {}),
    logger,
    workers: config.workers,
    wedgedAfterMs: config.wedgedAfterSeconds * 1000,
    identity,
    sessions: overrides.sessions ?? httpSessionReader({ timeoutMs: config.sessionReadTimeoutMs }),
    operator: { namespace: config.operatorPods.namespace ?? ownNamespace, podLabels: config.operatorPods.labels },
    dns: { namespace: config.dns.namespace, podLabels: config.dns.podLabels },
    ...(config.leaderElection.enabled ? {
      leaderElection: {
        namespace: config.leaderElection.namespace ?? ownNamespace,
        name: config.leaderElection.leaseName,
        leaseDurationMs: config.leaderElection.leaseDurationSeconds * 1000,
        renewDeadlineMs: config.leaderElection.renewDeadlineSeconds * 1000,
        retryPeriodMs: config.leaderElection.retryPeriodSeconds * 1000,
      },
    } : {}),
  });
  manager.start();

  const health = new HealthRegistry();
  health.addCheck('operator', manager.readiness);
  health.addLivenessCheck('reconcilers', manager.liveness);
  health.addLivenessCheck('event-loop', eventLoopLivenessCheck());
  const servers: OpsServer[] = [];
  const healthServer = await startOpsServer({ host: config.listenHost, port: config.healthPort, health });
  servers.push(healthServer);
  let metricsServer = healthServer;
  if (config.metricsPort !== config.healthPort || config.metricsPort === 0) {
    metricsServer = await startOpsServer({ host: config.listenHost, port: config.metricsPort, health, metricsHandler: telemetry.metricsHandler });
    servers.push(metricsServer);
  }
  logger.info('Started BrowserPool operator', {
    identity, namespaces: namespaces?.join(', ') ?? 'all namespaces', leaderElection: config.leaderElection.enabled,
    health: healthServer.url, metrics: metricsServer.url,
  });

  return {
    manager,
    controller,
    ...(manager.elector ? { elector: manager.elector } : {}),
    health,
    metricsUrl: `${metricsServer.url}/metrics`,
    healthUrl: healthServer.url,
    async stop() {
      health.setDraining();
      await manager.stop();
      await Promise.all(servers.map((s) => s.close()));
      await telemetry.shutdown();
      logger.info('Stopped BrowserPool operator', { identity });
    },
  };
}

async function main(): Promise<void> {
  const logger = createLogger({ component: 'operator' });
  // An unhandled rejection is logged and survived; an uncaught exception fails readiness, hands over and exits 70.
  const failures = new ProcessFailurePolicy({ logger }).install();
  let config: OperatorConfig;
  try {
    config = loadOperatorConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      logger.error('Refused to start: invalid configuration', { error: err.message });
      process.exitCode = 2;
      return;
    }
    throw err;
  }
  const shutdown = new GracefulShutdown({ graceMs: config.shutdownGraceMs, logger });
  shutdown.install();
  const operator = await startOperator(config, logger);
  shutdown.onShutdown('operator', () => operator.stop());
  failures.drainWith(shutdown, operator.health);
}

if (import.meta.main) {
  main().catch((error: unknown) => {
    createLogger({ component: 'operator' }).error('Failed to start the operator', { error: (error as Error).message });
    process.exit(1);
  });
}
