import type { KubeConfig } from '@kubernetes/client-node';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { ComposerStandin } from '../composer-standin/standin.ts';
import type { Cluster } from './cluster.ts';
import type { OriginRecorder } from './origin-recorder.ts';
import type { ReleaseSettings } from './release.ts';

/** The cluster tier's shared setup: one node, the chart installed once, the Composer stand-in on the node address. */
export interface ClusterTier {
  cluster: Cluster;
  kc: KubeConfig;
  settings: ReleaseSettings;
  /** The values file the release was installed with (upgrades reuse it with another tag). */
  valuesFile: string;
  standin: ComposerStandin;
  /** Who asked the stand-in's origins for what (peer addresses). */
  originRecorder: OriginRecorder;
  /** The server Service's name, cluster DNS name and ClusterIP. */
  service: { name: string; host: string; clusterIP: string };
  /** The MCP endpoint through the Service, `http://<service DNS name>/mcp` (resolved to the ClusterIP). */
  mcpUrl: string;
  /** A new MCP client over Streamable HTTP through the Service. */
  connect(): Promise<Client>;
  /** Image tags loaded into containerd for every image (the first is installed). */
  tags: string[];
  /** Milliseconds of each setup phase. */
  timings: Record<string, number>;
}

let current: ClusterTier | undefined;

/** Records (or clears) the setup of this run. */
export function setClusterTier(tier: ClusterTier | undefined): void {
  current = tier;
}

/** The cluster tier's setup; throws when mocha was not started with the cluster hook. */
export function clusterTier(): ClusterTier {
  if (!current) {
    throw new Error('No test cluster: run mocha with `--require test/support/hooks/cluster-hook.ts` (make test-cluster does).');
  }
  return current;
}
