import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { resolveBinary } from './binaries.ts';

/** Exit code and output of one kubectl run. */
export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the built kubectl with `args` against `kubeconfig` (a fresh discovery cache each time, so a CRD applied a
 * moment ago is seen) and resolves with its exit code and output; never rejects on a non-zero exit.
 */
export async function kubectl(args: string[], kubeconfig: string, timeoutMs = 30_000): Promise<KubectlResult> {
  const cacheDir = await mkdtemp(path.join(os.tmpdir(), 'kubectl-cache-'));
  try {
    return await new Promise((resolve) => {
      execFile(resolveBinary('kubectl'), [`--kubeconfig=${kubeconfig}`, `--cache-dir=${cacheDir}`, ...args],
        { timeout: timeoutMs, env: { ...process.env, KUBECONFIG: kubeconfig }, maxBuffer: 32 * 1024 * 1024 },
        (error, stdout, stderr) => {
          const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
          resolve({ code, stdout, stderr });
        });
    });
  } finally {
    await rm(cacheDir, { recursive: true, force: true });
  }
}
