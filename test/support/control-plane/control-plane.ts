import { rmSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from '#common/logger.ts';
import { resolveBinary } from './binaries.ts';
import {
  createCertificateAuthority,
  createServiceAccountKeyPair,
  issueCertificate,
  type CertificateFiles,
} from './certificates.ts';
import { freeLoopbackPorts } from './free-port.ts';
import { writeKubeconfig } from './kubeconfig.ts';
import { killNow, startProcess, stopPid, tailFile, type ComponentProcess } from './processes.ts';
import { probe, waitUntilReady, type TlsMaterial } from './readiness.ts';

/** How to start a test control plane. */
export interface ControlPlaneOptions {
  /** Directory the control plane owns (certificates, etcd data, logs, kubeconfigs); default a new temp dir. */
  baseDir?: string;
  /** Also run kube-controller-manager (garbage collection, namespace deletion, service accounts, deployments). */
  withControllerManager?: boolean;
  /** Where progress is logged; silent when unset. */
  logger?: Logger;
  /** Start the processes in their own sessions so they outlive this Node process (for `make testenv-up`). */
  detached?: boolean;
  /** How long each component may take to become ready; default 120 s. */
  componentTimeoutMs?: number;
  /** Directory holding the binaries; default `${COMPOSER_MCP_TOOLS:-<repo>/.tools}/bin`. */
  binDir?: string;
}

/** A running etcd + kube-apiserver (+ optional kube-controller-manager) on loopback ports. */
export interface ControlPlane {
  /** API server URL, `https://127.0.0.1:<port>`. */
  server: string;
  /** Kubeconfig of `admin` (group system:masters), certificates embedded. */
  kubeconfigPath: string;
  /** The directory holding everything of this control plane. */
  dir: string;
  /** PEM of the CA that signed the serving and client certificates. */
  caCertPath: string;
  /** etcd client URL, `http://127.0.0.1:<port>`. */
  etcdUrl: string;
  /** Writes a kubeconfig for `user` (client certificate CN=user, O=each group) and returns its path. */
  kubeconfigFor(user: string, groups?: string[]): Promise<string>;
  /** Stops kube-apiserver and starts it again on the same port and storage; resolves when it is ready again. */
  restartApiserver(): Promise<void>;
  /** The running component processes (name, pid, binary, log). */
  processes(): ComponentProcess[];
  /** Stops every component by PID (SIGTERM, then SIGKILL) and removes `dir`. Safe to call twice. */
  stop(): Promise<void>;
}

/** A component failed to start: names it and carries the tail of its log. */
export class ControlPlaneStartError extends Error {
  /** The component that failed, e.g. "kube-apiserver". */
  readonly component: string;
  /** Its log file (already removed with the control plane's temp directory unless `baseDir` was given). */
  readonly logPath: string;
  /** The last lines of its log. */
  readonly logTail: string;

  constructor(component: string, reason: string, logPath: string, logTail: string) {
    super(`${component} failed to start: ${reason}. Last lines of ${logPath}:\n${logTail || '(empty log)'}`);
    this.name = 'ControlPlaneStartError';
    this.component = component;
    this.logPath = logPath;
    this.logTail = logTail;
  }
}

/**
 * The controllers run by kube-controller-manager when requested: enough for owner-reference GC, namespaces, and
 * ResourceQuota accounting (the chart caps the server's ConfigMaps with one).
 */
export const CONTROLLERS = [
  'resourcequota-controller',
  'garbage-collector-controller',
  'namespace-controller',
  'serviceaccount-controller',
  'serviceaccount-token-controller',
  'root-ca-certificate-publisher-controller',
  'clusterrole-aggregation-controller',
  'deployment-controller',
  'replicaset-controller',
];

const SERVICE_CLUSTER_IP_RANGE = '10.0.0.0/24';
const EXIT_SIGNALS: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP'];

interface Layout {
  pki: string;
  logs: string;
  etcdData: string;
  kubeconfigs: string;
}

function layoutOf(dir: string): Layout {
  return {
    pki: path.join(dir, 'pki'),
    logs: path.join(dir, 'logs'),
    etcdData: path.join(dir, 'etcd-data'),
    kubeconfigs: path.join(dir, 'kubeconfigs'),
  };
}

/** etcd flags: loopback client and peer URLs, no fsync (test data only). */
export function etcdArgs(dataDir: string, clientPort: number, peerPort: number): string[] {
  const client = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  return [
    '--name=default', `--data-dir=${dataDir}`,
    `--listen-client-urls=${client}`, `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`, `--initial-advertise-peer-urls=${peer}`, `--initial-cluster=default=${peer}`,
    '--unsafe-no-fsync', '--log-level=warn',
  ];
}

/** What kube-apiserver needs to know. */
export interface ApiserverArgsInput {
  etcdUrl: string;
  port: number;
  certDir: string;
  serving: CertificateFiles;
  caCertPath: string;
  serviceAccountPublicKey: string;
  serviceAccountPrivateKey: string;
  withControllerManager: boolean;
}

/** kube-apiserver flags: RBAC, client-certificate auth, loopback only; ServiceAccount admission only with a controller-manager. */
export function apiserverArgs(input: ApiserverArgsInput): string[] {
  const args = [
    `--etcd-servers=${input.etcdUrl}`,
    `--secure-port=${input.port}`, '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1', '--endpoint-reconciler-type=none',
    `--cert-dir=${input.certDir}`,
    `--tls-cert-file=${input.serving.certPath}`, `--tls-private-key-file=${input.serving.keyPath}`,
    `--client-ca-file=${input.caCertPath}`,
    `--service-account-issuer=https://127.0.0.1:${input.port}/`,
    `--service-account-key-file=${input.serviceAccountPublicKey}`,
    `--service-account-signing-key-file=${input.serviceAccountPrivateKey}`,
    `--service-cluster-ip-range=${SERVICE_CLUSTER_IP_RANGE}`,
    '--authorization-mode=RBAC', '--allow-privileged=true',
    // Without it, open watches (the controller-manager's, informers') hold SIGTERM for the 60 s server shutdown timeout.
    '--shutdown-watch-termination-grace-period=2s',
  ];
  if (!input.withControllerManager) args.push('--disable-admission-plugins=ServiceAccount');
  return args;
}

/** What kube-controller-manager needs to know. */
export interface ControllerManagerArgsInput {
  kubeconfigPath: string;
  port: number;
  serving: CertificateFiles;
  caCertPath: string;
  serviceAccountPrivateKey: string;
  certDir: string;
}

/** kube-controller-manager flags: the CONTROLLERS only, its own credentials, no leader election, loopback only. */
export function controllerManagerArgs(input: ControllerManagerArgsInput): string[] {
  return [
    `--kubeconfig=${input.kubeconfigPath}`,
    `--controllers=${CONTROLLERS.join(',')}`,
    '--use-service-account-credentials=false', '--leader-elect=false',
    `--bind-address=127.0.0.1`, `--secure-port=${input.port}`, `--cert-dir=${input.certDir}`,
    `--tls-cert-file=${input.serving.certPath}`, `--tls-private-key-file=${input.serving.keyPath}`,
    `--root-ca-file=${input.caCertPath}`,
    `--service-account-private-key-file=${input.serviceAccountPrivateKey}`,
    '--concurrent-namespace-syncs=5', '--namespace-sync-period=30s',
  ];
}

async function waitForComponent(
  proc: ComponentProcess,
  check: () => Promise<string>,
  timeoutMs: number,
): Promise<void> {
  const failure = await waitUntilReady(check, proc.exited, timeoutMs);
  if (!failure) return;
  const reason = failure.kind === 'exited'
    ? `it exited with code ${String(failure.code)}`
    : `it was not ready within ${Math.round(timeoutMs / 1000)} s (last check: ${failure.last.slice(0, 300)})`;
  throw new ControlPlaneStartError(proc.name, reason, proc.logPath, tailFile(proc.logPath));
}

function safeFileName(user: string): string {
  return user.replace(/[^A-Za-z0-9._-]/g, '_');
}

/**
 * Starts etcd and kube-apiserver (and kube-controller-manager when asked) on free 127.0.0.1 ports with fresh
 * certificates and RBAC on. Resolves when `/healthz` is 200 and namespace `default` exists. When a component
 * fails, everything already started is stopped and a ControlPlaneStartError names the component with its log tail.
 */
export async function startControlPlane(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const started = Date.now();
  const logger = options.logger;
  const withControllerManager = options.withControllerManager ?? false;
  const timeoutMs = options.componentTimeoutMs ?? 120_000;
  const binaries = {
    etcd: resolveBinary('etcd', options.binDir),
    apiserver: resolveBinary('kube-apiserver', options.binDir),
    controllerManager: withControllerManager ? resolveBinary('kube-controller-manager', options.binDir) : '',
  };
  const ownsTempDir = options.baseDir === undefined;
  const dir = options.baseDir === undefined
    ? await mkdtemp(path.join(os.tmpdir(), 'composer-mcp-cp-'))
    : path.resolve(options.baseDir);
  const layout = layoutOf(dir);
  await Promise.all(Object.values(layout).map((d) => mkdir(d, { recursive: true, mode: 0o700 })));

  const running: ComponentProcess[] = [];
  // If this process ends before stop() (a crash, process.exit, a CI timeout's SIGTERM), take the components along.
  const onExit = (): void => {
    killNow(running);
    if (ownsTempDir) rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    onExit();
    forgetProcessHooks();
    // Only this handler was listening: restore the default action (terminate) by raising the signal again.
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  };
  const forgetProcessHooks = (): void => {
    process.off('exit', onExit);
    for (const signal of EXIT_SIGNALS) process.off(signal, onSignal);
  };
  if (!options.detached) {
    process.on('exit', onExit);
    for (const signal of EXIT_SIGNALS) process.on(signal, onSignal);
  }
  let stopped = false;

  const stopAll = async (): Promise<void> => {
    // Reverse start order: controller-manager, apiserver, etcd.
    for (const proc of running.toReversed()) await stopPid(proc.pid, proc.binary);
    running.length = 0;
    forgetProcessHooks();
  };

  try {
    const [etcdPort, etcdPeerPort, apiPort, kcmPort] = (await freeLoopbackPorts(4)) as [number, number, number, number];
    const server = `https://127.0.0.1:${apiPort}`;
    const etcdUrl = `http://127.0.0.1:${etcdPort}`;

    const ca = await createCertificateAuthority(layout.pki, 'ca', 'composer-mcp-test-ca');
    const [serving, admin, serviceAccount] = await Promise.all([
      issueCertificate(ca, layout.pki, 'apiserver', {
        kind: 'server', commonName: 'kube-apiserver', ipAddresses: ['127.0.0.1', '10.0.0.1'],
        dnsNames: ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local'],
      }),
      issueCertificate(ca, layout.pki, 'admin', { kind: 'client', user: 'admin', groups: ['system:masters'] }),
      createServiceAccountKeyPair(layout.pki),
    ]);
    const adminTls: TlsMaterial = {
      ca: await readFile(ca.certPath), cert: await readFile(admin.certPath), key: await readFile(admin.keyPath),
    };
    const kubeconfigPath = await writeKubeconfig(path.join(dir, 'kubeconfig'), {
      server, caCertPath: ca.certPath, clientCertPath: admin.certPath, clientKeyPath: admin.keyPath, user: 'admin',
    });

    // etcd
    let phase = Date.now();
    const etcd = startProcess({
      name: 'etcd', binary: binaries.etcd, args: etcdArgs(layout.etcdData, etcdPort, etcdPeerPort),
      logPath: path.join(layout.logs, 'etcd.log'), detached: options.detached,
    });
    running.push(etcd);
    await waitForComponent(etcd, async () => {
      const result = await probe(`${etcdUrl}/health`);
      return result.status === 200 ? '' : `GET /health: ${result.status} ${result.body}`;
    }, timeoutMs);
    logger?.info('Started etcd', { pid: etcd.pid, url: etcdUrl, ms: Date.now() - phase });

    // kube-apiserver
    const apiArgs = apiserverArgs({
      etcdUrl, port: apiPort, certDir: path.join(layout.pki, 'apiserver-generated'), serving, caCertPath: ca.certPath,
      serviceAccountPublicKey: serviceAccount.publicKeyPath, serviceAccountPrivateKey: serviceAccount.privateKeyPath,
      withControllerManager,
    });
    const apiserverLog = path.join(layout.logs, 'kube-apiserver.log');
    const apiserverReady = async (): Promise<string> => {
      const health = await probe(`${server}/healthz`, adminTls);
      if (health.status !== 200) return `GET /healthz: ${health.status} ${health.body}`;
      const ns = await probe(`${server}/api/v1/namespaces/default`, adminTls);
      return ns.status === 200 ? '' : `GET namespace default: ${ns.status} ${ns.body}`;
    };
    const startApiserver = async (): Promise<ComponentProcess> => {
      const proc = startProcess({ name: 'kube-apiserver', binary: binaries.apiserver, args: apiArgs, logPath: apiserverLog, detached: options.detached });
      running.splice(1, 0, proc);
      await waitForComponent(proc, apiserverReady, timeoutMs);
      return proc;
    };
    phase = Date.now();
    let apiserver = await startApiserver();
    logger?.info('Started kube-apiserver', { pid: apiserver.pid, server, ms: Date.now() - phase });

    // kube-controller-manager
    if (withControllerManager) {
      phase = Date.now();
      const [kcmClient, kcmServing] = await Promise.all([
        issueCertificate(ca, layout.pki, 'controller-manager', {
          kind: 'client', user: 'system:kube-controller-manager', groups: ['system:masters'],
        }),
        issueCertificate(ca, layout.pki, 'controller-manager-serving', {
          kind: 'server', commonName: 'kube-controller-manager', ipAddresses: ['127.0.0.1'], dnsNames: ['localhost'],
        }),
      ]);
      const kcmKubeconfig = await writeKubeconfig(path.join(layout.kubeconfigs, 'controller-manager.kubeconfig'), {
        server, caCertPath: ca.certPath, clientCertPath: kcmClient.certPath, clientKeyPath: kcmClient.keyPath,
        user: 'system:kube-controller-manager', namespace: 'kube-system',
      });
      const kcm = startProcess({
        name: 'kube-controller-manager', binary: binaries.controllerManager,
        args: controllerManagerArgs({
          kubeconfigPath: kcmKubeconfig, port: kcmPort, serving: kcmServing, caCertPath: ca.certPath,
          serviceAccountPrivateKey: serviceAccount.privateKeyPath, certDir: path.join(layout.pki, 'controller-manager-generated'),
        }),
        logPath: path.join(layout.logs, 'kube-controller-manager.log'), detached: options.detached,
      });
      running.push(kcm);
      await waitForComponent(kcm, async () => {
        const result = await probe(`https://127.0.0.1:${kcmPort}/healthz`, { ca: adminTls.ca });
        return result.status === 200 ? '' : `GET /healthz: ${result.status} ${result.body}`;
      }, timeoutMs);
      logger?.info('Started kube-controller-manager', { pid: kcm.pid, ms: Date.now() - phase });
    }
    logger?.info('Started control plane', { server, dir, kubeconfigPath, withControllerManager, ms: Date.now() - started });

    let users = 0;
    return {
      server,
      kubeconfigPath,
      dir,
      caCertPath: ca.certPath,
      etcdUrl,
      async kubeconfigFor(user: string, groups: string[] = []): Promise<string> {
        const name = `user-${safeFileName(user)}-${++users}`;
        const cert = await issueCertificate(ca, path.join(layout.pki, 'users'), name, { kind: 'client', user, groups });
        return writeKubeconfig(path.join(layout.kubeconfigs, `${name}.kubeconfig`), {
          server, caCertPath: ca.certPath, clientCertPath: cert.certPath, clientKeyPath: cert.keyPath, user,
        });
      },
      async restartApiserver(): Promise<void> {
        const begin = Date.now();
        await stopPid(apiserver.pid, apiserver.binary);
        running.splice(running.indexOf(apiserver), 1);
        apiserver = await startApiserver();
        logger?.info('Restarted kube-apiserver', { pid: apiserver.pid, ms: Date.now() - begin });
      },
      processes: () => [...running],
      async stop(): Promise<void> {
        if (stopped) return;
        stopped = true;
        await stopAll();
        await rm(dir, { recursive: true, force: true });
        logger?.info('Stopped control plane', { dir });
      },
    };
  } catch (error) {
    await stopAll();
    if (ownsTempDir) await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
