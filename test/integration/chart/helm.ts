import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { resolveBinary } from '#support/control-plane/binaries.ts';

/** Exit code and output of one helm run. */
export interface HelmResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The chart in this work tree. */
export const CHART_DIR = path.resolve(import.meta.dirname, '..', '..', '..', 'charts', 'composer-mcp');
/** The values file that turns every optional feature on. */
export const MAXIMAL_VALUES = path.join(CHART_DIR, 'ci', 'maximal-values.yaml');

/** Runs the built helm with its own cache/config dirs; resolves with exit code and output, never rejects on failure. */
export async function helm(args: string[], kubeconfig?: string, timeoutMs = 60_000): Promise<HelmResult> {
  const home = await mkdtemp(path.join(os.tmpdir(), 'helm-home-'));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HELM_CACHE_HOME: path.join(home, 'cache'), HELM_CONFIG_HOME: path.join(home, 'config'), HELM_DATA_HOME: path.join(home, 'data'),
  };
  if (kubeconfig) env['KUBECONFIG'] = kubeconfig;
  try {
    return await new Promise((resolve) => {
      execFile(resolveBinary('helm'), args, { timeout: timeoutMs, env, maxBuffer: 32 * 1024 * 1024 }, (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
      });
    });
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

/** Runs helm and throws with its stderr when it fails; returns stdout. */
export async function helmOk(args: string[], kubeconfig?: string, timeoutMs = 60_000): Promise<string> {
  const r = await helm(args, kubeconfig, timeoutMs);
  if (r.code !== 0) throw new Error(`helm ${args.join(' ')} failed (${r.code}):\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** A rendered Kubernetes object (the fields the tests look at). */
export interface RenderedObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; annotations?: Record<string, string>; labels?: Record<string, string> };
  rules?: Array<{ apiGroups?: string[]; resources?: string[]; verbs: string[]; resourceNames?: string[] }>;
  [key: string]: unknown;
}

/** Parses `helm template` output into its objects (empty documents dropped). */
export function parseManifests(text: string): RenderedObject[] {
  return parseAllDocuments(text).map((d) => d.toJS() as RenderedObject | null).filter((o): o is RenderedObject => o !== null && typeof o === 'object');
}
