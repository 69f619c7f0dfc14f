import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { kubeListWatchClient, resourcePath, type ListWatchClient, type ResourceLocation } from './list-watch-client.ts';

/** Drops `metadata.managedFields` (often most of an object's size, never read by the controller). */
export function stripManagedFields(object: unknown): void {
  const meta = (object as KubernetesObject | null)?.metadata as { managedFields?: unknown } | undefined;
  if (meta && 'managedFields' in meta) delete meta.managedFields;
}

/**
 * A list-watch client that removes managedFields from every listed and watched object before the informer
 * caches it, so a thousand pods cost a fraction of the memory (client-go's informers do the same with a transform).
 */
export function leanListWatchClient<T extends KubernetesObject>(kubeConfig: KubeConfig, location: ResourceLocation): ListWatchClient<T> {
  const inner = kubeListWatchClient<T>(kubeConfig, resourcePath(location));
  return {
    async list(options) {
      const page = await inner.list(options);
      for (const item of page.items) stripManagedFields(item);
      return page;
    },
    watch(options, onEvent, onDone) {
      return inner.watch(options, (type, object) => {
        if (type !== 'ERROR') stripManagedFields(object);
        onEvent(type, object);
      }, onDone);
    },
  };
}
