import { apiserverArgs, controllerManagerArgs, CONTROLLERS, type ApiserverArgsInput, type ControllerManagerArgsInput } from '../control-plane/control-plane.ts';
import { NODE_NAME, type NodeNetwork } from './node-config.ts';

/** Replaces `--name=…` flags in `args` (adding those not present) and drops the flags named in `drop`. */
export function withFlags(args: readonly string[], set: Record<string, string>, drop: readonly string[] = []): string[] {
  const name = (arg: string): string => arg.slice(2).split('=')[0] ?? '';
  const out = args.filter((a) => !(name(a) in set) && !drop.includes(name(a)));
  for (const [key, value] of Object.entries(set)) out.push(`--${key}=${value}`);
  return out;
}

/** What the cluster's API server needs beyond the control plane's. */
export interface ClusterApiserverInput extends Omit<ApiserverArgsInput, 'withControllerManager'> {
  network: NodeNetwork;
  kubeletClientCert: string;
  kubeletClientKey: string;
}

/**
 * The control plane's API server flags, turned into a node's: bound to and advertising the node address (so pods
 * reach it through the `kubernetes` Service, whose endpoints the default lease reconciler keeps), the Service
 * range of NODE_NETWORK, Node + RBAC authorization with NodeRestriction, and a verified client to the kubelet.
 */
export function clusterApiserverArgs(input: ClusterApiserverInput): string[] {
  const base = apiserverArgs({ ...input, withControllerManager: true });
  return withFlags(base, {
    'bind-address': input.network.nodeIP,
    'advertise-address': input.network.nodeIP,
    'service-cluster-ip-range': input.network.serviceCIDR,
    'service-account-issuer': `https://${input.network.nodeIP}:${input.port}`,
    'authorization-mode': 'Node,RBAC',
    'enable-admission-plugins': 'NodeRestriction',
    'kubelet-client-certificate': input.kubeletClientCert,
    'kubelet-client-key': input.kubeletClientKey,
    'kubelet-certificate-authority': input.caCertPath,
    'kubelet-preferred-address-types': 'InternalIP',
    'endpoint-reconciler-type': 'lease',
  });
}

/** The control plane's controllers plus what Services and Deployments on a real node need. */
export const CLUSTER_CONTROLLERS = [
  ...CONTROLLERS,
  'endpointslice-controller',
  'endpoints-controller',
  'pod-garbage-collector-controller',
  'disruption-controller',
  // Removes the not-ready taint a node registers with once it is Ready (no taint-eviction-controller: nothing is evicted).
  'node-lifecycle-controller',
];

/** kube-controller-manager flags: the control plane's, with CLUSTER_CONTROLLERS. */
export function clusterControllerManagerArgs(input: ControllerManagerArgsInput): string[] {
  return withFlags(controllerManagerArgs(input), { controllers: CLUSTER_CONTROLLERS.join(',') });
}

/** kube-scheduler flags: its configuration file, serving on a loopback port with a certificate of the test CA. */
export function schedulerArgs(input: { config: string; kubeconfig: string; port: number; certFile: string; keyFile: string }): string[] {
  return [
    `--config=${input.config}`,
    `--authentication-kubeconfig=${input.kubeconfig}`, `--authorization-kubeconfig=${input.kubeconfig}`,
    '--bind-address=127.0.0.1', `--secure-port=${input.port}`,
    `--tls-cert-file=${input.certFile}`, `--tls-private-key-file=${input.keyFile}`,
  ];
}

/** kubelet flags: the configuration file, the node's identity and address, its own root directory. */
export function kubeletArgs(input: { config: string; kubeconfig: string; rootDir: string; certDir: string; network: NodeNetwork }): string[] {
  return [
    `--config=${input.config}`, `--kubeconfig=${input.kubeconfig}`,
    `--root-dir=${input.rootDir}`, `--cert-dir=${input.certDir}`,
    `--hostname-override=${NODE_NAME}`, `--node-ip=${input.network.nodeIP}`,
    '--v=1',
  ];
}

/** kube-proxy flags: the configuration file only. */
export function kubeProxyArgs(config: string): string[] {
  return [`--config=${config}`, '--v=1'];
}
