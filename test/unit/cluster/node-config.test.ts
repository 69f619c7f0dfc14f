import { expect } from 'chai';
import { parse } from 'yaml';
import { withFlags } from '#support/cluster/component-args.ts';
import { CGROUP_ROOT, NODE_NETWORK, cniConfList, containerdConfig, kubeletConfig, kubeProxyConfig, type NodePaths } from '#support/cluster/node-config.ts';

const paths: NodePaths = {
  containerdRoot: '/cache/node/containerd', containerdState: '/run/n/containerd', containerdSocket: '/run/n/containerd/containerd.sock',
  runcRoot: '/run/n/runc', cniConfDir: '/run/n/cni/net.d', cniBinDir: '/usr/lib/cni', cniIpamDir: '/run/n/cni/ipam',
  kubeletRoot: '/var/lib/n/kubelet', podLogsDir: '/var/lib/n/pod-logs', volumePluginDir: '/var/lib/n/volume-plugins',
};

describe('test node configuration (what this kind of machine requires, real-node.md)', () => {
  it('containerd: restricted oom_score_adj, netns files under its own state, runc with cgroupfs, its own socket and CNI dirs, the pinned pause image', () => {
    const toml = containerdConfig(paths, 'composer-mcp.local/pause:v1');
    for (const line of ['version = 3', 'restrict_oom_score_adj = true', 'netns_mounts_under_state_dir = true', 'SystemdCgroup = false',
      `address = "${paths.containerdSocket}"`, `bin_dirs = ["/usr/lib/cni"]`, `conf_dir = "${paths.cniConfDir}"`, `sandbox = "composer-mcp.local/pause:v1"`,
      `Root = "${paths.runcRoot}"`, `root = "${paths.containerdRoot}"`]) {
      expect(toml).to.include(line);
    }
    expect(toml, 'no path of the machine-wide containerd').to.not.match(/"\/run\/containerd|"\/var\/lib\/containerd|\/etc\/cni/);
  });

  it('CNI: the node bridge with the node address as gateway, IPAM in the node directory, no masquerade rules', () => {
    const conf = JSON.parse(cniConfList(NODE_NETWORK, paths.cniIpamDir)) as { plugins: Array<Record<string, unknown>> };
    const bridge = conf.plugins[0] as { bridge: string; ipMasq: boolean; ipam: { ranges: Array<Array<{ gateway: string }>>; dataDir: string } };
    expect(bridge.bridge).to.equal(NODE_NETWORK.bridge);
    expect(bridge.ipMasq).to.equal(false);
    expect(bridge.ipam.ranges[0]?.[0]?.gateway).to.equal(NODE_NETWORK.nodeIP);
    expect(bridge.ipam.dataDir).to.equal(paths.cniIpamDir);
  });

  it('kubelet: hybrid cgroups allowed, cgroupfs below its own root, no iptables chains, no eviction or image GC of the shared machine', () => {
    const config = parse(kubeletConfig({ network: NODE_NETWORK, paths, port: 1, healthzPort: 2, clientCAFile: 'ca', tlsCertFile: 'c', tlsPrivateKeyFile: 'k' })) as Record<string, unknown>;
    expect(config).to.include({ failCgroupV1: false, cgroupDriver: 'cgroupfs', cgroupRoot: CGROUP_ROOT, failSwapOn: false, makeIPTablesUtilChains: false, address: NODE_NETWORK.nodeIP, imageGCHighThresholdPercent: 100 });
    expect(Object.values(config['evictionHard'] as Record<string, string>)).to.deep.equal(['0%', '0%', '0%', '0%', '0%']);
    expect(config['containerRuntimeEndpoint']).to.equal(`unix://${paths.containerdSocket}`);
    expect((config['authentication'] as { anonymous: { enabled: boolean } }).anonymous.enabled).to.equal(false);
  });

  it('kube-proxy: nftables mode (its own tables), NodePorts on the node address only, no conntrack sysctl touched', () => {
    const config = parse(kubeProxyConfig({ network: NODE_NETWORK, kubeconfig: 'kc', healthzPort: 1, metricsPort: 2 })) as Record<string, unknown>;
    expect(config['mode']).to.equal('nftables');
    expect(config['nodePortAddresses']).to.deep.equal([`${NODE_NETWORK.nodeIP}/32`]);
    const conntrack = config['conntrack'] as Record<string, unknown>;
    expect([conntrack['maxPerCore'], conntrack['min'], conntrack['tcpEstablishedTimeout'], conntrack['tcpCloseWaitTimeout']]).to.deep.equal([0, 0, '0s', '0s']);
  });

  it("the node address is not loopback and not the machine's: a private range of its own", () => {
    expect(NODE_NETWORK.nodeIP).to.match(/^10\.203\./);
    expect(NODE_NETWORK.podSubnet.startsWith('10.244.'), 'the pod runner owns 10.244.0.0/16').to.equal(false);
  });

  it('withFlags replaces, adds and drops --name=value flags', () => {
    expect(withFlags(['--a=1', '--b=2', '--c=3'], { b: '20', d: '4' }, ['c'])).to.deep.equal(['--a=1', '--b=20', '--d=4']);
  });
});
