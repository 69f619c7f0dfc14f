import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from '#common/logger.ts';
import { toolsBinDir } from '../control-plane/binaries.ts';
import { etcdArgs } from '../control-plane/control-plane.ts';
import { freeLoopbackPorts } from '../control-plane/free-port.ts';
import { isRunning, startProcess, stopPid, tailFile, type ComponentProcess } from '../control-plane/processes.ts';
import { probe, waitUntilReady, type TlsMaterial } from '../control-plane/readiness.ts';
import { createClusterPki } from './cluster-pki.ts';
import {
  clusterApiserverArgs, clusterControllerManagerArgs, kubeletArgs, kubeProxyArgs, schedulerArgs,
} from './component-args.ts';
import { archiveRepoTags, Ctr, type BuiltImage } from './containerd-images.ts';
import {
  createCgroups, createNodeBridge, killCgroupProcesses, nftTablesPresent, pidsInCgroup, pidsWithArgument, readIpForward,
  removeCgroups, removeInterfaces, removeNftTables, restoreIpForward, unmountBelow, mountsBelow, linkExists,
} from './host.ts';
import {
  CGROUP_ROOT, NODE_NAME, NODE_NETWORK, cniConfList, containerdConfig, kubeletConfig, kubeProxyConfig, schedulerConfig,
  type NodeNetwork, type NodePaths,
} from './node-config.ts';

/** Registry name of the images loaded into the node (never pulled: containerd has them). */
export const LOCAL_REGISTRY = 'composer-mcp.local';

/** Fixed places, so that a run killed before its teardown is cleaned by the next one. */
const RUN_DIR = '/run/composer-mcp-node';
const DATA_DIR = '/var/lib/composer-mcp-node';
const OWNER_FILE = path.join(RUN_DIR, 'owner.json');
/** Where the logs of the last run are kept after teardown (the node's own directories are removed). */
export const LAST_LOGS_DIR = path.join(os.tmpdir(), 'composer-mcp-cluster-logs');

/** How to start the test node. */
export interface ClusterOptions {
  logger?: Logger;
  /** Images (scripts/images/build.sh's images.json) to load into containerd. */
  images?: BuiltImage[];
  /** Also name each image `composer-mcp.local/<name>:<tag>` for every tag here (the chart's image.tag). */
  imageTags?: string[];
  /** Directory holding the binaries; default `${COMPOSER_MCP_TOOLS:-<repo>/.tools}/bin`. */
  binDir?: string;
  /** Cache directory (containerd's root lives below it); default `${COMPOSER_MCP_CACHE:-~/.cache/composer-mcp}`. */
  cacheDir?: string;
  /** How long each component may take to become ready; default 120 s. */
  componentTimeoutMs?: number;
}

/** A running single-node cluster. */
export interface Cluster {
  /** API server URL on the node address. */
  server: string;
  /** Admin (system:masters) kubeconfig. */
  kubeconfigPath: string;
  caCertPath: string;
  network: NodeNetwork;
  nodeName: string;
  /** The kubelet's root directory; Localhost seccomp profiles go to `<this>/seccomp/`. */
  kubeletRootDir: string;
  ctr: Ctr;
  /** Milliseconds each start phase took. */
  timings: Record<string, number>;
  processes(): ComponentProcess[];
  /** Names every loaded image `composer-mcp.local/<name>:<tag>` as well. */
  tagImages(tag: string): Promise<void>;
  /** Logs of every component (moved to LAST_LOGS_DIR on stop). */
  logsDir: string;
  /** Deletes every pod, stops every process by PID, removes mounts, interfaces, firewall tables and cgroups. */
  stop(): Promise<void>;
}

/** What the owner file records for a later run's recovery. */
interface OwnerState {
  pid: number;
  ipForward: string;
  /** Whether /run/containerd existed before (containerd's shims create it whatever the state dir says). */
  hadRunContainerd: boolean;
  containerdSocket: string;
  processes: Array<{ name: string; pid: number; binary: string }>;
}

