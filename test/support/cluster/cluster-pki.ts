import path from 'node:path';
import {
  createCertificateAuthority, createServiceAccountKeyPair, issueCertificate, type CertificateFiles,
} from '../control-plane/certificates.ts';
import { writeKubeconfig } from '../control-plane/kubeconfig.ts';
import { NODE_NAME, type NodeNetwork } from './node-config.ts';

/** Every certificate and kubeconfig of the test cluster. */
export interface ClusterPki {
  ca: CertificateFiles;
  apiserverServing: CertificateFiles;
  /** The API server's identity towards the kubelet (logs, exec, port-forward). */
  apiserverKubeletClient: CertificateFiles;
  kubeletServing: CertificateFiles;
  schedulerServing: CertificateFiles;
  controllerManagerServing: CertificateFiles;
  serviceAccount: { privateKeyPath: string; publicKeyPath: string };
  kubeconfigs: {
    admin: string;
    kubelet: string;
    scheduler: string;
    controllerManager: string;
    kubeProxy: string;
  };
}

/**
 * Creates a CA and every identity the cluster needs: the kubelet as `system:node:<node>` in `system:nodes` (the
 * Node authorizer and NodeRestriction apply to it), the scheduler and kube-proxy as the users their built-in
 * ClusterRoleBindings name, the controller-manager and admin as system:masters.
 */
export async function createClusterPki(dir: string, server: string, network: NodeNetwork): Promise<ClusterPki> {
  const pki = path.join(dir, 'pki');
  const ca = await createCertificateAuthority(pki, 'ca', 'composer-mcp-node-ca');
  const loopbackServer = (name: string, commonName: string): Promise<CertificateFiles> =>
    issueCertificate(ca, pki, name, { kind: 'server', commonName, ipAddresses: ['127.0.0.1'], dnsNames: ['localhost'] });
  const client = (name: string, user: string, groups: string[] = []): Promise<CertificateFiles> =>
    issueCertificate(ca, pki, name, { kind: 'client', user, groups });
  const [apiserverServing, apiserverKubeletClient, kubeletServing, schedulerServing, controllerManagerServing, serviceAccount,
    admin, kubelet, scheduler, controllerManager, kubeProxy] = await Promise.all([
    issueCertificate(ca, pki, 'apiserver', {
      kind: 'server', commonName: 'kube-apiserver',
      ipAddresses: [network.nodeIP, network.kubernetesServiceIP, '127.0.0.1'],
      dnsNames: ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local'],
    }),
    client('apiserver-kubelet-client', 'kube-apiserver-kubelet-client', ['system:masters']),
    issueCertificate(ca, pki, 'kubelet-serving', { kind: 'server', commonName: NODE_NAME, ipAddresses: [network.nodeIP], dnsNames: [NODE_NAME] }),
    loopbackServer('scheduler-serving', 'kube-scheduler'),
    loopbackServer('controller-manager-serving', 'kube-controller-manager'),
    createServiceAccountKeyPair(pki),
    client('admin', 'admin', ['system:masters']),
    client('kubelet', `system:node:${NODE_NAME}`, ['system:nodes']),
    client('scheduler', 'system:kube-scheduler'),
    client('controller-manager', 'system:kube-controller-manager', ['system:masters']),
    client('kube-proxy', 'system:kube-proxy'),
  ]);
  const kubeconfig = (name: string, user: string, cert: CertificateFiles): Promise<string> =>
    writeKubeconfig(path.join(dir, `${name}.kubeconfig`), {
      server, caCertPath: ca.certPath, clientCertPath: cert.certPath, clientKeyPath: cert.keyPath, user,
    });
  return {
    ca, apiserverServing, apiserverKubeletClient, kubeletServing, schedulerServing, controllerManagerServing, serviceAccount,
    kubeconfigs: {
      admin: await kubeconfig('admin', 'admin', admin),
      kubelet: await kubeconfig('kubelet', `system:node:${NODE_NAME}`, kubelet),
      scheduler: await kubeconfig('scheduler', 'system:kube-scheduler', scheduler),
      controllerManager: await kubeconfig('controller-manager', 'system:kube-controller-manager', controllerManager),
      kubeProxy: await kubeconfig('kube-proxy', 'system:kube-proxy', kubeProxy),
    },
  };
}
