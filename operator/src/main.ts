import os from 'node:os';
import { KubeConfig } from '@kubernetes/client-node';
import { createLogger } from '#common/logger.ts';
import { ConfigError } from '#common/config.ts';
import { HealthRegistry } from '#common/health.ts';
import { startOpsServer, type OpsServer } from '#common/ops-server.ts';
import { GracefulShutdown } from '#common/shutdown.ts';
import { startTelemetry } from '#common/telemetry.ts';
import { createLeaderElector, type LeaderElector } from '#kube/runtime/leader-election.ts';
import { decideReadiness } from '#kube/runtime/health.ts';
import { BrowserPoolController } from '#operator/controllers/browserpool/controller.ts';
import { httpSessionReader } from '#operator/controllers/browserpool/session-reader.ts';
import { loadOperatorConfig, type OperatorConfig } from './config.ts';

/** A running operator (for tests and the entry point). */
export interface RunningOperator {
  controller: BrowserPoolController;
  elector?: LeaderElector;
  health: HealthRegistry;
  metricsUrl: string;
  healthUrl: string;
  stop(): Promise<void>;
}

/**
 * Starts the BrowserPool operator: informers (on standbys too), leader election on a Lease (unless disabled),
 * reconcile workers while leading, /healthz and /readyz on the health port, /metrics on the metrics port.
 */
export async function startOperator(config: OperatorConfig, logger = createLogger({ component: 'operator' })): Promise<RunningOperator> {
  const kc = new KubeConfig();
  if (config.kubeconfig) kc.loadFromFile(config.kubeconfig);
  else kc.loadFromDefault();
  const identity = config.identity ?? process.env['POD_NAME'] ?? `${os.hostname()}-${process.pid}`;
  const ownNamespace = process.env['POD_NAMESPACE'] ?? kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default';
  const telemetry = startTelemetry({ serviceName: 'composer-mcp-operator', serviceVersion: '0.1.0' });
  const controller = new BrowserPoolController({
    kubeConfig: kc,
    ...(config.namespace ? { namespace: config.namespace } : {}),
    logger,
    workers: config.workers,
    identity,
    sessions: httpSessionReader({ timeoutMs: config.sessionReadTimeoutMs }),
    operator: { namespace: config.operatorPods.namespace ?? ownNamespace, podLabels: config.operatorPods.labels },
  });
  controller.start();

  const stop = new AbortController();
  let elector: LeaderElector | undefined;
  let election: Promise<void> = Promise.resolve();
  let workers: Promise<void> = Promise.resolve();
  if (config.leaderElection.enabled) {
    elector = createLeaderElector(kc, {
      namespace: config.leaderElection.namespace ?? ownNamespace,
      name: config.leaderElection.leaseName,
      identity,
      logger,
      leaseDurationMs: config.leaderElection.leaseDurationSeconds * 1000,
      renewDeadlineMs: config.leaderElection.renewDeadlineSeconds * 1000,
      retryPeriodMs: config.leaderElection.retryPeriodSeconds * 1000,
    });
    const runElection = async (): Promise<void> => {
      while (!stop.signal.aborted) {
        await elector?.run({
          signal: stop.signal,
          onStartedLeading: (signal) => {
            logger.info('Started leading', { identity });
            workers = controller.runWorkers(signal);
          },
          onStoppedLeading: () => logger.info('Stopped leading', { identity }),
        });
        await workers;
      }
    };
    election = runElection();
  } else {
    workers = controller.runWorkers(stop.signal);
  }

  const health = new HealthRegistry();
  health.addCheck('operator', () => {
    const caches = [['browserpools', controller.pools], ['pods', controller.pods], ['secrets', controller.secrets]] as const;
    const unsyncedCaches = caches.filter(([, informer]) => !informer.hasSynced()).map(([name]) => name);
    const status = elector?.status();
    return decideReadiness({
      unsyncedCaches,
      ...(status && elector ? {
        election: {
          leading: status.leading, running: status.running, sinceLastContactMs: Date.now() - status.lastContactAt,
          maxContactAgeMs: elector.timings.leaseDurationMs,
        },
      } : {}),
    });
  });
  health.addLivenessCheck('process', () => ({ ok: true }));
  const servers: OpsServer[] = [];
  const healthServer = await startOpsServer({ host: config.listenHost, port: config.healthPort, health });
  servers.push(healthServer);
  let metricsServer = healthServer;
  if (config.metricsPort !== config.healthPort || config.metricsPort === 0) {
    metricsServer = await startOpsServer({ host: config.listenHost, port: config.metricsPort, health, metricsHandler: telemetry.metricsHandler });
    servers.push(metricsServer);
  }
  logger.info('Started BrowserPool operator', {
    identity, namespace: config.namespace || 'all namespaces', leaderElection: config.leaderElection.enabled,
    health: healthServer.url, metrics: metricsServer.url,
  });

  return {
    controller,
    ...(elector ? { elector } : {}),
    health,
    metricsUrl: `${metricsServer.url}/metrics`,
    healthUrl: healthServer.url,
    async stop() {
      health.setDraining();
      stop.abort();
      await election;
      await workers;
      await controller.stop();
      await Promise.all(servers.map((s) => s.close()));
      await telemetry.shutdown();
      logger.info('Stopped BrowserPool operator', { identity });
    },
  };
}

async function main(): Promise<void> {
  const logger = createLogger({ component: 'operator' });
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
}

if (import.meta.main) {
  main().catch((error: unknown) => {
    createLogger({ component: 'operator' }).error('Failed to start the operator', { error: (error as Error).message });
    process.exit(1);
  });
}
