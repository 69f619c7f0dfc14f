import { randomUUID } from 'node:crypto';
import type { KubernetesObject } from '@kubernetes/client-node';
import { createLogger, type Logger } from '#common/logger.ts';
import { withLogContext } from '#common/log-context.ts';
import { realClock, type Clock } from './clock.ts';
import { objectKey } from './indexed-cache.ts';
import type { Informer, InformerEvent } from './informer.ts';
import { describeKubeError, isConflict } from './kube-errors.ts';
import { ControllerMetrics, type ReconcileOutcome } from './metrics.ts';
import type { ControllerRateLimiterOptions } from './rate-limiter.ts';
import { WorkQueue } from './work-queue.ts';
import { isTermEnded, WriteFence } from './write-fence.ts';

/** What a reconcile asks for when it succeeds. */
export interface ReconcileResult {
  /** Run this key again after this many ms (level-based polling, e.g. waiting for a drain). */
  requeueAfterMs?: number;
}

/** Passed to every reconcile. */
export interface ReconcileContext {
  /** Unique id of this reconcile, also in the log context as `reconcileId`. */
  reconcileId: string;
  /** Aborts when the controller's stop deadline passes or its leadership term ends: wrap up, write nothing more. */
  signal: AbortSignal;
  /** Every write of the reconcile goes through it: refused once the term is over (see {@link WriteFence}). */
  fence: WriteFence;
  /** The controller's logger (the log context adds controller, key and reconcileId). */
  logger: Logger;
}

/**
 * Brings the world in line with the desired state of `key` (`namespace/name`). Reads everything it needs each
 * time (level-based). Throw to retry with backoff; a 409 conflict is retried quietly.
 */
export type Reconciler = (key: string, context: ReconcileContext) => Promise<ReconcileResult | void>;

/**
 * What a controller uses of an informer: an informer of any object type fits (e.g. `Informer<V1Pod>`, or a
 * custom resource's `Informer<BrowserPool>` whose `spec` is required).
 */
export type ControllerInformer = Pick<Informer<KubernetesObject>, 'onEvent' | 'start' | 'waitForSync' | 'list'>;

/** An informer whose events enqueue keys. */
export interface ControllerSource {
  informer: ControllerInformer;
  /** The keys to reconcile for an event (default {@link ownKey}: the object's own key). */
  keysFor?: (event: InformerEvent<KubernetesObject>) => string[];
}

/** Key mapping: the object's own `namespace/name`. */
export function ownKey(event: InformerEvent<KubernetesObject>): string[] {
  return [objectKey(event.object)];
}

/** Options of {@link Controller}. */
export interface ControllerOptions {
  /** Name for logs and metrics, e.g. "browserpool". */
  name: string;
  sources: ControllerSource[];
  reconcile: Reconciler;
  /** Parallel reconciles (different keys only; default 2). */
  workers?: number;
  /** Work-queue backoff and rate limit (defaults: 5 ms..1000 s per key, 10 qps / 100 burst overall). */
  rateLimits?: ControllerRateLimiterOptions;
  /** A reconcile running longer than this makes the controller count as wedged (default 5 min). */
  wedgedAfterMs?: number;
  /** The leadership term's write fence (default: one that closes when the controller's stop deadline passes). */
  fence?: WriteFence;
  clock?: Clock;
  logger?: Logger;
  metrics?: ControllerMetrics;
  /**
   * Called after every reconcile with its key, duration and outcome (e.g. for benchmarks). An exception it throws
   * is logged and otherwise ignored: it never stops a worker.
   */
  onReconcile?: (key: string, durationMs: number, outcome: ReconcileOutcome) => void;
}

/** Liveness facts of a controller. */
export interface ControllerHealth {
  started: boolean;
  stopping: boolean;
  /** Workers still looping. */
  workersAlive: number;
  /** Age of the oldest reconcile in flight (0 if none). */
  oldestReconcileMs: number;
  /** A reconcile has run longer than `wedgedAfterMs`, or workers died while not stopping. */
  wedged: boolean;
}

