import { createLogger, type Logger } from '#common/logger.ts';
import type { CheckResult } from '#common/health.ts';
import { realClock, type Clock } from './clock.ts';
import { Controller, type ControllerOptions } from './controller.ts';
import { decideLiveness, decideReadiness } from './health.ts';
import { LeaderElector, type LeaderElectorOptions } from './leader-election.ts';
import { ControllerMetrics } from './metrics.ts';
import { WriteFence } from './write-fence.ts';

/** What the manager needs of an informer: it starts them all at once and stops them last. */
export interface ManagedInformer {
  readonly name: string;
  start(): void;
  stop(): Promise<void>;
  hasSynced(): boolean;
}

/** A controller as registered: a fresh runtime {@link Controller} is built from it for every leadership term. */
export type ManagedControllerOptions = Omit<ControllerOptions, 'clock' | 'logger' | 'metrics' | 'fence'>;

/** Options of {@link Manager}. */
export interface ManagerOptions {
  /** This process's identity (leader election, logs). */
  identity: string;
  /** Leader election on a Lease; without it this process always works (one replica only). */
  leaderElection?: Omit<LeaderElectorOptions, 'identity' | 'clock' | 'logger'>;
  /**
   * How long a hand-over or shutdown lets reconciles in flight finish before it ends the term anyway (their later
   * writes are refused). Default 5 s, well inside the renew deadline so the fence does not close first.
   */
  drainTimeoutMs?: number;
  /** Longest one write may take before its requests are aborted (default 4 s: less than lease minus renew deadline). */
  writeTimeoutMs?: number;
  metrics?: ControllerMetrics;
  clock?: Clock;
  logger?: Logger;
}

/** One leadership term: its controllers and its write fence. */
interface Term {
  controllers: Controller[];
  fence: WriteFence;
}

/**
 * Runs controllers the way controller-runtime's manager does, in one place for the entry point and the tests:
 * starts every informer at once (standbys keep warm caches), stands for election, and while leading runs one
 * term of fresh controllers behind a {@link WriteFence}. A term ends in order: stop taking work → wait (bounded)
 * for reconciles in flight → close the fence (later writes are refused) → wait for writes in flight → only then
 * is the Lease released. A Lease lost involuntarily closes the fence at once (and the fence also closes by itself
 * when the Lease was not renewed in time, even if timers run late). Gives readiness and liveness checks.
 */
export class Manager {
  readonly elector: LeaderElector | undefined;
  readonly #options: ManagerOptions;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #metrics: ControllerMetrics;
  readonly #informers: ManagedInformer[] = [];
  readonly #controllers: ManagedControllerOptions[] = [];
  readonly #stop = new AbortController();
  #running: Promise<void> | undefined;
  #term: Term | undefined;
  #termDone: Promise<void> = Promise.resolve();
  #terms = 0;

