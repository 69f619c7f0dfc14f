import type { KubeConfig } from '@kubernetes/client-node';
import { createLogger, type Logger } from '#common/logger.ts';
import { realClock, type Clock } from './clock.ts';
import { describeKubeError, isConflict } from './kube-errors.ts';
import {
  DEFAULT_LEADER_ELECTION_TIMINGS,
  RETRY_JITTER,
  decideLease,
  leaseDurationSeconds,
  lostToAnother,
  nextRecord,
  observe,
  releasedRecord,
  shouldStepDown,
  validateTimings,
  type LeaderElectionTimings,
  type LeaseObservation,
} from './lease-decisions.ts';
import { kubeLeaseStore, type LeaseStore } from './lease-store.ts';

/** Options of {@link LeaderElector}. */
export interface LeaderElectorOptions extends Partial<LeaderElectionTimings> {
  /** Where the Lease lives. */
  store: LeaseStore;
  /** This candidate's unique identity (e.g. the pod name plus a random suffix). */
  identity: string;
  /** Write a released record when `run`'s signal aborts or `release()` is called (default true). */
  releaseOnCancel?: boolean;
  /**
   * How long stepping down waits for the leader's work (the promise `onStartedLeading` returned) to end before it
   * gives up on releasing the Lease and leaves it to expire (default the lease duration).
   */
  workStopTimeoutMs?: number;
  clock?: Clock;
  logger?: Logger;
}

/** What to do when leadership begins and ends. */
export interface LeaderCallbacks {
  /**
   * Called when this candidate becomes leader; `signal` aborts when it must stop leading. The promise it returns
   * (the leader's work) must settle once the work has stopped and its last write has landed or failed: the
   * elector waits for it (bounded by `workStopTimeoutMs`) before it releases the Lease, so two leaders never
   * write at once.
   */
  onStartedLeading(signal: AbortSignal): void | Promise<void>;
  /** Called once when leadership ends (lost, stepped down or released), after `signal` aborted and any release. */
  onStoppedLeading(): void;
  /** Called when the observed leader changes (including to this candidate). */
  onNewLeader?(identity: string): void;
  /** Aborting stops the election (releasing the lease if leading and `releaseOnCancel`). */
  signal?: AbortSignal;
}

/** A snapshot of the elector for health checks. */
export interface LeaderElectorStatus {
  leading: boolean;
  /** Holder last seen on the Lease ('' if none). */
  leader: string;
  /** When the Lease was last read or written successfully (epoch ms; 0 never). */
  lastContactAt: number;
  /** Whether `run` is active (candidate or leader). */
  running: boolean;
}

/**
 * Leader election on a `coordination.k8s.io/v1` Lease with client-go's rules: acquire when the lease is free
 * or has not changed for its duration (by this candidate's clock), renew every retry period, step down when
 * renewal has failed for the renew deadline or another holder is seen, release on shutdown so another candidate
 * takes over at once. Every write is conditional on the resourceVersion read.
 */
export class LeaderElector {
  readonly #store: LeaseStore;
  readonly #identity: string;
  readonly #timings: LeaderElectionTimings;
  readonly #releaseOnCancel: boolean;
  readonly #workStopTimeoutMs: number;
  readonly #clock: Clock;
  readonly #log: Logger;
  #observation: LeaseObservation | undefined;
  #resourceVersion = '';
  #leading = false;
  #running = false;
  #lastContactAt = 0;
  #lastRenewedAt = 0;
  /** When the request of the last successful acquire or renew was sent: the Lease surely holds from then on. */
  #lastRenewSentAt = 0;
  /** This candidate holds the Lease (acquired and neither released nor seen lost). */
  #holding = false;
  #leadingController: AbortController | undefined;
  #work: Promise<void> | undefined;
  #stop: AbortController | undefined;
  #callbacks: LeaderCallbacks | undefined;
  #runLoop: Promise<void> | undefined;
  #lastLeader = '';