/**
 * Wires informers to a work queue and N workers that call `reconcile(key)`: events map to keys (own or owner);
 * a key is reconciled by one worker at a time; success forgets its backoff (and honours `requeueAfterMs`);
 * failure retries with per-key exponential backoff; 409 conflicts retry quietly. Starts only once every
 * informer has synced; stops gracefully, letting in-flight reconciles finish within a deadline.
 */
export class Controller {
  readonly #options: ControllerOptions;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #metrics: ControllerMetrics;
  readonly #queue: WorkQueue;
  readonly #inFlight = new Map<string, { startedAt: number; reconcileId: string }>();
  readonly #stopReconciles = new AbortController();
  readonly #fence: WriteFence;
  readonly #reconcileSignal: AbortSignal;
  readonly #unsubscribe: Array<() => void> = [];
  #workers: Promise<void>[] = [];
  #workersAlive = 0;
  #started = false;
  #stopping = false;

  constructor(options: ControllerOptions) {
    if (!options.name) throw new Error('Controller needs a name (used in logs and metrics)');
    const workers = options.workers ?? 2;
    if (!Number.isInteger(workers) || workers < 1) throw new RangeError(`workers must be a positive integer (got ${workers})`);
    this.#options = { ...options, workers };
    this.#clock = options.clock ?? realClock;
    this.#log = options.logger ?? createLogger({ component: 'operator' });
    this.#metrics = options.metrics ?? new ControllerMetrics();
    const queueOptions: ConstructorParameters<typeof WorkQueue>[0] = {
      clock: this.#clock,
      metrics: this.#metrics.queueMetrics(options.name),
    };
    if (options.rateLimits) queueOptions.rateLimits = options.rateLimits;
    this.#queue = new WorkQueue(queueOptions);
    this.#fence = options.fence ?? new WriteFence({ signal: this.#stopReconciles.signal, clock: this.#clock });
    this.#reconcileSignal = AbortSignal.any([this.#stopReconciles.signal, this.#fence.signal]);
  }

  /** The controller's name. */
  get name(): string {
    return this.#options.name;
  }

