import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Agent, fetch as undiciFetch } from 'undici';
import { stringify } from 'yaml';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { CHART_DIR, helmOk } from '../../integration/chart/helm.ts';
import { LOCAL_REGISTRY } from './cluster.ts';

/** What the chart is installed with in the cluster tier. */
export interface ReleaseSettings {
  release: string;
  namespace: string;
  /** image.tag: every image of the release is `composer-mcp.local/<name>:<tag>` (loaded into containerd). */
  tag: string;
  composerUrl: string;
  apiUrl: string;
  /** Secret holding access-token, project-key and connector-uid. */
  credentialsSecret: string;
}

/**
 * The values the cluster tier installs the chart with: only what a platform team sets too (registry and tag,
 * the Composer origins, the credentials Secret), plus two replicas of the server without an autoscaler (there is
 * no metrics server) so that an upgrade rolls one replica while the other serves. The shutdown drain is the chart's
 * default: a terminating replica serves whatever still reaches it, however long endpoint propagation takes here.
 */
export function releaseValues(settings: ReleaseSettings): Record<string, unknown> {
  return {
    image: { registry: LOCAL_REGISTRY, tag: settings.tag, pullPolicy: 'IfNotPresent' },
    server: {
      replicas: 2,
      autoscaling: { enabled: false },
      // The tier's MCP client runs on the node, without a token: auth none, confirmed as the chart requires.
      auth: { mode: 'none', allowUnauthenticated: true },
      composer: {
        composerUrl: settings.composerUrl,
        apiUrl: settings.apiUrl,
        credentials: { existingSecret: settings.credentialsSecret },
      },
    },
    browserPool: { replicas: 2 },
  };
}

/** Writes the values file of `settings` into `dir` and returns its path. */
export async function writeValues(dir: string, settings: ReleaseSettings): Promise<string> {
  const file = path.join(dir, `values-${settings.release}.yaml`);
  await writeFile(file, stringify(releaseValues(settings)));
  return file;
}

/** `helm install --wait` of the chart in this work tree. */
export async function helmInstall(kubeconfig: string, settings: ReleaseSettings, valuesFile: string): Promise<string> {
  return helmOk(['install', settings.release, CHART_DIR, '-n', settings.namespace, '-f', valuesFile, '--wait', '--timeout', '240s'], kubeconfig, 300_000);
}

/** `helm upgrade --wait` to another image tag, every other value as installed. */
export async function helmUpgrade(kubeconfig: string, settings: ReleaseSettings, valuesFile: string, tag: string): Promise<string> {
  return helmOk(['upgrade', settings.release, CHART_DIR, '-n', settings.namespace, '-f', valuesFile, '--set', `image.tag=${tag}`,
    '--wait', '--timeout', '300s'], kubeconfig, 360_000);
}

/** `helm rollback --wait` to `revision`. */
export async function helmRollback(kubeconfig: string, settings: ReleaseSettings, revision: number): Promise<string> {
  return helmOk(['rollback', settings.release, String(revision), '-n', settings.namespace, '--wait', '--timeout', '300s'], kubeconfig, 360_000);
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A fetch that resolves `hostname` (a Service's cluster DNS name) to `ip` (its ClusterIP) and everything else as
 * usual: a client on the node reaches the Service the way a client in the cluster would, through kube-proxy's
 * rules, with the Host header the server expects. Each call gets the Agent's pooled connections.
 */
export function serviceFetch(hostname: string, ip: string): { fetch: FetchLike; close: () => Promise<void> } {
  const lookup = (host: string, options: LookupOptions, callback: LookupCallback): void => {
    if (host !== hostname) {
      dnsLookup(host, options, callback as never);
      return;
    }
    if (options.all) callback(null, [{ address: ip, family: 4 }]);
    else callback(null, ip, 4);
  };
  const agent = new Agent({ connect: { lookup: lookup as never } });
  const fetch = ((url: string | URL, init?: RequestInit) => undiciFetch(url, { ...(init as object), dispatcher: agent })) as unknown as FetchLike;
  return { fetch, close: () => agent.close() };
}

/**
 * Waits until the Service answers `GET /readyz` 200 through its ClusterIP (kube-proxy's rules for it programmed and a
 * ready endpoint behind them): `helm install --wait` sees the pods Ready, which can come a few seconds before the
 * Service routes (a test that ran first once met ECONNREFUSED at the ClusterIP 5 s after the install). Returns the
 * number of attempts; throws with the last failure after `timeoutMs`.
 */
export async function waitForServiceRoute(fetch: FetchLike, baseUrl: string, timeoutMs = 60_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let attempts = 0;
  let last = '';
  while (Date.now() < deadline) {
    attempts += 1;
    try {
      const response = await fetch(`${baseUrl}/readyz`, { signal: AbortSignal.timeout(5_000) });
      if (response.status === 200) return attempts;
      last = `HTTP ${response.status}`;
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      last = cause ?? (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`The Service at ${baseUrl} did not answer /readyz 200 within ${timeoutMs} ms (${attempts} attempts, last: ${last})`);
}

