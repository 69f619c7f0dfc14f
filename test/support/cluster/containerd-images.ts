import { execFile, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** One image `make images` built, as scripts/images/build.sh lists it in images.json. */
export interface BuiltImage {
  /** Short name: operator, server, browser (the chart's repository names). */
  name: string;
  /** The content-keyed reference the archive carries, e.g. composer-mcp.local/cache/server:<inputs key>. */
  ref: string;
  /** Image (config) digest. */
  id: string;
  size: number;
  /** docker-archive tarball. */
  archive: string;
}

/** Reads scripts/images/build.sh's images.json. */
export function readBuiltImages(file: string): BuiltImage[] {
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as unknown;
  if (!Array.isArray(parsed)) throw new Error(`${file} is not a list of images`);
  return parsed as BuiltImage[];
}

/** The repo:tag names a docker archive carries (its manifest.json RepoTags). */
export function archiveRepoTags(archive: string): string[] {
  const manifest = JSON.parse(execFileSync('tar', ['-xOf', archive, 'manifest.json'], { encoding: 'utf8' })) as Array<{ RepoTags?: string[] }>;
  return manifest.flatMap((m) => m.RepoTags ?? []);
}

/** `ctr` bound to one containerd socket and the CRI's `k8s.io` namespace. */
export class Ctr {
  readonly binary: string;
  readonly socket: string;

  constructor(binary: string, socket: string) {
    this.binary = binary;
    this.socket = socket;
  }

  async run(args: string[], timeoutMs = 300_000): Promise<string> {
    try {
      const { stdout } = await run(this.binary, ['--address', this.socket, '--namespace', 'k8s.io', ...args], { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 });
      return stdout;
    } catch (error) {
      const stderr = (error as { stderr?: string }).stderr ?? '';
      throw new Error(`ctr ${args.join(' ')} failed: ${stderr.trim() || (error as Error).message}`, { cause: error });
    }
  }

  /** Synchronous form, for teardown from an exit handler; never throws. */
  runSync(args: string[]): string {
    try {
      return execFileSync(this.binary, ['--address', this.socket, '--namespace', 'k8s.io', ...args], { encoding: 'utf8', timeout: 30_000, stdio: ['ignore', 'pipe', 'ignore'] });
    } catch {
      return '';
    }
  }

  /** Image references present in the namespace. */
  async imageNames(): Promise<Set<string>> {
    return new Set((await this.run(['images', 'list', '--quiet'])).split('\n').filter(Boolean));
  }

  /** Imports a docker archive (unpacked for the CRI's overlayfs snapshotter). */
  async importArchive(archive: string): Promise<void> {
    await this.run(['images', 'import', '--snapshotter', 'overlayfs', archive], 900_000);
  }

  /** Points `target` at the image `source` names (replacing what `target` named before). */
  async tag(source: string, target: string): Promise<void> {
    await this.run(['images', 'tag', '--force', source, target]);
  }

  async removeImages(refs: readonly string[]): Promise<void> {
    if (refs.length > 0) await this.run(['images', 'remove', ...refs]);
  }

  /**
   * Kills and removes every task, container and sandbox in the namespace (what a killed earlier run, or pods the
   * kubelet did not get to delete, left in containerd's persistent metadata).
   */
  removeAllContainersSync(): void {
    const tasks = this.runSync(['tasks', 'list', '--quiet']).split('\n').filter(Boolean);
    for (const id of tasks) this.runSync(['tasks', 'kill', '--all', '--signal', 'SIGKILL', id]);
    for (const id of tasks) this.runSync(['tasks', 'delete', '--force', id]);
    const containers = this.runSync(['containers', 'list', '--quiet']).split('\n').filter(Boolean);
    if (containers.length > 0) this.runSync(['containers', 'delete', ...containers]);
    const sandboxes = this.runSync(['sandboxes', 'list']).split('\n').slice(1).map((l) => l.split(/\s+/)[0] ?? '').filter(Boolean);
    for (const id of sandboxes) this.runSync(['sandboxes', 'remove', '--force', id]);
  }
}
