import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { NodeNetwork } from './node-config.ts';

/**
 * The machine-level pieces of the test node: an interface for the node address, the IP forwarding sysctl the
 * CNI bridge turns on, kube-proxy's nftables tables, mounts below the node's directories and the pods' cgroups.
 * Everything is synchronous so that it also runs from a `process.on('exit')` handler; every removal is
 * idempotent, so the same teardown also cleans what a killed earlier run left behind.
 */

function run(command: string, args: string[]): { code: number; out: string } {
  const r = spawnSync(command, args, { encoding: 'utf8', timeout: 30_000 });
  return { code: r.status ?? 1, out: `${r.stdout ?? ''}${r.stderr ?? ''}`.trim() };
}

function must(command: string, args: string[]): string {
  const r = run(command, args);
  if (r.code !== 0) throw new Error(`${command} ${args.join(' ')} failed (${r.code}): ${r.out}`);
  return r.out;
}

/** Whether a network interface exists. */
export function linkExists(name: string): boolean {
  return run('ip', ['link', 'show', 'dev', name]).code === 0;
}

/**
 * Creates the node's bridge with the node address (the pods' gateway) and a route for the Service range through
 * it, so that connections the host itself opens to ClusterIPs leave from the node address.
 */
export function createNodeBridge(network: NodeNetwork): void {
  const prefix = network.podSubnet.split('/')[1] ?? '24';
  if (!linkExists(network.bridge)) must('ip', ['link', 'add', network.bridge, 'type', 'bridge']);
  run('ip', ['addr', 'add', `${network.nodeIP}/${prefix}`, 'dev', network.bridge]);
  must('ip', ['link', 'set', network.bridge, 'up']);
  must('ip', ['route', 'replace', network.serviceCIDR, 'dev', network.bridge, 'src', network.nodeIP]);
}

/** Deletes the node's interfaces: every veth attached to the bridge, then the bridge (its routes go with it). */
export function removeInterfaces(network: NodeNetwork): void {
  if (!linkExists(network.bridge)) return;
  const attached = run('ip', ['-o', 'link', 'show', 'master', network.bridge]).out.split('\n')
    .map((line) => /^\d+:\s+([^:@\s]+)/.exec(line)?.[1]).filter((n): n is string => n !== undefined);
  for (const veth of attached) run('ip', ['link', 'delete', veth]);
  run('ip', ['link', 'delete', network.bridge]);
}

const IP_FORWARD = '/proc/sys/net/ipv4/ip_forward';

/** The current value of net.ipv4.ip_forward ("0" or "1"). */
export function readIpForward(): string {
  return readFileSync(IP_FORWARD, 'utf8').trim();
}

/** Sets net.ipv4.ip_forward back to `value` when it differs. */
export function restoreIpForward(value: string): void {
  if (readIpForward() !== value) writeFileSync(IP_FORWARD, `${value}\n`);
}

/** Deletes kube-proxy's nftables tables (they hold every rule it wrote); absent tables are fine. */
export function removeNftTables(network: NodeNetwork): void {
  for (const table of network.nftTables) run('nft', ['delete', 'table', table.family, table.name]);
}

/** Whether kube-proxy's tables exist (the test checks that teardown removed them). */
export function nftTablesPresent(network: NodeNetwork): string[] {
  return network.nftTables.filter((t) => run('nft', ['list', 'table', t.family, t.name]).code === 0).map((t) => `${t.family} ${t.name}`);
}

/** Mount points at or below any of `dirs`, deepest first (octal escapes of /proc/mounts decoded). */
export function mountsBelow(dirs: readonly string[]): string[] {
  const decode = (s: string): string => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
  const points = readFileSync('/proc/self/mounts', 'utf8').split('\n').map((l) => decode(l.split(' ')[1] ?? '')).filter(Boolean);
  const roots = dirs.map((d) => path.resolve(d));
  return [...new Set(points.filter((p) => roots.some((r) => p === r || p.startsWith(`${r}/`))))]
    .toSorted((a, b) => b.split('/').length - a.split('/').length || b.localeCompare(a));
}

/** Unmounts everything at or below `dirs` (deepest first; lazily when a plain unmount is refused). */
export function unmountBelow(dirs: readonly string[]): void {
  for (let pass = 0; pass < 3; pass++) {
    const mounts = mountsBelow(dirs);
    if (mounts.length === 0) return;
    for (const m of mounts) {
      if (run('umount', [m]).code !== 0) run('umount', ['-l', m]);
    }
  }
}

/** Mount points of every cgroup hierarchy (v1 controllers, named ones, the unified one). */
function cgroupMounts(): string[] {
  const mounts = readFileSync('/proc/self/mounts', 'utf8').split('\n').map((l) => l.split(' '))
    .filter((f) => f[2] === 'cgroup' || f[2] === 'cgroup2').map((f) => f[1] ?? '');
  return [...new Set(mounts)];
}

/**
 * Creates the cgroup `relative` in every hierarchy (the kubelet requires its cgroupRoot to exist in all of them);
 * a v1 cpuset cgroup gets its parent's cpus and mems, without which no process could join it.
 */
export function createCgroups(relative: string): void {
  for (const mount of cgroupMounts()) {
    const dir = path.join(mount, relative);
    mkdirSync(dir, { recursive: true });
    for (const file of ['cpuset.cpus', 'cpuset.mems']) {
      const own = path.join(dir, file);
      if (existsSync(own) && readFileSync(own, 'utf8').trim() === '') writeFileSync(own, readFileSync(path.join(mount, file), 'utf8'));
    }
  }
}

/** The cgroup directories of every mounted hierarchy (v1 controllers and the unified one) for `relative`. */
export function cgroupDirs(relative: string): string[] {
  return cgroupMounts().map((m) => path.join(m, relative)).filter((d) => existsSync(d));
}

/** PIDs of every process in the cgroup trees at `relative` (any hierarchy). */
export function pidsInCgroup(relative: string): number[] {
  const pids = new Set<number>();
  const walk = (dir: string): void => {
    try {
      for (const line of readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').split('\n')) if (line) pids.add(Number(line));
      for (const entry of readdirSync(dir, { withFileTypes: true })) if (entry.isDirectory()) walk(path.join(dir, entry.name));
    } catch {
      // Removed meanwhile.
    }
  };
  for (const dir of cgroupDirs(relative)) walk(dir);
  return [...pids];
}

/** SIGKILLs every process in the node's cgroups (the pods' containers), by PID. */
export function killCgroupProcesses(relative: string): number {
  const pids = pidsInCgroup(relative);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  return pids.length;
}

/** Removes the cgroup trees at `relative` in every hierarchy, deepest first; returns what could not be removed. */
export function removeCgroups(relative: string): string[] {
  const left: string[] = [];
  const remove = (dir: string): void => {
    let entries: string[] = [];
    try {
      entries = readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
    } catch {
      return;
    }
    for (const e of entries) remove(path.join(dir, e));
    try {
      rmdirSync(dir);
    } catch {
      left.push(dir);
    }
  };
  for (const dir of cgroupDirs(relative)) remove(dir);
  return left;
}

/** PIDs of processes whose command line contains `needle` (e.g. shims started for our containerd socket). */
export function pidsWithArgument(needle: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (cmdline.includes(needle)) pids.push(Number(entry));
    } catch {
      // Gone.
    }
  }
  return pids;
}
