import type { KubeConfig, V1Pod } from '@kubernetes/client-node';
import type { Logger } from '#common/logger.ts';
import { BROWSERPOOL_GROUP, BROWSERPOOL_PLURAL, BROWSERPOOL_VERSION, type BrowserPool } from '#kube/api/v1alpha1/browserpool.ts';
import { ANNOTATION_DRAINING_SINCE, LABEL_POOL } from '#kube/api/v1alpha1/contract.ts';
import { createInformer, type Informer } from '#kube/runtime/informer.ts';

/** What happened to one browser pod of the pool, as the watch saw it. */
export type PodTransition = 'created' | 'deleted' | 'drained' | 'returned';

/** One transition, when the watch delivered it. */
export interface RecordedTransition {
  at: number;
  kind: PodTransition;
  pod: string;
}

/** A status the operator wrote, when the watch delivered it. */
export interface RecordedStatus {
  at: number;
  desiredReplicas: number | undefined;
  /** Sessions the status reports per browser (its gateways' leased contexts, as the operator last read them). */
  sessions: Record<string, number>;
  states: Record<string, string>;
  /** Each browser's gateway endpoint. */
  endpoints: Record<string, string>;
}

/**
 * Watches one BrowserPool and its pods from the API server (informers, so nothing is missed between polls) and records
 * every pod created or deleted, every Ready→Draining and Draining→Ready transition (the draining annotation set or
 * removed), and every status the operator wrote. Counting these is how the test tells a steady pool from a flapping one.
 */
export class PoolRecorder {
  readonly transitions: RecordedTransition[] = [];
  readonly statuses: RecordedStatus[] = [];
  readonly #pods: Informer<V1Pod>;
  readonly #pools: Informer<BrowserPool>;
  readonly #key: string;

  constructor(kc: KubeConfig, namespace: string, pool: string, logger: Logger) {
    this.#key = `${namespace}/${pool}`;
    this.#pods = createInformer<V1Pod>(kc, { version: 'v1', plural: 'pods', namespace }, { name: 'e2e-pods', labelSelector: `${LABEL_POOL}=${pool}`, logger });
    this.#pools = createInformer<BrowserPool>(kc, { group: BROWSERPOOL_GROUP, version: BROWSERPOOL_VERSION, plural: BROWSERPOOL_PLURAL, namespace }, {
      name: 'e2e-pool', fieldSelector: `metadata.name=${pool}`, logger,
    });
    this.#pods.onEvent((event) => {
      const at = Date.now();
      const pod = event.object.metadata?.name ?? '';
      if (event.type === 'add') this.transitions.push({ at, kind: 'created', pod });
      else if (event.type === 'delete') this.transitions.push({ at, kind: 'deleted', pod });
      else {
        const was = event.old.metadata?.annotations?.[ANNOTATION_DRAINING_SINCE] !== undefined;
        const is = event.object.metadata?.annotations?.[ANNOTATION_DRAINING_SINCE] !== undefined;
        if (!was && is) this.transitions.push({ at, kind: 'drained', pod });
        if (was && !is && !event.object.metadata?.deletionTimestamp) this.transitions.push({ at, kind: 'returned', pod });
      }
    });
    this.#pools.onEvent((event) => {
      if (event.type === 'delete') return;
      const status = event.object.status;
      this.statuses.push({
        at: Date.now(),
        desiredReplicas: status?.desiredReplicas,
        sessions: Object.fromEntries((status?.browsers ?? []).map((b) => [b.name, b.sessions])),
        states: Object.fromEntries((status?.browsers ?? []).map((b) => [b.name, b.state])),
        endpoints: Object.fromEntries((status?.browsers ?? []).map((b) => [b.name, b.endpoint])),
      });
    });
  }

  async start(): Promise<void> {
    this.#pods.start();
    this.#pools.start();
    await Promise.all([this.#pods.waitForSync(), this.#pools.waitForSync()]);
  }

  async stop(): Promise<void> {
    await Promise.all([this.#pods.stop(), this.#pools.stop()]);
  }

  /** The pool as last seen. */
  pool(): BrowserPool | undefined {
    return this.#pools.get(this.#key);
  }

  /** Pods of the pool that are not going away. */
  livePods(): V1Pod[] {
    return this.#pods.list().filter((p) => !p.metadata?.deletionTimestamp);
  }

  /** Transitions recorded in [from, to). */
  transitionsBetween(from: number, to: number): RecordedTransition[] {
    return this.transitions.filter((t) => t.at >= from && t.at < to);
  }

  /** The highest desiredReplicas the operator wrote in [from, to). */
  maxDesiredBetween(from: number, to: number): number {
    return Math.max(0, ...this.statuses.filter((s) => s.at >= from && s.at < to).map((s) => s.desiredReplicas ?? 0));
  }
}

/** Counts transitions by kind. */
export function countByKind(transitions: readonly RecordedTransition[]): Record<PodTransition, number> {
  const out: Record<PodTransition, number> = { created: 0, deleted: 0, drained: 0, returned: 0 };
  for (const t of transitions) out[t.kind]++;
  return out;
}
