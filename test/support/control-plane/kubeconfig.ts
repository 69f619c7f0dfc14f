import { readFile, writeFile } from 'node:fs/promises';
import { stringify } from 'yaml';

/** What a kubeconfig for one user of the test control plane needs. */
export interface KubeconfigSpec {
  /** API server URL, e.g. https://127.0.0.1:41234. */
  server: string;
  caCertPath: string;
  clientCertPath: string;
  clientKeyPath: string;
  /** User name (also the context name suffix). */
  user: string;
  /** Default namespace of the context; "default" when unset. */
  namespace?: string;
}

/** Renders a self-contained kubeconfig (certificates embedded as base64 data) as YAML. */
export function renderKubeconfig(spec: KubeconfigSpec, ca: Buffer, cert: Buffer, key: Buffer): string {
  const context = `composer-mcp-test-${spec.user}`;
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'composer-mcp-test', cluster: { server: spec.server, 'certificate-authority-data': ca.toString('base64') } }],
    users: [{ name: spec.user, user: { 'client-certificate-data': cert.toString('base64'), 'client-key-data': key.toString('base64') } }],
    contexts: [{ name: context, context: { cluster: 'composer-mcp-test', user: spec.user, namespace: spec.namespace ?? 'default' } }],
    'current-context': context,
    preferences: {},
  });
}

/** Writes the kubeconfig of `spec` to `path` (mode 0600) and returns the path. */
export async function writeKubeconfig(path: string, spec: KubeconfigSpec): Promise<string> {
  const [ca, cert, key] = await Promise.all([readFile(spec.caCertPath), readFile(spec.clientCertPath), readFile(spec.clientKeyPath)]);
  await writeFile(path, renderKubeconfig(spec, ca, cert, key), { mode: 0o600 });
  return path;
}
