import { stringify } from 'yaml';

/**
 * The addresses and names the test node owns. Nothing here is the machine's own: the setup creates the CNI bridge
 * itself, with the pods' gateway address, and that address is the node's InternalIP and the API server's bind and
 * advertise address (this kernel has no dummy interfaces; the bridge plugin accepts a bridge that already holds
 * exactly its gateway address). Service ClusterIPs come from a range nothing else on the machine uses (the pod
 * runner has 10.244.0.0/16).
 */
export interface NodeNetwork {
  /** CNI bridge the pods' veths attach to; created by the setup with `nodeIP`/prefix of `podSubnet`. */
  bridge: string;
  /** Pod addresses (host-local IPAM). */
  podSubnet: string;
  /** The bridge's address: the pods' gateway, the node's InternalIP, the API server's address. */
  nodeIP: string;
  /** Service ClusterIPs (routed through the bridge so the host's own connections leave from nodeIP). */
  serviceCIDR: string;
  /** The first Service address: the `kubernetes` Service. */
  kubernetesServiceIP: string;
  /** The kube-proxy nftables tables, removed on teardown. */
  nftTables: ReadonlyArray<{ family: 'ip' | 'ip6'; name: string }>;
}

export const NODE_NETWORK: NodeNetwork = {
  bridge: 'cmcp-br0',
  podSubnet: '10.203.0.0/24',
  nodeIP: '10.203.0.1',
  serviceCIDR: '10.203.128.0/24',
  kubernetesServiceIP: '10.203.128.1',
  nftTables: [{ family: 'ip', name: 'kube-proxy' }, { family: 'ip6', name: 'kube-proxy' }],
};

/** The node's name in the API. */
export const NODE_NAME = 'composer-mcp-node';
/** Cgroup (below each controller's root) that holds every pod of the node: removed on teardown. */
export const CGROUP_ROOT = '/composer-mcp-node';

/** Where the node keeps its files. */
export interface NodePaths {
  /** containerd's persistent root (images, snapshots): kept between runs under the cache. */
  containerdRoot: string;
  /** containerd's state (sockets, netns mounts, shim state): removed on teardown. */
  containerdState: string;
  containerdSocket: string;
  runcRoot: string;
  cniConfDir: string;
  cniBinDir: string;
  cniIpamDir: string;
  kubeletRoot: string;
  podLogsDir: string;
  volumePluginDir: string;
}

/** containerd 2.x configuration (version 3) with the settings this kind of machine needs (docs: real-node.md). */
export function containerdConfig(paths: NodePaths, sandboxImage: string): string {
  return [
    'version = 3',
    `root = ${toml(paths.containerdRoot)}`,
    `state = ${toml(paths.containerdState)}`,
    // NRI would open /var/run/nri; tracing and the debug/metrics listeners are not needed.
    `disabled_plugins = ["io.containerd.nri.v1.nri"]`,
    '',
    '[grpc]',
    `  address = ${toml(paths.containerdSocket)}`,
    '[ttrpc]',
    `  address = ${toml(`${paths.containerdSocket}.ttrpc`)}`,
    '[debug]',
    `  address = ""`,
    '  level = "warn"',
    '[metrics]',
    `  address = ""`,
    '',
    "[plugins.'io.containerd.internal.v1.opt']",
    `  path = ${toml(`${paths.containerdRoot}/opt`)}`,
    "[plugins.'io.containerd.cri.v1.images']",
    "  snapshotter = 'overlayfs'",
    "[plugins.'io.containerd.cri.v1.images'.pinned_images]",
    `  sandbox = ${toml(sandboxImage)}`,
    "[plugins.'io.containerd.cri.v1.runtime']",
    // runc cannot write oom_score_adj below the parent's without CAP_SYS_RESOURCE, which this machine lacks.
    '  restrict_oom_score_adj = true',
    // Pod netns files under the state dir, not /run/netns (shared with every `ip netns` user on the machine).
    '  netns_mounts_under_state_dir = true',
    "[plugins.'io.containerd.cri.v1.runtime'.containerd]",
    "  default_runtime_name = 'runc'",
    "[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]",
    "  runtime_type = 'io.containerd.runc.v2'",
    "[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]",
    "  BinaryName = '/usr/sbin/runc'",
    `  Root = ${toml(paths.runcRoot)}`,
    '  SystemdCgroup = false',
    "[plugins.'io.containerd.cri.v1.runtime'.cni]",
    `  bin_dirs = [${toml(paths.cniBinDir)}]`,
    `  conf_dir = ${toml(paths.cniConfDir)}`,
    '  max_conf_num = 1',
    "[plugins.'io.containerd.grpc.v1.cri']",
    "  stream_server_address = '127.0.0.1'",
    "  stream_server_port = '0'",
    '',
  ].join('\n');
}

function toml(value: string): string {
  return JSON.stringify(value);
}