function nodePaths(cacheDir: string): NodePaths {
  const containerdState = path.join(RUN_DIR, 'containerd');
  return {
    containerdRoot: path.join(cacheDir, 'node', 'containerd'),
    containerdState,
    containerdSocket: path.join(containerdState, 'containerd.sock'),
    runcRoot: path.join(RUN_DIR, 'runc'),
    cniConfDir: path.join(RUN_DIR, 'cni', 'net.d'),
    cniBinDir: '/usr/lib/cni',
    cniIpamDir: path.join(RUN_DIR, 'cni', 'ipam'),
    kubeletRoot: path.join(DATA_DIR, 'kubelet'),
    podLogsDir: path.join(DATA_DIR, 'pod-logs'),
    volumePluginDir: path.join(DATA_DIR, 'volume-plugins'),
  };
}

function readOwner(): OwnerState | undefined {
  try {
    return JSON.parse(readFileSync(OWNER_FILE, 'utf8')) as OwnerState;
  } catch {
    return undefined;
  }
}

function writeOwner(state: OwnerState): void {
  writeFileSync(OWNER_FILE, `${JSON.stringify(state, null, 2)}\n`);
}

function kill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

/**
 * Removes everything a node run creates, synchronously and idempotently: its processes (by recorded PID), the
 * containerd shims serving its socket, every process in its pods' cgroups, then mounts, kube-proxy's nftables
 * tables, the interfaces, the IP forwarding setting, the cgroups and the directories (logs kept in LAST_LOGS_DIR).
 * Returns what it could not remove.
 */
export function teardownNode(state: OwnerState | undefined, paths: NodePaths, network: NodeNetwork = NODE_NETWORK): string[] {
  for (const p of state?.processes ?? []) if (isRunning(p.pid, p.binary)) kill(p.pid);
  for (const pid of pidsWithArgument(paths.containerdSocket)) kill(pid);
  for (let i = 0; i < 50 && pidsInCgroup(CGROUP_ROOT).length > 0; i++) {
    killCgroupProcesses(CGROUP_ROOT);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
  }
  unmountBelow([RUN_DIR, DATA_DIR, paths.containerdRoot]);
  removeNftTables(network);
  removeInterfaces(network);
  if (state) restoreIpForward(state.ipForward);
  if (state && !state.hadRunContainerd) rmSync('/run/containerd', { recursive: true, force: true });
  const cgroupsLeft = removeCgroups(CGROUP_ROOT);
  const logs = path.join(DATA_DIR, 'logs');
  if (existsSync(logs)) {
    rmSync(LAST_LOGS_DIR, { recursive: true, force: true });
    try {
      // The components' logs, and the containers' (the kubelet's pod log directory).
      if (existsSync(paths.podLogsDir)) renameSync(paths.podLogsDir, path.join(logs, 'pods'));
      renameSync(logs, LAST_LOGS_DIR);
    } catch {
      // Another filesystem: the logs go with the directory.
    }
  }
  const left: string[] = [...cgroupsLeft.map((c) => `cgroup ${c}`), ...mountsBelow([RUN_DIR, DATA_DIR, paths.containerdRoot]).map((m) => `mount ${m}`)];
  for (const p of state?.processes ?? []) if (isRunning(p.pid, p.binary)) left.push(`process ${p.name} (pid ${p.pid})`);
  for (const pid of pidsWithArgument(paths.containerdSocket)) left.push(`containerd shim (pid ${pid})`);
  left.push(...nftTablesPresent(network).map((t) => `nft table ${t}`));
  if (linkExists(network.bridge)) left.push(`interface ${network.bridge}`);
  if (left.length === 0) {
    rmSync(DATA_DIR, { recursive: true, force: true });
    rmSync(RUN_DIR, { recursive: true, force: true });
  }
  return left;
}

/** Stops a node left running by a `cli.ts up` or by a killed run (reads the owner file). */
export function teardownLeftover(cacheDir = defaultCacheDir()): string[] {
  return teardownNode(readOwner(), nodePaths(cacheDir));
}