  /**
   * Subscribes to the informers (starting any not yet started), waits until all have synced, enqueues every
   * cached object, then starts the workers. Resolves `true` once workers run, `false` if `signal` aborted or
   * the controller was stopped before the caches synced.
   */
  async start(signal?: AbortSignal): Promise<boolean> {
    if (this.#started || this.#stopping) throw new Error(`Controller ${this.name} was already started`);
    this.#started = true;
    for (const source of this.#options.sources) {
      const keysFor = source.keysFor ?? ownKey;
      this.#unsubscribe.push(source.informer.onEvent((event) => this.#enqueueFor(keysFor, event)));
      source.informer.start();
    }
    const abort = new AbortController();
    const onAbort = (): void => abort.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    this.#stopReconciles.signal.addEventListener('abort', onAbort, { once: true });
    const synced = await Promise.all(this.#options.sources.map((s) => s.informer.waitForSync(abort.signal)));
    signal?.removeEventListener('abort', onAbort);
    if (!synced.every(Boolean) || this.#stopping || signal?.aborted) return false;
    for (const source of this.#options.sources) {
      const keysFor = source.keysFor ?? ownKey;
      for (const object of source.informer.list()) this.#enqueueFor(keysFor, { type: 'add', object });
    }
    for (let i = 0; i < (this.#options.workers ?? 2); i++) this.#workers.push(this.#worker());
    this.#log.info('Started controller', { controller: this.name, workers: this.#options.workers });
    return true;
  }

  /** Queues `key` for reconcile (e.g. from a timer or another controller). */
  enqueue(key: string): void {
    this.#queue.add(key);
  }

  /** The controller's queue length (keys waiting). */
  queueLength(): number {
    return this.#queue.len();
  }

  /**
   * Stops taking keys, drops queued ones, and waits up to `deadlineMs` (default 30 s) for in-flight reconciles;
   * then aborts their signal. Resolves whether all in-flight work finished in time. Informers are not stopped
   * (they may be shared).
   */
  async stop(deadlineMs = 30_000): Promise<boolean> {
    if (this.#stopping) return this.#inFlight.size === 0;
    this.#stopping = true;
    for (const unsubscribe of this.#unsubscribe.splice(0)) unsubscribe();
    const drained = this.#queue.shutDown({ discardQueued: true }).then(() => true);
    const cancelTimer = new AbortController();
    const timedOut = this.#clock.sleep(deadlineMs, cancelTimer.signal).then(() => false);
    const completed = await Promise.race([drained, timedOut]);
    cancelTimer.abort();
    if (!completed) {
      this.#log.warn('Stopped controller before in-flight reconciles finished', {
        controller: this.name,
        inFlight: [...this.#inFlight.keys()],
      });
    }
    this.#stopReconciles.abort();
    if (completed) {
      await Promise.all(this.#workers);
      this.#log.info('Stopped controller', { controller: this.name });
    }
    return completed;
  }

  /** Liveness facts (see {@link ControllerHealth}). */
  health(): ControllerHealth {
    const now = this.#clock.now();
    let oldest = 0;
    for (const { startedAt } of this.#inFlight.values()) oldest = Math.max(oldest, now - startedAt);
    const workersDied = this.#workers.length > 0 && this.#workersAlive < this.#workers.length && !this.#stopping;
    return {
      started: this.#started,
      stopping: this.#stopping,
      workersAlive: this.#workersAlive,
      oldestReconcileMs: oldest,
      wedged: workersDied || oldest > (this.#options.wedgedAfterMs ?? 300_000),
    };
  }

  #enqueueFor(keysFor: (event: InformerEvent<KubernetesObject>) => string[], event: InformerEvent<KubernetesObject>): void {
    if (this.#stopping) return;
    for (const key of keysFor(event)) if (key) this.#queue.add(key);
  }

  async #worker(): Promise<void> {
    this.#workersAlive++;
    try {
      for (;;) {
        const key = await this.#queue.get();
        if (key === undefined) return;
        await this.#process(key);
      }
    } finally {
      this.#workersAlive--;
    }
  }

  #notifyReconciled(key: string, durationMs: number, outcome: ReconcileOutcome): void {
    try {
      this.#options.onReconcile?.(key, durationMs, outcome);
    } catch (err) {
      this.#log.warn('Ignored a failing onReconcile hook', { error: describeKubeError(err) });
    }
  }

  async #process(key: string): Promise<void> {
    const reconcileId = randomUUID();
    const startedAt = this.#clock.now();
    this.#inFlight.set(key, { startedAt, reconcileId });
    let outcome: ReconcileOutcome = 'success';
    await withLogContext({ controller: this.name, key, reconcileId }, async () => {
      try {
        const result = await this.#options.reconcile(key, {
          reconcileId,
          signal: this.#reconcileSignal,
          fence: this.#fence,
          logger: this.#log,
        });
        this.#queue.forget(key);
        const after = result?.requeueAfterMs;
        if (after !== undefined && after >= 0) {
          outcome = 'requeue';
          this.#queue.addAfter(key, after);
        }
      } catch (err) {
        if (isTermEnded(err) || this.#reconcileSignal.aborted) {
          outcome = 'cancelled';
          this.#log.info('Stopped a reconcile: its leadership term ended', { error: describeKubeError(err) });
        } else if (isConflict(err)) {
          outcome = 'conflict';
          this.#log.debug('Requeued after conflict', { error: describeKubeError(err) });
        } else {
          outcome = 'error';
          this.#log.error('Reconcile failed', {
            error: describeKubeError(err),
            retries: this.#queue.numRequeues(key),
            ...(err instanceof Error && err.stack ? { stack: err.stack } : {}),
          });
        }
        this.#queue.addRateLimited(key);
      } finally {
        this.#inFlight.delete(key);
        this.#queue.done(key);
        const durationMs = this.#clock.now() - startedAt;
        this.#metrics.recordReconcile(this.name, outcome, durationMs);
        this.#notifyReconciled(key, durationMs, outcome);
      }
    });
  }
}
