import { AsyncLocalStorage } from 'node:async_hooks';
import { createConfiguration, ServerConfiguration, type Configuration, type KubeConfig } from '@kubernetes/client-node';

const requestSignal = new AsyncLocalStorage<AbortSignal>();

/**
 * Runs `call` so that every API request it makes through a client from {@link makeApiClient} carries `signal`:
 * aborting it aborts those requests (a timed-out Lease renewal, a write past its deadline).
 */
export function withRequestSignal<T>(signal: AbortSignal, call: () => Promise<T>): Promise<T> {
  return requestSignal.run(signal, call);
}

/**
 * An API client like `kubeConfig.makeApiClient(apiType)` (same server, same authentication) whose requests honour
 * the signal of the enclosing {@link withRequestSignal}. Works for the typed APIs and `KubernetesObjectApi`.
 */
export function makeApiClient<T>(kubeConfig: KubeConfig, apiType: new (configuration: Configuration) => T): T {
  const cluster = kubeConfig.getCurrentCluster();
  if (!cluster) throw new Error('No current cluster in the kubeconfig: set a current-context that names a cluster');
  return new apiType(createConfiguration({
    baseServer: new ServerConfiguration(cluster.server, {}),
    authMethods: { default: kubeConfig },
    promiseMiddleware: [{
      pre: async (context) => {
        const signal = requestSignal.getStore();
        if (signal) context.setSignal(signal);
        return context;
      },
      post: async (response) => response,
    }],
  }));
}