  constructor(options: ManagerOptions) {
    this.#options = options;
    this.#clock = options.clock ?? realClock;
    this.#log = options.logger ?? createLogger({ component: 'operator' });
    this.#metrics = options.metrics ?? new ControllerMetrics();
    this.elector = options.leaderElection
      ? new LeaderElector({ ...options.leaderElection, identity: options.identity, clock: this.#clock, logger: this.#log })
      : undefined;
  }

  /** Adds an informer; it starts with the manager (leader or not) and stops after the last term ended. */
  addInformer(informer: ManagedInformer): void {
    this.#informers.push(informer);
  }

  /** Adds a controller, run in every leadership term (its sources must be informers added here). */
  addController(options: ManagedControllerOptions): void {
    this.#controllers.push(options);
  }

  /** Starts the informers and the election (or, without leader election, one term until stopped). */
  start(): void {
    if (this.#running) throw new Error('Manager.start was already called');
    for (const informer of this.#informers) informer.start();
    this.#running = this.elector ? this.#elect(this.elector) : this.#runTerm(this.#stop.signal);
  }

  /** Stops in order (see the class doc), then the informers. Resolves when everything has stopped. */
  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#running;
    await this.#termDone;
    await Promise.all(this.#informers.map((i) => i.stop()));
  }

  /** Whether this process leads now (always, without leader election, once started). */
  isLeader(): boolean {
    return this.elector ? this.elector.isLeader() : this.#term !== undefined;
  }

  /** How many terms have started (for tests and benchmarks). */
  termsStarted(): number {
    return this.#terms;
  }

  /** Keys waiting in the current term's queues (0 when not leading). */
  queueDepth(): number {
    return this.#term?.controllers.reduce((sum, c) => sum + c.queueLength(), 0) ?? 0;
  }

  /** Writes refused by the current term's fence (0 when not leading). */
  refusedWrites(): number {
    return this.#term?.fence.refused() ?? 0;
  }

  /** Readiness: caches synced, and leading or standing by with a reachable Lease. */
  readiness = (): CheckResult => {
    const unsyncedCaches = this.#informers.filter((i) => !i.hasSynced()).map((i) => i.name);
    const status = this.elector?.status();
    return decideReadiness({
      unsyncedCaches,
      ...(status && this.elector ? {
        election: {
          leading: status.leading, running: status.running, sinceLastContactMs: this.#clock.now() - status.lastContactAt,
          maxContactAgeMs: this.elector.timings.leaseDurationMs,
        },
      } : {}),
    });
  };

  /** Liveness: no controller of the current term is wedged (a reconcile stuck past its limit, or workers gone). */
  liveness = (): CheckResult => decideLiveness((this.#term?.controllers ?? []).map((c) => ({ name: c.name, health: c.health() })));

  async #elect(elector: LeaderElector): Promise<void> {
    while (!this.#stop.signal.aborted) {
      // Never stand again while the previous term still runs (it outlived the elector's wait).
      await this.#termDone;
      if (this.#stop.signal.aborted) break;
      await elector.run({
        signal: this.#stop.signal,
        onStartedLeading: (leading) => {
          this.#log.info('Started leading', { identity: this.#options.identity });
          this.#termDone = this.#runTerm(leading);
          return this.#termDone;
        },
        onStoppedLeading: () => this.#log.info('Stopped leading', { identity: this.#options.identity }),
      });
    }
  }

  async #runTerm(leading: AbortSignal): Promise<void> {
    this.#terms++;
    const end = new AbortController();
    const elector = this.elector;
    const fence = new WriteFence({
      signal: end.signal,
      ...(elector ? { validUntil: () => elector.leaseValidUntil() } : {}),
      writeTimeoutMs: this.#options.writeTimeoutMs ?? 4000,
      clock: this.#clock,
    });
    const controllers = this.#controllers.map((options) => new Controller({
      ...options, fence, clock: this.#clock, logger: this.#log, metrics: this.#metrics,
    }));
    const term: Term = { controllers, fence };
    this.#term = term;
    try {
      if (!leading.aborted) await Promise.all(controllers.map((c) => c.start(leading)));
      await new Promise<void>((resolve) => {
        if (leading.aborted) resolve();
        else leading.addEventListener('abort', () => resolve(), { once: true });
      });
    } finally {
      // A shutdown lets reconciles in flight finish (bounded); a lost Lease does not wait.
      const drainMs = this.#stop.signal.aborted ? (this.#options.drainTimeoutMs ?? 5000) : 0;
      const drained = await Promise.all(controllers.map((c) => c.stop(drainMs)));
      end.abort();
      const writeTimeoutMs = this.#options.writeTimeoutMs ?? 4000;
      if (!(await fence.settled(writeTimeoutMs + 1000))) {
        this.#log.warn('Writes of the ending term are still in flight; waiting for them before the Lease can go', { inFlight: fence.inFlight() });
        await fence.settled();
      }
      if (this.#term === term) this.#term = undefined;
      this.#log.info('Ended leadership term', {
        identity: this.#options.identity, drained: drained.every(Boolean), refusedWrites: fence.refused(),
      });
    }
  }
}