  constructor(options: LeaderElectorOptions) {
    if (!options.identity) throw new Error('LeaderElector needs a non-empty identity (e.g. the pod name)');
    this.#timings = {
      leaseDurationMs: options.leaseDurationMs ?? DEFAULT_LEADER_ELECTION_TIMINGS.leaseDurationMs,
      renewDeadlineMs: options.renewDeadlineMs ?? DEFAULT_LEADER_ELECTION_TIMINGS.renewDeadlineMs,
      retryPeriodMs: options.retryPeriodMs ?? DEFAULT_LEADER_ELECTION_TIMINGS.retryPeriodMs,
    };
    validateTimings(this.#timings);
    this.#store = options.store;
    this.#identity = options.identity;
    this.#releaseOnCancel = options.releaseOnCancel ?? true;
    this.#workStopTimeoutMs = options.workStopTimeoutMs ?? this.#timings.leaseDurationMs;
    this.#clock = options.clock ?? realClock;
    this.#log = options.logger ?? createLogger({ component: 'operator' });
  }

  /** This candidate's identity. */
  get identity(): string {
    return this.#identity;
  }

  /** The timings in force. */
  get timings(): LeaderElectionTimings {
    return { ...this.#timings };
  }

  /** Whether this candidate currently leads. */
  isLeader(): boolean {
    return this.#leading;
  }

  /**
   * Until when (epoch ms, by this candidate's clock) no other candidate can hold the Lease: the send time of the
   * last successful renewal plus the renew deadline (others wait the longer lease duration after they saw that
   * renewal). 0 when this candidate does not hold the Lease. Writes of the leader are fenced with it.
   */
  leaseValidUntil(): number {
    return this.#holding ? this.#lastRenewSentAt + this.#timings.renewDeadlineMs : 0;
  }

  /** A snapshot for health checks. */
  status(): LeaderElectorStatus {
    return {
      leading: this.#leading,
      leader: this.#observation?.record.holderIdentity ?? '',
      lastContactAt: this.#lastContactAt,
      running: this.#running,
    };
  }

  /**
   * Stands for election: tries to acquire every retry period; once leading, renews until leadership is lost,
   * `release()` is called or `callbacks.signal` aborts. Resolves when the election ends for this run (call
   * `run` again to stand again). Never rejects: API errors are logged and retried.
   */
  run(callbacks: LeaderCallbacks): Promise<void> {
    if (this.#running) throw new Error('LeaderElector.run is already running; call release() first');
    this.#running = true;
    this.#callbacks = callbacks;
    const stop = new AbortController();
    this.#stop = stop;
    const onAbort = (): void => stop.abort();
    callbacks.signal?.addEventListener('abort', onAbort, { once: true });
    if (callbacks.signal?.aborted) stop.abort();
    this.#runLoop = this.#loop(stop.signal).finally(() => {
      callbacks.signal?.removeEventListener('abort', onAbort);
      this.#running = false;
    });
    return this.#runLoop;
  }

  /** Stops the election; if leading, writes a released Lease (holder '', 1 s) first. Resolves when done. */
  async release(): Promise<void> {
    this.#stop?.abort();
    await this.#runLoop;
  }

