// `make testenv-up` / `make testenv-down`: start a control plane by hand that outlives this command, and stop it.
// Usage: node test/support/control-plane/cli.ts up|down [--dir=.testenv] [--no-controller-manager]
import { existsSync, readFileSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createLogger } from '#common/logger.ts';
import { startControlPlane } from './control-plane.ts';
import { isRunning, stopPid } from './processes.ts';

/** What `up` records so `down` can stop the processes by PID. */
export interface TestenvState {
  server: string;
  kubeconfigPath: string;
  dir: string;
  processes: { name: string; pid: number; binary: string }[];
}

const repoRoot = path.resolve(import.meta.dirname, '..', '..', '..');
const logger = createLogger({ component: 'testenv' });

function readState(file: string): TestenvState | undefined {
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as TestenvState;
  } catch {
    return undefined;
  }
}

function printExport(state: TestenvState): void {
  process.stderr.write(`Control plane at ${state.server} (logs in ${path.join(state.dir, 'logs')}). Use it with:\n`);
  process.stdout.write(`export KUBECONFIG=${state.kubeconfigPath}\n`);
}

async function up(dir: string, withControllerManager: boolean): Promise<void> {
  const stateFile = path.join(dir, 'state.json');
  const existing = readState(stateFile);
  if (existing && existing.processes.every((p) => isRunning(p.pid, p.binary))) {
    logger.info('Reused running control plane', { server: existing.server });
    printExport(existing);
    return;
  }
  if (existing) await down(dir);
  await rm(dir, { recursive: true, force: true });
  const controlPlane = await startControlPlane({ baseDir: dir, withControllerManager, detached: true, logger });
  const state: TestenvState = {
    server: controlPlane.server,
    kubeconfigPath: controlPlane.kubeconfigPath,
    dir: controlPlane.dir,
    processes: controlPlane.processes().map(({ name, pid, binary }) => ({ name, pid, binary })),
  };
  await writeFile(stateFile, `${JSON.stringify(state, null, 2)}\n`);
  printExport(state);
}

async function down(dir: string): Promise<void> {
  const state = readState(path.join(dir, 'state.json'));
  if (!state) {
    logger.info('Found no control plane to stop', { dir });
    return;
  }
  for (const proc of state.processes.toReversed()) {
    await stopPid(proc.pid, proc.binary);
    logger.info('Stopped component', { process: proc.name, pid: proc.pid });
  }
  await rm(dir, { recursive: true, force: true });
  logger.info('Stopped control plane', { dir });
}

async function main(argv: string[]): Promise<number> {
  const [command, ...flags] = argv;
  const dirFlag = flags.find((f) => f.startsWith('--dir='));
  const dir = path.resolve(repoRoot, dirFlag ? dirFlag.slice('--dir='.length) : '.testenv');
  if (command === 'up') await up(dir, !flags.includes('--no-controller-manager'));
  else if (command === 'down') await down(dir);
  else {
    process.stderr.write('Usage: node test/support/control-plane/cli.ts up|down [--dir=.testenv] [--no-controller-manager]\n');
    return 2;
  }
  return 0;
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  process.stderr.write(`testenv: ${(error as Error).message}\n`);
  process.exitCode = 1;
}