function defaultCacheDir(): string {
  return process.env['COMPOSER_MCP_CACHE'] ?? path.join(process.env['XDG_CACHE_HOME'] ?? path.join(os.homedir(), '.cache'), 'composer-mcp');
}

/** A component failed to start: names it and carries its log's tail. */
export class NodeStartError extends Error {
  constructor(component: string, reason: string, logPath: string) {
    super(`${component} failed to start: ${reason}. Last lines of ${logPath}:\n${tailFile(logPath, 40) || '(empty log)'}`);
    this.name = 'NodeStartError';
  }
}

function binary(binDir: string, name: string): string {
  const file = path.join(binDir, name);
  if (!existsSync(file)) {
    throw new Error(`${name} is missing at ${file}: run \`make control-plane node\` (bash test/support/cluster/build.sh) to build it (cached after the first time).`);
  }
  return file;
}

/**
 * Starts a single-node Kubernetes cluster on this machine (root needed): etcd, kube-apiserver on the node
 * address, kube-controller-manager, kube-scheduler, containerd 2 with the CNI bridge, the kubelet and kube-proxy
 * (nftables), loads the given images into containerd, and resolves once the node is Ready and the `kubernetes`
 * Service routes to the API server. A failure on the way tears down everything started.
 */
export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  if (process.getuid?.() !== 0) throw new Error('The cluster tier needs root (containerd, kubelet, network interfaces, mounts).');
  const logger = options.logger;
  const binDir = options.binDir ?? toolsBinDir();
  const cacheDir = options.cacheDir ?? defaultCacheDir();
  const timeoutMs = options.componentTimeoutMs ?? 120_000;
  const network = NODE_NETWORK;
  const paths = nodePaths(cacheDir);
  const bins = {
    etcd: binary(binDir, 'etcd'), apiserver: binary(binDir, 'kube-apiserver'), controllerManager: binary(binDir, 'kube-controller-manager'),
    scheduler: binary(binDir, 'kube-scheduler'), containerd: binary(binDir, 'containerd'), ctr: binary(binDir, 'ctr'),
    kubelet: binary(binDir, 'kubelet'), kubeProxy: binary(binDir, 'kube-proxy'), pauseImage: binary(binDir, 'pause-image.tar'),
  };
  const timings: Record<string, number> = {};
  const started = Date.now();
  let phase = Date.now();
  const mark = (name: string): void => {
    timings[name] = Date.now() - phase;
    phase = Date.now();
  };

  // One node per machine: a live owner refuses, a dead one's leftovers are removed first.
  const previous = readOwner();
  if (previous && previous.pid !== process.pid && isRunning(previous.pid) && previous.processes.some((p) => isRunning(p.pid, p.binary))) {
    throw new Error(`A test node is already running (owner pid ${previous.pid}, ${OWNER_FILE}); stop it with \`node test/support/cluster/cli.ts down\`.`);
  }
  const leftover = teardownNode(previous, paths, network);
  if (leftover.length > 0) throw new Error(`Could not remove what an earlier node run left behind: ${leftover.join(', ')}`);
  mark('recovery');

  for (const dir of [RUN_DIR, DATA_DIR, paths.containerdRoot, paths.cniConfDir, paths.cniIpamDir, paths.kubeletRoot, paths.podLogsDir]) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }
  const logsDir = path.join(DATA_DIR, 'logs');
  mkdirSync(logsDir, { recursive: true });
  const owner: OwnerState = {
    pid: process.pid, ipForward: readIpForward(), hadRunContainerd: existsSync('/run/containerd'), containerdSocket: paths.containerdSocket, processes: [],
  };
  writeOwner(owner);
  const running: ComponentProcess[] = [];
  const env = { ...process.env, PATH: `${binDir}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin` };
  const start = (name: string, bin: string, args: string[]): ComponentProcess => {
    const proc = startProcess({ name, binary: bin, args, logPath: path.join(logsDir, `${name}.log`), env });
    running.push(proc);
    owner.processes.push({ name, pid: proc.pid, binary: bin });
    writeOwner(owner);
    return proc;
  };
  const waitFor = async (proc: ComponentProcess, check: () => Promise<string>): Promise<void> => {
    const failure = await waitUntilReady(check, proc.exited, timeoutMs);
    if (!failure) return;
    throw new NodeStartError(proc.name, failure.kind === 'exited' ? `it exited with code ${String(failure.code)}`
      : `not ready within ${Math.round(timeoutMs / 1000)} s (last check: ${failure.last.slice(0, 400)})`, proc.logPath);
  };

  // If this process ends without stop() (a crash, a CI timeout's SIGTERM), take the node along.
  const onExit = (): void => {
    teardownNode(owner, paths, network);
  };
  process.on('exit', onExit);
  let stopped = false;
  const ctr = new Ctr(bins.ctr, paths.containerdSocket);

  const stopAll = async (graceful: boolean, tls?: TlsMaterial, server?: string): Promise<void> => {
    // Controllers first, so that nothing recreates the pods deleted next; then the node's own processes.
    const stopNamed = async (name: string): Promise<void> => {
      const proc = running.find((p) => p.name === name);
      if (proc) await stopPid(proc.pid, proc.binary, 10_000);
    };
    await stopNamed('kube-controller-manager');
    await stopNamed('kube-scheduler');
    if (graceful && tls && server) await deleteAllPods(server, tls, ctr, logger);
    for (const name of ['kube-proxy', 'kubelet']) {
      await stopNamed(name);
    }
    if (running.some((p) => p.name === 'containerd' && isRunning(p.pid, p.binary))) ctr.removeAllContainersSync();
    for (const proc of running.toReversed()) await stopPid(proc.pid, proc.binary, 10_000);
    const left = teardownNode(owner, paths, network);
    process.off('exit', onExit);
    if (left.length > 0) throw new Error(`Teardown left behind: ${left.join(', ')}`);
  };

  try {
    createNodeBridge(network);
    const [etcdPort, etcdPeerPort, apiPort, kcmPort, schedulerPort, kubeletPort, kubeletHealthzPort, proxyHealthzPort, proxyMetricsPort] =
      (await freeLoopbackPorts(9)) as [number, number, number, number, number, number, number, number, number];
    const server = `https://${network.nodeIP}:${apiPort}`;
    const pki = await createClusterPki(DATA_DIR, server, network);
    const tls: TlsMaterial = {
      ca: await readFile(pki.ca.certPath),
      cert: await readFile(path.join(DATA_DIR, 'pki', 'admin.crt')),
      key: await readFile(path.join(DATA_DIR, 'pki', 'admin.key')),
    };
    mark('network+pki');

    // etcd, kube-apiserver
    const etcdUrl = `http://127.0.0.1:${etcdPort}`;
    const etcd = start('etcd', bins.etcd, etcdArgs(path.join(DATA_DIR, 'etcd'), etcdPort, etcdPeerPort));
    await waitFor(etcd, async () => {
      const r = await probe(`${etcdUrl}/health`);
      return r.status === 200 ? '' : `GET /health: ${r.status} ${r.body}`;
    });
    const apiserver = start('kube-apiserver', bins.apiserver, clusterApiserverArgs({
      etcdUrl, port: apiPort, certDir: path.join(DATA_DIR, 'pki', 'apiserver-generated'), serving: pki.apiserverServing,
      caCertPath: pki.ca.certPath, serviceAccountPublicKey: pki.serviceAccount.publicKeyPath,
      serviceAccountPrivateKey: pki.serviceAccount.privateKeyPath, network,
      kubeletClientCert: pki.apiserverKubeletClient.certPath, kubeletClientKey: pki.apiserverKubeletClient.keyPath,
    }));
    // containerd starts meanwhile: it does not need the API server.
    writeFileSync(path.join(RUN_DIR, 'containerd.toml'), containerdConfig(paths, archiveRepoTags(bins.pauseImage)[0] ?? ''));
    const containerd = start('containerd', bins.containerd, ['--config', path.join(RUN_DIR, 'containerd.toml')]);
    await waitFor(apiserver, async () => {
      const health = await probe(`${server}/healthz`, tls);
      if (health.status !== 200) return `GET /healthz: ${health.status} ${health.body}`;
      const ns = await probe(`${server}/api/v1/namespaces/default`, tls);
      return ns.status === 200 ? '' : `GET namespace default: ${ns.status}`;
    });
    mark('etcd+apiserver');

    const kcm = start('kube-controller-manager', bins.controllerManager, clusterControllerManagerArgs({
      kubeconfigPath: pki.kubeconfigs.controllerManager, port: kcmPort, serving: pki.controllerManagerServing,
      caCertPath: pki.ca.certPath, serviceAccountPrivateKey: pki.serviceAccount.privateKeyPath,
      certDir: path.join(DATA_DIR, 'pki', 'controller-manager-generated'),
    }));
    writeFileSync(path.join(DATA_DIR, 'scheduler.yaml'), schedulerConfig(pki.kubeconfigs.scheduler));
    const scheduler = start('kube-scheduler', bins.scheduler, schedulerArgs({
      config: path.join(DATA_DIR, 'scheduler.yaml'), kubeconfig: pki.kubeconfigs.scheduler, port: schedulerPort,
      certFile: pki.schedulerServing.certPath, keyFile: pki.schedulerServing.keyPath,
    }));

    await waitFor(containerd, async () => {
      try {
        await ctr.run(['version'], 5_000);
        return '';
      } catch (error) {
        return (error as Error).message;
      }
    });
    // Metadata a killed earlier run left in containerd's persistent root.
    ctr.removeAllContainersSync();
    mark('containerd');
    await loadImages(ctr, bins.pauseImage, options.images ?? [], options.imageTags ?? [], logger);
    mark('images');

    writeFileSync(path.join(paths.cniConfDir, '10-composer-mcp.conflist'), cniConfList(network, paths.cniIpamDir));
    writeFileSync(path.join(DATA_DIR, 'kubelet.yaml'), kubeletConfig({
      network, paths, port: kubeletPort, healthzPort: kubeletHealthzPort, clientCAFile: pki.ca.certPath,
      tlsCertFile: pki.kubeletServing.certPath, tlsPrivateKeyFile: pki.kubeletServing.keyPath,
    }));
    mkdirSync(path.join(paths.kubeletRoot, 'seccomp'), { recursive: true });
    createCgroups(CGROUP_ROOT);
    const kubelet = start('kubelet', bins.kubelet, kubeletArgs({
      config: path.join(DATA_DIR, 'kubelet.yaml'), kubeconfig: pki.kubeconfigs.kubelet, rootDir: paths.kubeletRoot,
      certDir: path.join(DATA_DIR, 'pki', 'kubelet-generated'), network,
    }));
    writeFileSync(path.join(DATA_DIR, 'kube-proxy.yaml'), kubeProxyConfig({
      network, kubeconfig: pki.kubeconfigs.kubeProxy, healthzPort: proxyHealthzPort, metricsPort: proxyMetricsPort,
    }));
    const kubeProxy = start('kube-proxy', bins.kubeProxy, kubeProxyArgs(path.join(DATA_DIR, 'kube-proxy.yaml')));

    await waitFor(kcm, async () => {
      const r = await probe(`https://127.0.0.1:${kcmPort}/healthz`, { ca: tls.ca });
      return r.status === 200 ? '' : `GET /healthz: ${r.status} ${r.body}`;
    });
    await waitFor(scheduler, async () => {
      const r = await probe(`https://127.0.0.1:${schedulerPort}/healthz`, { ca: tls.ca });
      return r.status === 200 ? '' : `GET /healthz: ${r.status} ${r.body}`;
    });
    await waitFor(kubelet, async () => {
      const r = await probe(`${server}/api/v1/nodes/${NODE_NAME}`, tls);
      if (r.status !== 200) return `GET node: ${r.status}`;
      const node = JSON.parse(r.body) as { status?: { conditions?: Array<{ type: string; status: string; message?: string }> } };
      const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
      return ready?.status === 'True' ? '' : `node Ready=${ready?.status ?? '?'}: ${ready?.message ?? ''}`;
    });
    mark('kubelet');
    // The `kubernetes` Service answers through kube-proxy's rules, from the host as from a pod.
    await waitFor(kubeProxy, async () => {
      const r = await probe(`https://${network.kubernetesServiceIP}:443/healthz`, tls, 2_000);
      return r.status === 200 ? '' : `GET https://${network.kubernetesServiceIP}/healthz: ${r.status} ${r.body}`;
    });
    mark('kube-proxy');
    timings['total'] = Date.now() - started;
    logger?.info('Started test node', { server, node: NODE_NAME, nodeIP: network.nodeIP, timings });

    return {
      server,
      kubeconfigPath: pki.kubeconfigs.admin,
      caCertPath: pki.ca.certPath,
      network,
      nodeName: NODE_NAME,
      kubeletRootDir: paths.kubeletRoot,
      ctr,
      timings,
      logsDir,
      processes: () => [...running],
      async tagImages(tag: string): Promise<void> {
        for (const image of options.images ?? []) await ctr.tag(image.ref, `${LOCAL_REGISTRY}/${image.name}:${tag}`);
      },
      async stop(): Promise<void> {
        if (stopped) return;
        stopped = true;
        const begin = Date.now();
        await stopAll(true, tls, server);
        logger?.info('Stopped test node', { ms: Date.now() - begin });
      },
    };
  } catch (error) {
    stopped = true;
    await stopAll(false).catch((teardownError: unknown) => logger?.error('Teardown after a failed start failed', { error: String(teardownError) }));
    throw error;
  }
}

