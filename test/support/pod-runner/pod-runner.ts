import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CoreV1Api, KubeConfig, PatchStrategy, setHeaderOptions, type V1Container, type V1Pod, type V1Probe, type V1Secret,
} from '@kubernetes/client-node';
import type { Logger } from '#common/logger.ts';
import { createInformer, type Informer } from '#kube/runtime/informer.ts';
import { objectKey } from '#kube/runtime/indexed-cache.ts';
import { describeKubeError, isAlreadyExists, isConflict, isNotFound } from '#kube/runtime/kube-errors.ts';
import { localCommand, programFor } from './container-command.ts';
import { createPodNetwork, deletePodNetwork, type PodNetwork } from './netns.ts';
import { podStatus, type ContainerState, type PodState } from './pod-status.ts';

/** Options of {@link startPodRunner}. */
export interface PodRunnerOptions {
  kubeconfigPath: string;
  /** Node to register and bind pods to (default `pod-runner-<random>`). */
  nodeName?: string;
  /** Run no processes: pods become Ready at once with a loopback stand-in IP (127.77.x.y), for scale tests. */
  browserless?: boolean;
  logger: Logger;
  /** Pods to take (default `app.kubernetes.io/name=composer-mcp-browser`). */
  labelSelector?: string;
  /** Browserless: delay before a pod is marked Ready (default 0). */
  readyDelayMs?: number;
}

/** A running pod runner. */
export interface PodRunner {
  nodeName: string;
  /** Pods it runs now (namespace/name → IP). */
  running(): Map<string, string>;
  /** Kills one container's process group with SIGKILL, as if it crashed; false if not running. */
  killContainer(namespace: string, pod: string, container: string): boolean;
  /** Browserless only: flips a pod's readiness (a pod "dying" or recovering). */
  setReady(namespace: string, pod: string, ready: boolean): boolean;
  /** Stops every process, removes every network namespace and directory it made, deletes its Node. */
  stop(): Promise<void>;
}

const REPO_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

interface RunningContainer {
  spec: V1Container;
  state: ContainerState;
  proc?: ChildProcess;
  log?: WriteStream;
  restartTimer?: NodeJS.Timeout;
  probeTimer?: NodeJS.Timeout;
  probeOk: number;
  probeFail: number;
}

