import { accessSync, constants } from 'node:fs';
import path from 'node:path';

/** The control-plane programs `make control-plane` builds from Go modules. */
export type ControlPlaneBinary = 'etcd' | 'kube-apiserver' | 'kube-controller-manager' | 'kubectl' | 'helm';

const repoRoot = path.resolve(import.meta.dirname, '..', '..', '..');

/** The directory holding the control-plane binaries: `${COMPOSER_MCP_TOOLS:-<repo>/.tools}/bin`. */
export function toolsBinDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(env['COMPOSER_MCP_TOOLS'] ?? path.join(repoRoot, '.tools'), 'bin');
}

/**
 * Returns the absolute path of an executable control-plane binary, or throws an error that names the missing
 * binary and tells how to build it (`make control-plane`).
 */
export function resolveBinary(name: ControlPlaneBinary, binDir: string = toolsBinDir()): string {
  const file = path.join(binDir, name);
  try {
    accessSync(file, constants.X_OK);
  } catch {
    throw new Error(
      `The ${name} binary is missing at ${file}. Run \`make control-plane\` to build the control-plane binaries ` +
        '(minutes the first time on a machine, then cached), or set COMPOSER_MCP_TOOLS to a directory whose bin/ holds them.',
    );
  }
  return file;
}