/** Loads the pause image and the built images into containerd unless present, tags them, drops stale ones. */
async function loadImages(ctr: Ctr, pauseArchive: string, images: BuiltImage[], tags: string[], logger?: Logger): Promise<void> {
  const present = await ctr.imageNames();
  const pauseRef = archiveRepoTags(pauseArchive)[0] ?? '';
  if (!present.has(pauseRef)) await ctr.importArchive(pauseArchive);
  for (const image of images) {
    if (present.has(image.ref)) continue;
    const begin = Date.now();
    await ctr.importArchive(image.archive);
    logger?.info('Imported image into containerd', { image: image.ref, mb: Math.round(image.size / 1e6), ms: Date.now() - begin });
  }
  const keep = new Set([pauseRef, ...images.map((i) => i.ref), ...images.map((i) => i.id)]);
  for (const image of images) for (const tag of tags) {
    const ref = `${LOCAL_REGISTRY}/${image.name}:${tag}`;
    await ctr.tag(image.ref, ref);
    keep.add(ref);
  }
  // Images of earlier inputs: their content is garbage-collected once no name points at it.
  const stale = [...await ctr.imageNames()].filter((ref) => !keep.has(ref) && !images.some((i) => ref.includes(i.id)));
  if (stale.length > 0) await ctr.removeImages(stale);
}

/**
 * Deletes every pod at once (grace period 0) and waits until the kubelet has stopped their containers, so that
 * stopping the kubelet leaves nothing running. Bounded: whatever is left is killed by the teardown.
 */
async function deleteAllPods(server: string, tls: TlsMaterial, ctr: Ctr, logger?: Logger): Promise<void> {
  const { request } = await import('node:https');
  const namespaces = await probe(`${server}/api/v1/namespaces`, tls);
  const names = namespaces.status === 200 ? (JSON.parse(namespaces.body) as { items: Array<{ metadata: { name: string } }> }).items.map((n) => n.metadata.name) : [];
  await Promise.all(names.map((ns) => new Promise<void>((resolve) => {
    const req = request(`${server}/api/v1/namespaces/${ns}/pods?gracePeriodSeconds=0`, { method: 'DELETE', ...tls, agent: false, timeout: 10_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve());
    });
    req.on('error', () => resolve());
    req.on('timeout', () => req.destroy());
    req.end();
  })));
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const tasks = ctr.runSync(['tasks', 'list', '--quiet']).split('\n').filter(Boolean);
    if (tasks.length === 0) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  logger?.warn('Pods still had running containers 30 s after their deletion; the teardown kills them');
}
