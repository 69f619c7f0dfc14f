import type { Logger } from '#common/logger.ts';
import type { ServerConfig } from '#server/config.ts';
import { MemoryTaskStore } from './memory-task-store.ts';
import type { TaskStore } from './task-store.ts';

/** Which task store the settings ask for: `tasks.store`, else the store `composer.idempotency` uses. */
export function taskStoreKind(config: Pick<ServerConfig, 'tasks' | 'composer'>): 'memory' | 'kubernetes' {
  return config.tasks.store ?? config.composer.idempotency.store;
}

/**
 * The task store: in memory (local mode, one replica), or ConfigMaps in the server's namespace (`tasks.namespace`, else
 * `composer.idempotency.namespace`, else POD_NAMESPACE) that every replica reads. Throws naming the settings when the
 * Kubernetes store has no namespace.
 */
export async function buildTaskStore(config: Pick<ServerConfig, 'tasks' | 'composer'>, logger: Logger, env: NodeJS.ProcessEnv = process.env): Promise<TaskStore> {
  if (taskStoreKind(config) === 'memory') return new MemoryTaskStore({ logger });
  const namespace = config.tasks.namespace ?? config.composer.idempotency.namespace ?? env['POD_NAMESPACE'];
  if (!namespace) throw new Error('The task store is "kubernetes" but no namespace is known: set tasks.namespace (env COMPOSER_MCP_TASKS__NAMESPACE) or POD_NAMESPACE.');
  const [{ KubeConfig }, { KubernetesTaskStore }] = await Promise.all([import('@kubernetes/client-node'), import('./kubernetes-task-store.ts')]);
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromDefault();
  return new KubernetesTaskStore({ kubeConfig, namespace, logger });
}
