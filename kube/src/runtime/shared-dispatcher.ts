import { createHash } from 'node:crypto';
import type { KubeConfig } from '@kubernetes/client-node';

type CreateDispatcher = (cluster: unknown, agentOptions: Record<string, unknown>) => unknown;
const SHARED = Symbol.for('composer-mcp.sharedDispatcher');

function keyOf(cluster: unknown, agentOptions: Record<string, unknown>): string {
  const c = cluster as { server?: string; proxyUrl?: string } | null;
  const hash = createHash('sha256');
  for (const part of [c?.server, c?.proxyUrl, agentOptions['ca'], agentOptions['cert'], agentOptions['key'], agentOptions['servername'], agentOptions['rejectUnauthorized']]) {
    hash.update(String(part ?? '')).update('\0');
  }
  return hash.digest('hex');
}

/**
 * Makes every API call of `kubeConfig` share one HTTP dispatcher (connection pool) per cluster and credentials.
 * client-node 2.0 builds a new undici Agent for every request when client certificates are used, so each call
 * opens (and keeps alive for a while) its own TLS connection: hundreds of connections and ~100 MB of native
 * memory in a busy operator. Credentials that change (rotated certificates) get a new dispatcher. Idempotent.
 */
export function shareDispatcher(kubeConfig: KubeConfig): KubeConfig {
  const target = kubeConfig as unknown as { createDispatcher?: CreateDispatcher; [SHARED]?: boolean };
  if (target[SHARED] || typeof target.createDispatcher !== 'function') return kubeConfig;
  const original = target.createDispatcher.bind(kubeConfig);
  let cached: { key: string; dispatcher: unknown } | undefined;
  target.createDispatcher = (cluster, agentOptions) => {
    const key = keyOf(cluster, agentOptions);
    if (!cached || cached.key !== key) cached = { key, dispatcher: original(cluster, agentOptions) };
    return cached.dispatcher;
  };
  target[SHARED] = true;
  return kubeConfig;
}