/** The CNI network: the node's bridge (its address is the pods' gateway), host-local IPAM in the node's own directory, no masquerade. */
export function cniConfList(network: NodeNetwork, ipamDataDir: string): string {
  return `${JSON.stringify({
    cniVersion: '1.0.0',
    name: 'composer-mcp',
    plugins: [
      {
        type: 'bridge',
        bridge: network.bridge,
        isGateway: true,
        // Pods reach only the node's own addresses; nothing leaves the machine, so no SNAT rules are written.
        ipMasq: false,
        hairpinMode: true,
        ipam: {
          type: 'host-local',
          ranges: [[{ subnet: network.podSubnet, gateway: network.nodeIP }]],
          routes: [{ dst: '0.0.0.0/0' }],
          dataDir: ipamDataDir,
        },
      },
      { type: 'loopback' },
    ],
  }, null, 2)}\n`;
}

/** What the kubelet's configuration depends on. */
export interface KubeletConfigInput {
  network: NodeNetwork;
  paths: NodePaths;
  port: number;
  healthzPort: number;
  clientCAFile: string;
  tlsCertFile: string;
  tlsPrivateKeyFile: string;
}

/**
 * KubeletConfiguration for this machine: cgroup v1 (hybrid) allowed, cgroupfs below CGROUP_ROOT, swap tolerated,
 * no iptables chains of its own, x509 + webhook auth, no eviction or image GC that could remove the test's
 * images or pods because of the shared machine's disk or memory.
 */
export function kubeletConfig(input: KubeletConfigInput): string {
  return stringify({
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    failCgroupV1: false,
    cgroupDriver: 'cgroupfs',
    cgroupRoot: CGROUP_ROOT,
    cgroupsPerQOS: true,
    enforceNodeAllocatable: ['pods'],
    failSwapOn: false,
    makeIPTablesUtilChains: false,
    containerRuntimeEndpoint: `unix://${input.paths.containerdSocket}`,
    address: input.network.nodeIP,
    port: input.port,
    readOnlyPort: 0,
    healthzBindAddress: '127.0.0.1',
    healthzPort: input.healthzPort,
    authentication: {
      anonymous: { enabled: false },
      webhook: { enabled: true },
      x509: { clientCAFile: input.clientCAFile },
    },
    authorization: { mode: 'Webhook' },
    tlsCertFile: input.tlsCertFile,
    tlsPrivateKeyFile: input.tlsPrivateKeyFile,
    serverTLSBootstrap: false,
    rotateCertificates: false,
    clusterDomain: 'cluster.local',
    resolvConf: '/etc/resolv.conf',
    podLogsDir: input.paths.podLogsDir,
    volumePluginDir: input.paths.volumePluginDir,
    evictionHard: { 'memory.available': '0%', 'nodefs.available': '0%', 'nodefs.inodesFree': '0%', 'imagefs.available': '0%', 'imagefs.inodesFree': '0%' },
    evictionPressureTransitionPeriod: '1s',
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    imageMinimumGCAge: '24h',
    serializeImagePulls: false,
    maxPods: 110,
    podPidsLimit: -1,
    protectKernelDefaults: false,
    shutdownGracePeriod: '0s',
    shutdownGracePeriodCriticalPods: '0s',
    // Status reaches the API server quickly: the tests count events, not seconds.
    nodeStatusUpdateFrequency: '4s',
    syncFrequency: '10s',
    fileCheckFrequency: '10s',
    containerLogMaxSize: '10Mi',
    containerLogMaxFiles: 2,
  });
}

/** What kube-proxy's configuration depends on. */
export interface KubeProxyConfigInput {
  network: NodeNetwork;
  kubeconfig: string;
  healthzPort: number;
  metricsPort: number;
}

/**
 * KubeProxyConfiguration in nftables mode: every rule lives in kube-proxy's own `kube-proxy` tables (removed on
 * teardown), NodePorts only on the node address, and no machine-wide conntrack sysctl is touched (all 0 = leave).
 */
export function kubeProxyConfig(input: KubeProxyConfigInput): string {
  return stringify({
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    mode: 'nftables',
    clientConnection: { kubeconfig: input.kubeconfig },
    hostnameOverride: NODE_NAME,
    bindAddress: input.network.nodeIP,
    healthzBindAddress: `127.0.0.1:${input.healthzPort}`,
    metricsBindAddress: `127.0.0.1:${input.metricsPort}`,
    clusterCIDR: input.network.podSubnet,
    nodePortAddresses: [`${input.network.nodeIP}/32`],
    oomScoreAdj: 0,
    conntrack: {
      maxPerCore: 0, min: 0,
      tcpEstablishedTimeout: '0s', tcpCloseWaitTimeout: '0s', tcpBeLiberal: false,
      udpTimeout: '0s', udpStreamTimeout: '0s',
    },
    nftables: { syncPeriod: '30s', minSyncPeriod: '0s', masqueradeAll: false },
  });
}

/** KubeSchedulerConfiguration: one scheduler, no leader election. */
export function schedulerConfig(kubeconfig: string): string {
  return stringify({
    apiVersion: 'kubescheduler.config.k8s.io/v1',
    kind: 'KubeSchedulerConfiguration',
    clientConnection: { kubeconfig },
    leaderElection: { leaderElect: false },
  });
}