interface RunningPod {
  key: string;
  uid: string;
  pod: V1Pod;
  state: PodState;
  net?: PodNetwork;
  dir?: string;
  containers: Map<string, RunningContainer>;
  stopping: boolean;
  writing: boolean;
  dirty: boolean;
  done?: Promise<void>;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Plays the kubelet for our pods against a real API server: registers a Ready Node, binds unscheduled pods that
 * match the label selector to it, gives each pod its own network namespace and IP (10.244.0.0/16), runs its
 * chromium and gateway containers as local processes inside it, probes readiness as the kubelet would, writes
 * pod status, restarts dead containers per restartPolicy, and on deletion stops the processes within the grace
 * period, removes the namespace and finishes the delete.
 */
export async function startPodRunner(options: PodRunnerOptions): Promise<PodRunner> {
  const kc = new KubeConfig();
  kc.loadFromFile(options.kubeconfigPath);
  const core = kc.makeApiClient(CoreV1Api);
  const log = options.logger;
  const nodeName = options.nodeName ?? `pod-runner-${Math.random().toString(36).slice(2, 8)}`;
  const pods = new Map<string, RunningPod>();
  const binding = new Set<string>();
  let stopped = false;
  let fakeSlot = 0;
  const isStopped = (): boolean => stopped;

  await registerNode(core, nodeName);
  log.info('Registered pod-runner node', { node: nodeName, browserless: options.browserless ?? false });

  const informer: Informer<V1Pod> = createInformer<V1Pod>(kc, { version: 'v1', plural: 'pods' }, {
    name: 'pod-runner-pods', logger: log, labelSelector: options.labelSelector ?? 'app.kubernetes.io/name=composer-mcp-browser',
  });

  const writeStatus = async (rp: RunningPod): Promise<void> => {
    if (rp.writing) {
      rp.dirty = true;
      return;
    }
    rp.writing = true;
    try {
      do {
        rp.dirty = false;
        if (stopped && rp.stopping) break;
        rp.state.containers = [...rp.containers.values()].map((rc) => rc.state);
        const status = podStatus(rp.state, new Date());
        try {
          await core.patchNamespacedPodStatus({
            namespace: rp.pod.metadata?.namespace ?? 'default', name: rp.pod.metadata?.name ?? '',
            body: { metadata: { uid: rp.uid }, status },
          }, mergePatch);
        } catch (err) {
          if (isNotFound(err) || isConflict(err)) break;
          log.warn('Failed to write pod status', { pod: rp.key, error: describeKubeError(err) });
          rp.dirty = true;
          await sleep(200);
        }
      } while (rp.dirty && !isStopped());
    } finally {
      rp.writing = false;
    }
  };

  const bind = async (pod: V1Pod): Promise<void> => {
    const key = objectKey(pod);
    if (binding.has(key)) return;
    binding.add(key);
    try {
      await core.createNamespacedPodBinding({
        namespace: pod.metadata?.namespace ?? 'default', name: pod.metadata?.name ?? '',
        body: { apiVersion: 'v1', kind: 'Binding', metadata: { name: pod.metadata?.name ?? '', namespace: pod.metadata?.namespace ?? 'default', uid: pod.metadata?.uid ?? '' }, target: { apiVersion: 'v1', kind: 'Node', name: nodeName } },
      });
      log.debug('Bound pod', { pod: key, node: nodeName });
    } catch (err) {
      if (!isConflict(err) && !isNotFound(err)) log.warn('Failed to bind pod', { pod: key, error: describeKubeError(err) });
    } finally {
      binding.delete(key);
    }
  };

  const readSecret = async (namespace: string, name: string): Promise<V1Secret | undefined> => {
    try {
      return await core.readNamespacedSecret({ namespace, name });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  };

  const startContainerProcess = (rp: RunningPod, rc: RunningContainer): void => {
    if (rp.stopping || stopped || !rp.net || !rp.dir) return;
    const mounts = new Map<string, string>();
    for (const m of rc.spec.volumeMounts ?? []) mounts.set(m.mountPath, path.join(rp.dir, 'volumes', m.name));
    const secretData = new Map<string, string>();
    const cmd = localCommand(rc.spec, { repoDir: REPO_DIR, nodePath: process.execPath, pod: rp.pod, podIP: rp.net.podIP, mounts, secretData });
    const proc = spawn('ip', ['netns', 'exec', rp.net.netns, cmd.command, ...cmd.args], {
      cwd: REPO_DIR, env: cmd.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
    });
    rc.log ??= createWriteStream(path.join(rp.dir, `${rc.spec.name}.log`), { flags: 'a' });
    proc.stdout?.pipe(rc.log, { end: false });
    proc.stderr?.pipe(rc.log, { end: false });
    rc.proc = proc;
    rc.state = { ...rc.state, state: 'running', startedAt: new Date(), ready: !rc.spec.readinessProbe };
    delete rc.state.reason;
    rc.probeOk = 0;
    rc.probeFail = 0;
    proc.on('exit', (code, signal) => {
      if (rc.proc !== proc) return;
      rc.proc = undefined;
      const finishedAt = new Date();
      const exitCode = code ?? (signal ? 128 + (os.constants.signals[signal] ?? 9) : 1);
      const reason = exitCode === 0 ? 'Completed' : 'Error';
      rc.state = {
        ...rc.state, state: 'terminated', ready: false, exitCode, reason, finishedAt,
        lastTermination: { exitCode, reason, finishedAt, ...(rc.state.startedAt ? { startedAt: rc.state.startedAt } : {}) },
      };
      if (rp.stopping || stopped) return;
      log.info('Container exited', { pod: rp.key, container: rc.spec.name, exitCode });
      const policy = rp.pod.spec?.restartPolicy ?? 'Always';
      if (policy === 'Always' || (policy === 'OnFailure' && exitCode !== 0)) {
        const backoff = Math.min(10_000, 500 * 2 ** Math.min(rc.state.restartCount, 5));
        rc.state = { ...rc.state, state: 'waiting', reason: 'CrashLoopBackOff' };
        rc.restartTimer = setTimeout(() => {
          rc.state = { ...rc.state, restartCount: rc.state.restartCount + 1 };
          startContainerProcess(rp, rc);
          void writeStatus(rp);
        }, backoff);
      }
      void writeStatus(rp);
    });
    scheduleProbe(rp, rc, (rc.spec.readinessProbe?.initialDelaySeconds ?? 0) * 1000 + 300);
  };

  const scheduleProbe = (rp: RunningPod, rc: RunningContainer, delayMs: number): void => {
    const probe = rc.spec.readinessProbe;
    if (!probe?.httpGet || !rp.net) return;
    if (rc.probeTimer) clearTimeout(rc.probeTimer);
    rc.probeTimer = setTimeout(() => {
      void (async () => {
        await runProbe(rp, rc, probe);
        if (rc.proc && !rp.stopping && !isStopped()) scheduleProbe(rp, rc, (probe.periodSeconds ?? 10) * 1000);
      })();
    }, delayMs);
  };

  const runProbe = async (rp: RunningPod, rc: RunningContainer, probe: V1Probe): Promise<void> => {
    const get = probe.httpGet;
    if (!get || !rp.net || !rc.proc) return;
    const port = typeof get.port === 'number' ? get.port : (rc.spec.ports ?? []).find((p) => p.name === get.port)?.containerPort ?? Number(get.port);
    let ok = false;
    try {
      const res = await fetch(`http://${rp.net.podIP}:${port}${get.path ?? '/'}`, { signal: AbortSignal.timeout((probe.timeoutSeconds ?? 1) * 1000) });
      await res.body?.cancel();
      ok = res.status >= 200 && res.status < 400;
    } catch {
      ok = false;
    }
    if (!rc.proc || rp.stopping) return;
    if (ok) {
      rc.probeOk++;
      rc.probeFail = 0;
    } else {
      rc.probeFail++;
      rc.probeOk = 0;
    }
    const before = rc.state.ready;
    if (!before && rc.probeOk >= (probe.successThreshold ?? 1)) rc.state = { ...rc.state, ready: true };
    if (before && rc.probeFail >= (probe.failureThreshold ?? 3)) rc.state = { ...rc.state, ready: false };
    if (before !== rc.state.ready) {
      log.info('Readiness changed', { pod: rp.key, container: rc.spec.name, ready: rc.state.ready });
      void writeStatus(rp);
    }
  };

  const startPod = async (pod: V1Pod): Promise<void> => {
    const key = objectKey(pod);
    const namespace = pod.metadata?.namespace ?? 'default';
    const rp: RunningPod = {
      key, uid: pod.metadata?.uid ?? '', pod, containers: new Map(), stopping: false, writing: false, dirty: false,
      state: { podIP: '', hostIP: '127.0.0.1', startTime: new Date(), containers: [], restartPolicy: pod.spec?.restartPolicy ?? 'Always', transitions: {} },
    };
    pods.set(key, rp);
    const containerSpecs = pod.spec?.containers ?? [];
    for (const c of containerSpecs) {
      const state: ContainerState = { name: c.name, image: c.image ?? '', state: 'waiting', reason: 'ContainerCreating', restartCount: 0, ready: false };
      rp.containers.set(c.name, { spec: c, state, probeOk: 0, probeFail: 0 });
    }

    if (options.browserless) {
      fakeSlot++;
      rp.state.podIP = `127.77.${Math.floor(fakeSlot / 250) % 250}.${(fakeSlot % 250) + 1}`;
      const markRunning = (): void => {
        for (const rc of rp.containers.values()) rc.state = { ...rc.state, state: 'running', startedAt: new Date(), ready: true };
        void writeStatus(rp);
      };
      if (options.readyDelayMs) setTimeout(markRunning, options.readyDelayMs);
      else markRunning();
      return;
    }

    const unknown = containerSpecs.find((c) => !programFor(c));
    try {
      if (unknown) throw new Error(`container "${unknown.name}" has an image the pod runner cannot run (${unknown.image ?? '?'})`);
      rp.net = await createPodNetwork(1);
      rp.state.podIP = rp.net.podIP;
      rp.state.hostIP = rp.net.hostIP;
      rp.dir = await mkdtemp(path.join(os.tmpdir(), `pod-runner-${namespace}-${pod.metadata?.name ?? 'pod'}-`));
      for (const v of pod.spec?.volumes ?? []) {
        const dir = path.join(rp.dir, 'volumes', v.name);
        await mkdir(dir, { recursive: true });
        if (v.secret?.secretName) {
          let secret: V1Secret | undefined;
          for (let i = 0; i < 100 && !secret && !rp.stopping; i++) {
            secret = await readSecret(namespace, v.secret.secretName);
            if (!secret) await sleep(200);
          }
          if (!secret) throw new Error(`Secret ${v.secret.secretName} not found`);
          const items = v.secret.items ?? Object.keys(secret.data ?? {}).map((k) => ({ key: k, path: k }));
          for (const item of items) {
            const b64 = secret.data?.[item.key];
            if (b64 !== undefined) await writeFile(path.join(dir, item.path), Buffer.from(b64, 'base64'), { mode: 0o600 });
          }
        }
      }
      if (rp.stopping) return;
      for (const rc of rp.containers.values()) startContainerProcess(rp, rc);
      log.info('Started pod', { pod: key, podIP: rp.net.podIP, netns: rp.net.netns });
    } catch (err) {
      log.warn('Failed to start pod', { pod: key, error: (err as Error).message });
      for (const rc of rp.containers.values()) rc.state = { ...rc.state, state: 'waiting', reason: 'CreateContainerError' };
    }
    void writeStatus(rp);
  };

  const killPod = async (rp: RunningPod, graceMs: number): Promise<void> => {
    rp.stopping = true;
    const running = [...rp.containers.values()];
    for (const rc of running) {
      if (rc.restartTimer) clearTimeout(rc.restartTimer);
      if (rc.probeTimer) clearTimeout(rc.probeTimer);
    }
    const alive = running.filter((rc) => rc.proc && rc.proc.exitCode === null && rc.proc.signalCode === null);
    const exits = alive.map((rc) => new Promise<void>((resolve) => rc.proc?.once('exit', () => resolve())));
    for (const rc of alive) signalGroup(rc.proc, 'SIGTERM');
    if (alive.length > 0) {
      await Promise.race([Promise.all(exits), sleep(graceMs)]);
      for (const rc of alive) if (rc.proc) signalGroup(rc.proc, 'SIGKILL');
      await Promise.race([Promise.all(exits), sleep(2000)]);
    }
    for (const rc of running) rc.log?.end();
    if (rp.net) await deletePodNetwork(rp.net);
    if (rp.dir) await rm(rp.dir, { recursive: true, force: true }).catch(() => undefined);
  };

  const terminatePod = (rp: RunningPod, pod: V1Pod): Promise<void> => {
    rp.done ??= (async () => {
      const grace = (pod.metadata?.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30) * 1000;
      await killPod(rp, grace);
      pods.delete(rp.key);
      try {
        await core.deleteNamespacedPod({
          namespace: pod.metadata?.namespace ?? 'default', name: pod.metadata?.name ?? '', gracePeriodSeconds: 0,
          body: { gracePeriodSeconds: 0, preconditions: { uid: rp.uid } },
        });
      } catch (err) {
        if (!isNotFound(err) && !isConflict(err)) log.warn('Failed to finish pod deletion', { pod: rp.key, error: describeKubeError(err) });
      }
      log.info('Stopped pod', { pod: rp.key });
    })();
    return rp.done;
  };

  const handle = (pod: V1Pod, deleted: boolean): void => {
    if (stopped) return;
    const key = objectKey(pod);
    const rp = pods.get(key);
    if (deleted) {
      if (!rp || rp.uid !== pod.metadata?.uid) return;
      // A pod whose labels no longer match the selector leaves the watch as if deleted; a kubelet (which watches
      // its node's pods, not labels) keeps running it. Stop it only when it is really gone.
      void core.readNamespacedPod({ namespace: pod.metadata?.namespace ?? 'default', name: pod.metadata?.name ?? '' }).then(
        (live) => live.metadata?.uid !== rp.uid,
        (err: unknown) => isNotFound(err),
      ).then((gone) => (gone ? terminatePod(rp, { ...pod, metadata: { ...pod.metadata, deletionGracePeriodSeconds: 0 } }) : undefined));
      return;
    }
    if (rp && rp.uid !== pod.metadata?.uid) void terminatePod(rp, { ...rp.pod, metadata: { ...rp.pod.metadata, deletionGracePeriodSeconds: 0 } });
    const nodeOfPod = pod.spec?.nodeName;
    if (!nodeOfPod) {
      if (!pod.metadata?.deletionTimestamp) void bind(pod);
      return;
    }
    if (nodeOfPod !== nodeName) return;
    const current = pods.get(key);
    if (pod.metadata?.deletionTimestamp) {
      if (current) void terminatePod(current, pod);
      else {
        void core.deleteNamespacedPod({ namespace: pod.metadata.namespace ?? 'default', name: pod.metadata.name ?? '', gracePeriodSeconds: 0, body: { gracePeriodSeconds: 0, preconditions: { uid: pod.metadata.uid ?? '' } } }).catch(() => undefined);
      }
      return;
    }
    if (!current) void startPod(pod);
    else current.pod = pod;
  };

  informer.onEvent((e) => handle(e.object, e.type === 'delete'));
  informer.start();
  await informer.waitForSync();

  return {
    nodeName,
    running() {
      return new Map([...pods.values()].map((rp) => [rp.key, rp.state.podIP] as const));
    },
    killContainer(namespace, pod, container) {
      const rc = pods.get(`${namespace}/${pod}`)?.containers.get(container);
      if (!rc?.proc) return false;
      signalGroup(rc.proc, 'SIGKILL');
      return true;
    },
    setReady(namespace, pod, ready) {
      const rp = pods.get(`${namespace}/${pod}`);
      if (!rp || !options.browserless) return false;
      for (const rc of rp.containers.values()) rc.state = { ...rc.state, ready };
      void writeStatus(rp);
      return true;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await informer.stop();
      await Promise.all([...pods.values()].map((rp) => killPod(rp, 2000)));
      pods.clear();
      try {
        await core.deleteNode({ name: nodeName });
      } catch {
        // already gone
      }
      log.info('Stopped pod runner', { node: nodeName });
    },
  };
}

function signalGroup(proc: ChildProcess | undefined, signal: NodeJS.Signals): void {
  if (!proc?.pid) return;
  try {
    process.kill(-proc.pid, signal);
  } catch {
    try {
      proc.kill(signal);
    } catch {
      // gone
    }
  }
}

async function registerNode(core: CoreV1Api, name: string): Promise<void> {
  try {
    await core.createNode({ body: { apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', 'node.composer-mcp.io/pod-runner': 'true' } } } });
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
  }
  const now = new Date();
  await core.patchNodeStatus({
    name,
    body: {
      status: {
        conditions: [
          { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'pod runner is ready', lastHeartbeatTime: now, lastTransitionTime: now },
          { type: 'MemoryPressure', status: 'False', reason: 'KubeletHasSufficientMemory', message: 'ok', lastHeartbeatTime: now, lastTransitionTime: now },
          { type: 'DiskPressure', status: 'False', reason: 'KubeletHasNoDiskPressure', message: 'ok', lastHeartbeatTime: now, lastTransitionTime: now },
          { type: 'PIDPressure', status: 'False', reason: 'KubeletHasSufficientPID', message: 'ok', lastHeartbeatTime: now, lastTransitionTime: now },
        ],
        addresses: [{ type: 'InternalIP', address: '127.0.0.1' }, { type: 'Hostname', address: name }],
        capacity: { cpu: '64', memory: '256Gi', pods: '5000' },
        allocatable: { cpu: '64', memory: '256Gi', pods: '5000' },
        nodeInfo: {
          architecture: 'amd64', bootID: '', containerRuntimeVersion: 'pod-runner://1', kernelVersion: os.release(),
          kubeProxyVersion: '', kubeletVersion: 'v1.36.3', machineID: '', operatingSystem: 'linux', osImage: 'pod-runner', systemUUID: '',
        },
      },
    },
  }, mergePatch);
}