  async #loop(stop: AbortSignal): Promise<void> {
    const { retryPeriodMs, renewDeadlineMs } = this.#timings;
    this.#log.info('Started leader election', { lease: this.#store.description, identity: this.#identity });
    while (!stop.aborted) {
      if (await this.#tryAcquireOrRenew(this.#timings.leaseDurationMs)) break;
      await this.#clock.sleep(retryPeriodMs * (1 + Math.random() * (RETRY_JITTER - 1)), stop);
    }
    if (stop.aborted) {
      this.#log.info('Stopped leader election', { lease: this.#store.description, identity: this.#identity });
      return;
    }
    this.#becomeLeader();
    while (!stop.aborted) {
      await this.#clock.sleep(retryPeriodMs, stop);
      if (stop.aborted) break;
      const remaining = Math.max(1, this.#lastRenewedAt + renewDeadlineMs - this.#clock.now());
      if (await this.#tryAcquireOrRenew(remaining)) continue;
      const now = this.#clock.now();
      if (lostToAnother(this.#observation, this.#identity, now)) {
        this.#log.warn('Lost leadership to another holder', {
          lease: this.#store.description,
          identity: this.#identity,
          leader: this.#observation?.record.holderIdentity,
        });
        break;
      }
      if (shouldStepDown(this.#lastRenewedAt, now, renewDeadlineMs)) {
        this.#log.warn('Stepped down after failing to renew lease', {
          lease: this.#store.description,
          identity: this.#identity,
          renewDeadlineMs,
        });
        break;
      }
    }
    // Stop the leader's work, wait until it has ended (its last write landed or failed), and only then give the
    // Lease away, so two leaders never write at once. A Lease lost or not renewed is not held any more.
    if (!stop.aborted) this.#holding = false;
    this.#leadingController?.abort();
    const workEnded = await this.#waitForWork();
    if (stop.aborted && this.#releaseOnCancel) {
      if (workEnded) await this.#release();
      else {
        this.#log.warn('Leader work did not stop in time; leaving the lease to expire instead of releasing it', {
          lease: this.#store.description, identity: this.#identity,
        });
      }
    }
    this.#holding = false;
    this.#stepDown();
  }

  /** Waits for the leader's work to settle, at most `workStopTimeoutMs`; whether it did. */
  async #waitForWork(): Promise<boolean> {
    const work = this.#work;
    if (!work) return true;
    const cancel = new AbortController();
    const timeout = this.#workStopTimeoutMs;
    const ended = await Promise.race([work.then(() => true, () => true), this.#clock.sleep(timeout, cancel.signal).then(() => false)]);
    cancel.abort();
    return ended;
  }

  /** One attempt; true if this candidate holds the lease afterwards. Gives up (cancelling the request) after `timeoutMs`. */
  async #tryAcquireOrRenew(timeoutMs: number): Promise<boolean> {
    const request = new AbortController();
    const attempt = this.#attempt(request.signal);
    const cancelTimer = new AbortController();
    const timedOut = this.#clock.sleep(timeoutMs, cancelTimer.signal).then((full) => (full ? ('timeout' as const) : false));
    const result = await Promise.race([attempt, timedOut]);
    cancelTimer.abort();
    if (result === 'timeout') {
      request.abort();
      attempt.catch(() => undefined);
      this.#log.warn('Lease request timed out; cancelled it', { lease: this.#store.description, timeoutMs });
      return false;
    }
    return result;
  }

  /** Reads the Lease and writes it if this candidate may. A cancelled attempt changes nothing it knows. */
  async #attempt(signal: AbortSignal): Promise<boolean> {
    try {
      const stored = await this.#store.get(signal);
      if (signal.aborted) return false;
      const now = this.#clock.now();
      this.#lastContactAt = now;
      if (stored) {
        this.#observation = observe(this.#observation, stored.record, now);
        this.#resourceVersion = stored.resourceVersion;
      } else {
        this.#observation = undefined;
      }
      this.#noticeLeader();
      const decision = decideLease(this.#observation, this.#identity, now);
      if (decision.action === 'wait') return false;
      const record = nextRecord(this.#observation?.record, this.#identity, now, leaseDurationSeconds(this.#timings));
      const sentAt = this.#clock.now();
      const resourceVersion = decision.action === 'create'
        ? await this.#store.create(record, signal)
        : await this.#store.update(record, this.#resourceVersion, signal);
      if (signal.aborted) return false;
      const written = this.#clock.now();
      this.#resourceVersion = resourceVersion;
      this.#observation = { record, observedAt: written };
      this.#lastContactAt = written;
      this.#lastRenewedAt = written;
      this.#lastRenewSentAt = sentAt;
      this.#holding = true;
      if (decision.action === 'acquire') {
        this.#log.info('Acquired lease', { lease: this.#store.description, identity: this.#identity, reason: decision.reason });
      }
      this.#noticeLeader();
      return true;
    } catch (err) {
      if (isConflict(err)) {
        this.#log.debug('Lease write conflicted; another candidate wrote first', { lease: this.#store.description });
      } else {
        this.#log.warn('Lease request failed', { lease: this.#store.description, error: describeKubeError(err) });
      }
      return false;
    }
  }

  #becomeLeader(): void {
    this.#leading = true;
    const controller = new AbortController();
    this.#leadingController = controller;
    this.#log.info('Became leader', { lease: this.#store.description, identity: this.#identity });
    this.#work = undefined;
    try {
      const started = this.#callbacks?.onStartedLeading(controller.signal);
      if (started && typeof (started as Promise<void>).then === 'function') {
        this.#work = (started as Promise<void>).catch((err: unknown) => {
          this.#log.error('Leader work failed', { error: err instanceof Error ? err.message : String(err) });
        });
      }
    } catch (err) {
      this.#log.error('Leader work failed', { error: err instanceof Error ? err.message : String(err) });
    }
  }

  #stepDown(): void {
    if (!this.#leading) return;
    this.#leading = false;
    this.#leadingController?.abort();
    this.#log.info('Stopped leading', { lease: this.#store.description, identity: this.#identity });
    try {
      this.#callbacks?.onStoppedLeading();
    } catch (err) {
      this.#log.error('onStoppedLeading failed', { error: err instanceof Error ? err.message : String(err) });
    }
  }

  async #release(): Promise<void> {
    const request = new AbortController();
    const cancelTimer = new AbortController();
    const timedOut = this.#clock.sleep(this.#timings.renewDeadlineMs, cancelTimer.signal).then((full) => full);
    const timedOutFirst = await Promise.race([this.#writeRelease(request.signal).then(() => false), timedOut]);
    cancelTimer.abort();
    if (timedOutFirst) {
      request.abort();
      this.#log.warn('Releasing lease timed out; others take over when it expires', {
        lease: this.#store.description,
        timeoutMs: this.#timings.renewDeadlineMs,
      });
    }
  }

  async #writeRelease(signal: AbortSignal): Promise<void> {
    try {
      const stored = await this.#store.get(signal);
      if (!stored || stored.record.holderIdentity !== this.#identity) return;
      const released = releasedRecord(stored.record, this.#clock.now());
      await this.#store.update(released, stored.resourceVersion, signal);
      this.#observation = { record: released, observedAt: this.#clock.now() };
      this.#log.info('Released lease', { lease: this.#store.description, identity: this.#identity });
    } catch (err) {
      this.#log.warn('Releasing lease failed; others take over when it expires', {
        lease: this.#store.description,
        error: describeKubeError(err),
      });
    }
  }

  #noticeLeader(): void {
    const leader = this.#observation?.record.holderIdentity ?? '';
    if (leader === this.#lastLeader) return;
    this.#lastLeader = leader;
    if (leader) this.#callbacks?.onNewLeader?.(leader);
  }
}

/** Options of {@link createLeaderElector}. */
export interface CreateLeaderElectorOptions extends Omit<LeaderElectorOptions, 'store'> {
  namespace: string;
  /** Lease name, e.g. "browserpool-operator". */
  name: string;
}

/** A {@link LeaderElector} on a Lease of the API server in `kubeConfig`. */
export function createLeaderElector(kubeConfig: KubeConfig, options: CreateLeaderElectorOptions): LeaderElector {
  const { namespace, name, ...rest } = options;
  return new LeaderElector({ ...rest, store: kubeLeaseStore(kubeConfig, namespace, name) });
}
