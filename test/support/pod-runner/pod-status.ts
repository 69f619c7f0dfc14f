import type { V1ContainerStatus, V1PodCondition, V1PodStatus } from '@kubernetes/client-node';

/** What the runner knows about one container of a pod. */
export interface ContainerState {
  name: string;
  image: string;
  /** running: the process is alive; waiting: not started yet or backing off; terminated: exited and not restarted. */
  state: 'waiting' | 'running' | 'terminated';
  /** Reason while waiting (ContainerCreating, CrashLoopBackOff) or terminated (Completed, Error). */
  reason?: string;
  startedAt?: Date;
  finishedAt?: Date;
  exitCode?: number;
  restartCount: number;
  /** The readiness probe passes (containers without a probe are ready once running). */
  ready: boolean;
  /** The last termination, shown as lastState. */
  lastTermination?: { exitCode: number; startedAt?: Date; finishedAt: Date; reason: string };
}

/** What the runner knows about one pod. */
export interface PodState {
  podIP: string;
  hostIP: string;
  startTime: Date;
  containers: ContainerState[];
  restartPolicy: string;
  /** When each condition last changed; kept by the caller across updates. */
  transitions: Record<string, { status: string; at: Date }>;
  /**
   * The pod's `status.qosClass` as the apiserver set it at creation (copy it from the pod). The field is
   * immutable: writing any other value is refused with `field is immutable`, so podStatus only ever echoes it.
   */
  qosClass?: string;
}

/** The phase the kubelet would report: Running while any container runs or will restart; else Succeeded/Failed. */
export function podPhase(p: PodState): string {
  const cs = p.containers;
  if (cs.every((c) => c.state === 'terminated')) {
    return cs.every((c) => c.exitCode === 0) ? 'Succeeded' : 'Failed';
  }
  if (cs.some((c) => c.state === 'running') || cs.some((c) => c.restartCount > 0)) return 'Running';
  return 'Pending';
}

function condition(p: PodState, type: string, status: boolean, now: Date): V1PodCondition {
  const value = status ? 'True' : 'False';
  const prev = p.transitions[type];
  if (!prev || prev.status !== value) p.transitions[type] = { status: value, at: now };
  return { type, status: value, lastTransitionTime: p.transitions[type]!.at };
}

/**
 * The pod status the kubelet would write for `p` at `now`: phase, IPs, start time, the conditions PodScheduled,
 * Initialized, ContainersReady and Ready, and a status per container with state, lastState, ready, started and
 * restartCount. Updates `p.transitions` so lastTransitionTime only moves when a condition flips.
 * `qosClass` is the apiserver's own (`p.qosClass`), or left out when unknown so a merge patch keeps the stored one:
 * the kubelet never changes it, and the apiserver rejects any change (pods with resources are not BestEffort).
 */
export function podStatus(p: PodState, now: Date): V1PodStatus {
  const allReady = p.containers.length > 0 && p.containers.every((c) => c.state === 'running' && c.ready);
  const containerStatuses: V1ContainerStatus[] = p.containers.map((c) => {
    const s: V1ContainerStatus = {
      name: c.name,
      image: c.image,
      imageID: `pod-runner://${c.image}`,
      ready: c.state === 'running' && c.ready,
      started: c.state === 'running',
      restartCount: c.restartCount,
      state: c.state === 'running'
        ? { running: { startedAt: c.startedAt ?? now } }
        : c.state === 'waiting'
          ? { waiting: { reason: c.reason ?? 'ContainerCreating' } }
          : { terminated: { exitCode: c.exitCode ?? 0, reason: c.reason ?? 'Completed', startedAt: c.startedAt ?? now, finishedAt: c.finishedAt ?? now } },
    };
    if (c.state === 'running') s.containerID = `pod-runner://${c.name}-${c.restartCount}`;
    if (c.lastTermination) s.lastState = { terminated: { ...c.lastTermination } };
    return s;
  });
  const status: V1PodStatus = {
    phase: podPhase(p),
    hostIP: p.hostIP,
    hostIPs: [{ ip: p.hostIP }],
    podIP: p.podIP,
    podIPs: [{ ip: p.podIP }],
    startTime: p.startTime,
    conditions: [
      condition(p, 'PodScheduled', true, now),
      condition(p, 'Initialized', true, now),
      condition(p, 'ContainersReady', allReady, now),
      condition(p, 'Ready', allReady, now),
    ],
    containerStatuses,
  };
  if (p.qosClass !== undefined) status.qosClass = p.qosClass;
  return status;
}
