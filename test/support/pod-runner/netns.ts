import { execFile } from 'node:child_process';
import { networkInterfaces } from 'node:os';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/** Prefix of every network namespace the pod runner creates; the rest is the slot number. */
export const NETNS_PREFIX = 'cmcp-pr-';
/** The private range the pod runner owns: 10.244.0.0/16, one /30 per pod (host .1, pod .2). */
export const POD_RANGE = '10.244.0.0/16';
const SLOTS = 16_384;

/** A pod's network: its namespace, the host end and the pod end of a veth pair, and their addresses. */
export interface PodNetwork {
  netns: string;
  slot: number;
  hostIf: string;
  hostIP: string;
  podIP: string;
}

/** Runs `ip` with arguments; rejects with its stderr. */
export async function ip(...args: string[]): Promise<string> {
  try {
    const { stdout } = await exec('ip', args, { timeout: 10_000 });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`ip ${args.join(' ')} failed: ${(e.stderr ?? e.message).trim()}`, { cause: err });
  }
}

/** The addresses of slot `n`: 10.244.(4n / 256).(4n % 256) + 1 for the host, + 2 for the pod. */
export function slotAddresses(slot: number): { hostIP: string; podIP: string } {
  const base = slot * 4;
  const third = Math.floor(base / 256);
  const fourth = base % 256;
  return { hostIP: `10.244.${third}.${fourth + 1}`, podIP: `10.244.${third}.${fourth + 2}` };
}

/**
 * Creates a network namespace with `lo` up, a veth pair to the host carrying a /30 of 10.244.0.0/16 and a default
 * route through the host end (as a pod network routes through its node), so the pod reaches every address of the
 * host, e.g. a Composer stand-in listening on {@link hostAddressForPods}. The
 * namespace name (`cmcp-pr-<slot>`) is the lock on the slot: creating it fails when another runner holds it, so
 * parallel runners never share an address. Everything is removed again if a step fails.
 */
export async function createPodNetwork(startSlot = 1): Promise<PodNetwork> {
  for (let i = 0; i < SLOTS; i++) {
    const slot = ((startSlot + i - 1) % (SLOTS - 1)) + 1;
    const netns = `${NETNS_PREFIX}${slot}`;
    try {
      await ip('netns', 'add', netns);
    } catch (err) {
      if (/exists/i.test((err as Error).message)) continue;
      throw err;
    }
    const { hostIP, podIP } = slotAddresses(slot);
    const hostIf = `cpr${slot}h`;
    const podIf = `cpr${slot}n`;
    try {
      await ip('link', 'del', hostIf).catch(() => undefined);
      await ip('link', 'add', hostIf, 'type', 'veth', 'peer', 'name', podIf);
      await ip('link', 'set', podIf, 'netns', netns);
      await ip('addr', 'add', `${hostIP}/30`, 'dev', hostIf);
      await ip('link', 'set', hostIf, 'up');
      await ip('-n', netns, 'link', 'set', 'lo', 'up');
      await ip('-n', netns, 'addr', 'add', `${podIP}/30`, 'dev', podIf);
      await ip('-n', netns, 'link', 'set', podIf, 'up');
      await ip('-n', netns, 'route', 'add', 'default', 'via', hostIP);
    } catch (err) {
      await deletePodNetwork({ netns, slot, hostIf, hostIP, podIP });
      throw err;
    }
    return { netns, slot, hostIf, hostIP, podIP };
  }
  throw new Error('No free pod network slot in 10.244.0.0/16: delete stale namespaces (ip netns list | grep cmcp-pr-)');
}

/** Kills whatever still runs in the namespace, deletes the veth pair and the namespace. Never throws. */
export async function deletePodNetwork(net: PodNetwork): Promise<void> {
  const pids = await ip('netns', 'pids', net.netns).catch(() => '');
  for (const pid of pids.split('\n').map((s) => Number(s.trim())).filter((n) => n > 0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await ip('link', 'del', net.hostIf).catch(() => undefined);
  await ip('netns', 'del', net.netns).catch(() => undefined);
}

/**
 * An address of this host that every pod reaches through its default route, and this host's own processes too (a
 * non-loopback IPv4 address outside the pod range): where to listen for a service the browsers must load, like the
 * Composer stand-in. Throws when the host has none.
 */
export function hostAddressForPods(): string {
  for (const [name, addresses] of Object.entries(networkInterfaces())) {
    if (name.startsWith('cpr')) continue;
    const v4 = addresses?.find((a) => a.family === 'IPv4' && !a.internal && !a.address.startsWith('10.244.'));
    if (v4) return v4.address;
  }
  throw new Error('This host has no non-loopback IPv4 address outside 10.244.0.0/16 that pods could reach; add one (e.g. a dummy interface)');
}
