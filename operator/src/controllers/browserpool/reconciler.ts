import type { KubernetesObject, V1NetworkPolicy, V1Pod, V1Secret } from '@kubernetes/client-node';
import type { BrowserPool } from '#kube/api/v1alpha1/browserpool.ts';
import type { Logger } from '#common/logger.ts';
import { secretRedactor } from '#common/redaction.ts';
import { describeKubeError, isConflict, isNotFound } from '#kube/runtime/kube-errors.ts';
import { realClock, type Clock } from '#kube/runtime/clock.ts';
import type { WriteFence } from '#kube/runtime/write-fence.ts';
import { desiredPod, specHash, type PoolRef } from './desired-pods.ts';
import { desiredSecret, generateToken } from './desired-secret.ts';
import { holdsDeclared, missingLabels } from './drift.ts';
import { DEFAULT_CLIENT_SELECTOR, desiredNetworkPolicy, type OperatorIdentity } from './desired-network-policy.ts';
import { observeBrowser, type ObservedBrowser } from './observed-browser.ts';
import { plan as makePlan, type Plan, type PlanOptions } from './plan.ts';
import { recommendationsInWindow, recordRecommendation, type Recommendation } from './scale-down-stabilization.ts';
import { computeStatus, endpointOf, statusChanged } from './status.ts';
import { poolMetricsOf, type PoolMetrics } from './pool-metrics.ts';
import { validateSpec, type ResolvedPoolSpec } from './validate-spec.ts';
import { fencedWriter, type KubeWriter } from './kube-writer.ts';
import type { SessionReader } from './session-reader.ts';
import { snapshotServes, type SessionSnapshot } from './session-snapshot.ts';
import type { DemandReader } from './demand-reader.ts';
import type { GatewayLoad } from '#common/gateway-status.ts';
import { ANNOTATION_DRAIN_REASON, ANNOTATION_DRAINING_SINCE, poolLabels, tokenOf, tokenSecretName } from '#kube/api/v1alpha1/contract.ts';
import { BROWSERPOOL_KIND } from '#kube/api/v1alpha1/browserpool.ts';
import { egressPolicyName, networkPolicyName } from './names.ts';
import { desiredEgressPolicy, type DnsPeer } from './desired-egress-policy.ts';
import { dnsOriginResolver, type OriginResolver } from './origin-resolver.ts';

/** Read access to the informer caches the reconciler works from. */
export interface PoolCaches {
  /** The pool by `namespace/name`. */
  getPool(key: string): BrowserPool | undefined;
  /** Every pool (to find the owner of orphans). */
  listPools(): BrowserPool[];
  /** Pods whose controller owner reference has this uid. */
  podsOwnedBy(uid: string): V1Pod[];
  /** Pods of a namespace carrying `browser.composer-mcp.io/pool=<pool>`. */
  podsLabelled(namespace: string, pool: string): V1Pod[];
  /** A Secret by `namespace/name`. */
  getSecret(key: string): V1Secret | undefined;
  /** A NetworkPolicy by `namespace/name`. */
  getNetworkPolicy(key: string): V1NetworkPolicy | undefined;
}

/** What the reconciler needs. */
export interface ReconcilerDeps {
  caches: PoolCaches;
  writer: KubeWriter;
  sessions: SessionReader;
  /** The servers' queued demand, for autoscaled pools (default: none, only leased sessions count). */
  demand?: DemandReader;
  /** Resolves the allowed origins' hosts for the egress NetworkPolicy (default DNS, cached a minute). */
  resolver?: OriginResolver;
  /** The cluster's DNS pods, which the egress NetworkPolicy admits (default kube-system, k8s-app=kube-dns). */
  dns?: DnsPeer;
  logger: Logger;
  clock?: Clock;
  /** The operator's own pods, admitted by each pool's NetworkPolicy. */
  operator?: OperatorIdentity;
  planOptions?: PlanOptions;
  /** How long a pool's gateway loads, read together, are reused (default 1000 ms; see session-snapshot.ts). */
  sessionTtlMs?: number;
  /** Where pool figures, drains and deletions are counted (default: one PoolMetrics per process, global meter). */
  poolMetrics?: PoolMetrics;
}

/** What a reconcile asks of the queue. */
export interface ReconcileResult {
  requeueAfterMs?: number;
}

/** The leadership term a reconcile runs in (the runtime's ReconcileContext); without it writes are not fenced. */
export interface ReconcileTerm {
  /** Aborts when the term ends: session reads stop. */
  signal: AbortSignal;
  /** Every write goes through it. */
  fence: WriteFence;
}

interface PoolMemory {
  uid: string;
  /** Serial high-water mark so names are not reused within this process. */
  nextSerial: number;
  /** Pods created but not yet seen in the cache (name → time created), so a stale cache never double-creates. */
  expectedCreates: Map<string, { pod: V1Pod; at: number }>;
  /** Pods deleted but maybe still in the cache without a deletionTimestamp. */
  expectedDeletes: Map<string, number>;
  /** The pool's token as last seen: a deleted token Secret is recreated with it, so gateways and servers keep working. */
  token?: string;
  /** Browsers this process has offered to servers (Ready or Draining in a status it computed). */
  offered: Set<string>;
  /** Generation for which an InvalidSpec event was recorded. */
  invalidGeneration?: number;
  /**
   * The autoscaler's recommendations that may still be the highest of its scale-down stabilisation window (undefined
   * while the pool is not autoscaled, and before its first reconcile in this term).
   */
  recommendations?: Recommendation[];
  /** The leadership term the recommendations were made in: another leader's were never seen, so a new term starts over. */
  recommendationsTerm?: WriteFence;
}

const EXPECTATION_TTL_MS = 30_000;
/** How often the allowed origins' addresses are looked up again. */
const EGRESS_REFRESH_MS = 60_000;
/** The cluster DNS of most distributions (CoreDNS keeps the kube-dns label). */
export const DEFAULT_DNS_PEER: DnsPeer = { namespace: 'kube-system', podLabels: { 'k8s-app': 'kube-dns' } };

/**
 * Level-based reconciler of one BrowserPool: reads the pool, its pods (from the informer caches) and the
 * gateways' session counts; computes the plan and the status with the pure functions; applies the difference
 * (server-side apply, field manager browserpool-operator); writes the status only when it changed; records
 * Events. Never throws for expected conditions (conflicts, missing objects); other errors are thrown after the
 * status says Degraded, so the queue retries with backoff.
 */
export class BrowserPoolReconciler {
  readonly #deps: ReconcilerDeps;
  readonly #clock: Clock;
  readonly #memory = new Map<string, PoolMemory>();
  /** Each pool's last round of gateway reads, by pool uid. */
  readonly #sessionSnapshots = new Map<string, SessionSnapshot>();
  readonly #resolver: OriginResolver;
  /** Pods (by owning pool uid, then name) that left the pods cache without being deleted: labels edited. */
  readonly #unlabelled = new Map<string, Map<string, { pod: V1Pod; at: number }>>();

  constructor(deps: ReconcilerDeps) {
    this.#deps = deps;
    this.#clock = deps.clock ?? realClock;
    this.#resolver = deps.resolver ?? dnsOriginResolver();
  }

  /** Reconciles the pool `namespace/name`; within `term`, every write is fenced and reads stop when it ends. */
  async reconcile(key: string, term?: ReconcileTerm): Promise<ReconcileResult> {
    const writer = term ? fencedWriter(this.#deps.writer, term.fence) : this.#deps.writer;
    const pool = this.#deps.caches.getPool(key);
    if (!pool) {
      await this.#cleanUpAfter(writer, key);
      const gone = this.#memory.get(key)?.uid;
      if (gone !== undefined) this.#sessionSnapshots.delete(gone);
      this.#memory.delete(key);
      poolMetricsOf(this.#deps).forget(key);
      return {};
    }
    if (pool.metadata.deletionTimestamp) return {};
    const log = this.#deps.logger.child({ namespace: pool.metadata.namespace, name: pool.metadata.name, pool: pool.metadata.name });
    const ref: PoolRef = {
      apiVersion: pool.apiVersion, kind: pool.kind, name: pool.metadata.name ?? '',
      namespace: pool.metadata.namespace ?? 'default', uid: pool.metadata.uid ?? '',
    };
    const memory = this.#memoryFor(key, ref.uid);
    const generation = pool.metadata.generation ?? 0;
    const now = new Date(this.#clock.now());

    const validation = validateSpec(ref.name, pool.spec);
    if (!validation.ok) {
      const browsers = this.#observe(ref.uid, memory, new Map(), pool.status);
      const status = computeStatus({ poolName: ref.name, generation, problems: validation.problems, browsers, previous: pool.status, now });
      if (statusChanged(pool.status, status)) await this.#writeStatus(writer, pool, status, log);
      if (memory.invalidGeneration !== generation) {
        memory.invalidGeneration = generation;
        log.warn('Rejected invalid BrowserPool spec', { generation, problems: validation.problems });
        await writer.event(pool, 'Warning', 'InvalidSpec', validation.problems.join('; '));
      }
      return {};
    }
    memory.invalidGeneration = undefined;
    const spec = validation.spec;
    const hash = specHash(ref.name, spec);

    let reconcileError: string | undefined;
    let failure: unknown;
    let token: string | undefined;
    try {
      token = await this.#ensureSecret(writer, pool, ref, memory, log);
      await this.#ensureNetworkPolicy(writer, pool, ref, spec, log);
      await this.#ensureEgressPolicy(writer, pool, ref, spec, log);
      await this.#restorePodLabels(writer, pool, ref, log);
    } catch (err) {
      if (!isConflict(err)) {
        failure = err;
        reconcileError = `Could not keep the token Secret, the NetworkPolicy or the browser pods' labels as declared: ${describeKubeError(err)}`;
      }
    }

    const [sessions, queued] = await Promise.all([
      this.#readSessions(ref.uid, spec.gateway.port, token, term?.signal),
      spec.autoscaling && this.#deps.demand
        ? this.#deps.demand.queued({ namespace: ref.namespace, selector: spec.access.podSelector ?? DEFAULT_CLIENT_SELECTOR }, term?.signal)
        : Promise.resolve(0),
    ]);
    const browsers = this.#observe(ref.uid, memory, sessions, pool.status);
    const window = spec.autoscaling?.scaleDownStabilizationWindowSeconds;
    if (window === undefined || memory.recommendationsTerm !== term?.fence) memory.recommendations = undefined;
    memory.recommendationsTerm = term?.fence;
    // A new term (a hand-over, an operator restart) has not seen the previous leader's recommendations: the count it
    // last wrote counts as recommended now, so the pool does not shrink before a whole window has passed.
    if (window !== undefined) {
      memory.recommendations ??= pool.status?.desiredReplicas !== undefined ? [{ atMs: now.getTime(), replicas: pool.status.desiredReplicas }] : [];
    }
    const plan = makePlan({
      poolName: ref.name, poolUid: ref.uid, spec, specHash: hash, browsers, now, nextSerial: memory.nextSerial, queued: queued ?? 0,
      ...(window !== undefined ? { recentRecommendations: recommendationsInWindow(memory.recommendations ?? [], now.getTime(), window) } : {}),
      ...(this.#deps.planOptions ? { options: this.#deps.planOptions } : {}),
    });
    if (window !== undefined) memory.recommendations = recordRecommendation(memory.recommendations ?? [], now.getTime(), window, plan.recommendedReplicas);

    if (!failure) {
      try {
        await this.#apply(writer, pool, ref, spec, plan, browsers, memory, now, log);
      } catch (err) {
        if (!isConflict(err)) {
          failure = err;
          reconcileError = `Could not apply the plan: ${describeKubeError(err)}`;
        }
      }
    }

    const status = computeStatus({
      poolName: ref.name, generation, spec, specHash: hash, browsers, plan, previous: pool.status, now,
      ...(reconcileError ? { reconcileError } : {}),
    });
    poolMetricsOf(this.#deps).observe(ref, plan.desiredReplicas, status.browsers ?? []);
    const present = new Set(browsers.map((b) => b.name));
    for (const name of memory.offered) if (!present.has(name)) memory.offered.delete(name);
    for (const b of status.browsers ?? []) if (b.state === 'Ready' || b.state === 'Draining') memory.offered.add(b.name);
    if (statusChanged(pool.status, status)) await this.#writeStatus(writer, pool, status, log);
    if (failure) throw failure;
    // Allowed origins' addresses are looked up again every minute.
    const wake = spec.egress.origins.length > 0 ? Math.min(plan.requeueAfterMs ?? EGRESS_REFRESH_MS, EGRESS_REFRESH_MS) : plan.requeueAfterMs;
    return wake !== undefined ? { requeueAfterMs: wake } : {};
  }

  #memoryFor(key: string, uid: string): PoolMemory {
    let m = this.#memory.get(key);
    if (!m || m.uid !== uid) {
      if (m) this.#sessionSnapshots.delete(m.uid);
      m = { uid, nextSerial: 0, expectedCreates: new Map(), expectedDeletes: new Map(), offered: new Set() };
      this.#memory.set(key, m);
    }
    return m;
  }

  #observe(uid: string, memory: PoolMemory, sessions: Map<string, GatewayLoad | undefined>, previous: BrowserPool['status']): ObservedBrowser[] {
    const nowMs = this.#clock.now();
    const offered = new Set(memory.offered);
    for (const x of previous?.browsers ?? []) if (x.state === 'Ready' || x.state === 'Draining') offered.add(x.name);
    const pods = this.#deps.caches.podsOwnedBy(uid);
    const seen = new Set(pods.map((p) => p.metadata?.name ?? ''));
    for (const [name, e] of memory.expectedCreates) {
      if (seen.has(name) || nowMs - e.at > EXPECTATION_TTL_MS) memory.expectedCreates.delete(name);
    }
    for (const [name, at] of memory.expectedDeletes) {
      if (!seen.has(name) || nowMs - at > EXPECTATION_TTL_MS) memory.expectedDeletes.delete(name);
    }
    const observed = pods.map((p) => {
      const b = observeBrowser(p, sessions.get(p.metadata?.name ?? ''));
      if (memory.expectedDeletes.has(b.name)) b.terminating = true;
      // Once offered to servers (Ready or Draining in the status), a browser may hold leases: drain, never just delete.
      if (offered.has(b.name)) b.everReady = true;
      return b;
    });
    // Pods whose labels were edited away are still browsers of the pool (their labels are being restored).
    for (const { pod } of this.#unlabelled.get(uid)?.values() ?? []) {
      if (!seen.has(pod.metadata?.name ?? '')) observed.push(observeBrowser(pod, sessions.get(pod.metadata?.name ?? '')));
    }
    for (const { pod, at } of memory.expectedCreates.values()) {
      const b = observeBrowser({ ...pod, metadata: { ...pod.metadata, creationTimestamp: new Date(at) } });
      observed.push(b);
    }
    for (const b of observed) if (b.serial !== undefined && b.serial + 1 > memory.nextSerial) memory.nextSerial = b.serial + 1;
    return observed;
  }

  /**
   * The loads of the pool's Ready and Draining browsers, all from one round of reads (see session-snapshot.ts): the
   * pool's last round while it is younger than the reuse period and covers every one of them, else a new round that
   * reads every gateway at once. A round is never topped up with a newer read of one browser, and is stamped with the
   * moment it was asked, not when its slowest answer came: summed, reads of different moments would count a lease
   * that moved between browsers twice.
   */
  async #readSessions(uid: string, port: number, token: string | undefined, signal?: AbortSignal): Promise<Map<string, GatewayLoad | undefined>> {
    const out = new Map<string, GatewayLoad | undefined>();
    if (!token) return out;
    const ttl = this.#deps.sessionTtlMs ?? 1000;
    const targets = this.#deps.caches.podsOwnedBy(uid)
      .filter((p) => !p.metadata?.deletionTimestamp && p.status?.podIP)
      .map((p) => observeBrowser(p))
      .filter((b) => b.ready || b.drainingSince)
      .map((b) => ({ name: b.name, endpoint: endpointOf(b, port), key: `${b.uid}|${endpointOf(b, port)}` }));
    let snapshot = this.#sessionSnapshots.get(uid);
    if (!snapshotServes(snapshot, targets.map((t) => t.key), this.#clock.now(), ttl)) {
      const askedAt = this.#clock.now();
      const loads = new Map(await Promise.all(targets.map(async (t) => [t.key, await this.#deps.sessions.read(t.endpoint, token, signal)] as const)));
      snapshot = { askedAt, loads };
      // Reads cut short by the end of the term are not kept for the next one.
      if (!signal?.aborted) this.#sessionSnapshots.set(uid, snapshot);
    }
    for (const t of targets) out.set(t.name, snapshot.loads.get(t.key));
    return out;
  }

  /**
   * Keeps the token Secret as declared. Missing: created, with the token last seen if there was one (a deleted
   * Secret comes back unchanged), else a new one. Present: its token is the pool's token (writing a new token into
   * it rotates it); its labels and owner reference are put back when edited, and a lost token is restored.
   */
  async #ensureSecret(writer: KubeWriter, pool: BrowserPool, ref: PoolRef, memory: PoolMemory, log: Logger): Promise<string | undefined> {
    const name = tokenSecretName(ref.name);
    let secret = this.#deps.caches.getSecret(`${ref.namespace}/${name}`);
    if (!secret) {
      const wanted = desiredSecret(ref, memory.token ?? generateToken());
      secret = await writer.createSecret(wanted);
      if (tokenOf(secret) === tokenOf(wanted)) {
        const restored = memory.token !== undefined;
        log.info(restored ? 'Restored the deleted CDP token Secret with the same token' : 'Created CDP token Secret', { secret: name });
        await writer.event(pool, restored ? 'Warning' : 'Normal', restored ? 'RestoredTokenSecret' : 'CreatedTokenSecret',
          restored ? `Secret ${name} was deleted; recreated it with the pool's CDP token` : `Created Secret ${name} with the pool's CDP token`);
      }
    }
    const ownedByOther = secret.metadata?.ownerReferences?.some((o) => o.controller && o.uid !== ref.uid) ?? false;
    const token = tokenOf(secret) ?? memory.token ?? generateToken();
    const declared = desiredSecret(ref, token);
    if (!ownedByOther && (!tokenOf(secret) || !holdsDeclared(declared.metadata, secret.metadata))) {
      await writer.apply(declared);
      log.warn('Restored the CDP token Secret as declared (labels, owner or token had been changed)', { secret: name });
      await writer.event(pool, 'Warning', 'RestoredTokenSecret', `Secret ${name} had been edited; put back its labels, owner reference and token`);
    }
    memory.token = token;
    secretRedactor.add(token);
    return token;
  }

  /** Keeps the pool's NetworkPolicy as declared: applied when missing or when any field it declares differs. */
  async #ensureNetworkPolicy(writer: KubeWriter, pool: BrowserPool, ref: PoolRef, spec: Parameters<typeof desiredNetworkPolicy>[1], log: Logger): Promise<void> {
    const np = desiredNetworkPolicy(ref, spec, this.#deps.operator);
    const name = np.metadata?.name ?? '';
    const current = this.#deps.caches.getNetworkPolicy(`${ref.namespace}/${name}`);
    if (current && holdsDeclared(np, current)) return;
    await writer.apply(np);
    if (current) {
      log.warn('Restored the NetworkPolicy as declared (it had been edited)', { networkPolicy: name });
      await writer.event(pool, 'Warning', 'RestoredNetworkPolicy', `NetworkPolicy ${name} had been edited; put it back as declared`);
    }
  }

  /**
   * Keeps the pool's egress NetworkPolicy as declared: DNS plus the allowed origins' current addresses on their
   * ports. Applied when missing, edited, or when an origin's addresses changed.
   */
  async #ensureEgressPolicy(writer: KubeWriter, pool: BrowserPool, ref: PoolRef, spec: ResolvedPoolSpec, log: Logger): Promise<void> {
    const resolver = this.#resolver;
    const origins = await Promise.all(spec.egress.origins.map(async (o) => ({ origin: o.origin, port: o.port, addresses: await resolver.addresses(o.host) })));
    for (const o of origins) if (o.addresses.length === 0) log.warn('An allowed origin does not resolve; the browsers cannot reach it', { origin: o.origin });
    const np = desiredEgressPolicy(ref, origins, this.#deps.dns ?? DEFAULT_DNS_PEER);
    const name = np.metadata?.name ?? '';
    const current = this.#deps.caches.getNetworkPolicy(`${ref.namespace}/${name}`);
    if (current && holdsDeclared(np, current)) return;
    await writer.apply(np);
    if (current) log.info('Updated the egress NetworkPolicy (edited, or the allowed origins\' addresses changed)', { networkPolicy: name });
  }

  /** Records a pod of a pool that left the pods cache without being deleted (its labels were edited). */
  noticeUnlabelledPod(pod: V1Pod): void {
    const owner = pod.metadata?.ownerReferences?.find((o) => o.controller && o.kind === BROWSERPOOL_KIND);
    const name = pod.metadata?.name;
    if (!owner || !name) return;
    const pods = this.#unlabelled.get(owner.uid) ?? new Map<string, { pod: V1Pod; at: number }>();
    pods.set(name, { pod, at: this.#clock.now() });
    this.#unlabelled.set(owner.uid, pods);
  }

  /** Puts the pool's labels back on its pods (the NetworkPolicy and the servers select browsers by them). */
  async #restorePodLabels(writer: KubeWriter, pool: BrowserPool, ref: PoolRef, log: Logger): Promise<void> {
    const labels = poolLabels(ref.name);
    const cached = this.#deps.caches.podsOwnedBy(ref.uid);
    const seen = new Set(cached.map((p) => p.metadata?.name));
    const unlabelled = this.#unlabelled.get(ref.uid);
    const nowMs = this.#clock.now();
    for (const [name, e] of unlabelled ?? []) if (seen.has(name) || nowMs - e.at > EXPECTATION_TTL_MS) unlabelled?.delete(name);
    const candidates = [
      ...cached.filter((p) => !p.metadata?.deletionTimestamp && missingLabels(labels, p.metadata?.labels).length > 0),
      ...[...(unlabelled?.values() ?? [])].map((e) => e.pod),
    ];
    for (const pod of candidates) {
      const name = pod.metadata?.name ?? '';
      const missing = missingLabels(labels, pod.metadata?.labels);
      if (!(await writer.labelPod(ref.namespace, name, labels))) {
        unlabelled?.delete(name);
        continue;
      }
      const what = missing.length > 0 ? missing.join(', ') : 'the operator lost sight of it';
      log.warn('Restored the labels of a browser pod', { pod: name, labels: what });
      await writer.event(pool, 'Warning', 'RestoredPodLabels', `Pod ${name} had its labels edited (${what}); put them back`);
    }
  }

  async #apply(
    writer: KubeWriter, pool: BrowserPool, ref: PoolRef, spec: Parameters<typeof desiredPod>[1], plan: Plan, browsers: ObservedBrowser[],
    memory: PoolMemory, now: Date, log: Logger,
  ): Promise<void> {
    const errors: unknown[] = [];
    const run = async (fn: () => Promise<void>): Promise<void> => {
      try {
        await fn();
      } catch (err) {
        errors.push(err);
      }
    };
    await Promise.all([
      ...plan.create.map((c) => run(async () => {
        const pod = desiredPod(ref, spec, c.serial);
        memory.expectedCreates.set(c.name, { pod, at: this.#clock.now() });
        try {
          await writer.apply(pod);
        } catch (err) {
          memory.expectedCreates.delete(c.name);
          throw err;
        }
        // Only a created pod uses up its serial: a refused create is retried under the same name, so the status
        // message (which names the pod) stays the same and its write cannot wake this pool again at once.
        memory.nextSerial = Math.max(memory.nextSerial, c.serial + 1);
        log.info('Created browser pod', { pod: c.name, serial: c.serial });
        await writer.event(pool, 'Normal', 'CreatedBrowser', `Created browser pod ${c.name}`);
      })),
      ...plan.drain.map((d) => run(async () => {
        const ok = await writer.annotatePod(ref.namespace, d.name, {
          [ANNOTATION_DRAINING_SINCE]: now.toISOString(),
          [ANNOTATION_DRAIN_REASON]: d.reason,
        });
        if (!ok) return;
        poolMetricsOf(this.#deps).drained(ref, d.reason);
        const b = browsers.find((x) => x.name === d.name);
        log.info('Marked browser pod Draining', { pod: d.name, reason: d.reason, sessions: b?.sessions });
        await writer.event(pool, 'Normal', 'DrainingBrowser', `Draining browser pod ${d.name} (${d.reason}); ${b?.sessions ?? 'unknown'} leased sessions`);
      })),
      ...plan.undrain.map((u) => run(async () => {
        const ok = await writer.annotatePod(ref.namespace, u.name, { [ANNOTATION_DRAINING_SINCE]: null, [ANNOTATION_DRAIN_REASON]: null });
        if (!ok) return;
        log.info('Returned a draining browser pod to Ready: demand needs it again', { pod: u.name, sessions: u.sessions });
        await writer.event(pool, 'Normal', 'ReturnedBrowser',
          `Returned browser pod ${u.name} from Draining to Ready (demand rose again); ${u.sessions} leased sessions`);
      })),
      ...plan.delete.map((d) => run(async () => {
        const ok = await writer.deletePod(ref.namespace, d.name, d.uid);
        memory.expectedDeletes.set(d.name, this.#clock.now());
        if (!ok) return;
        poolMetricsOf(this.#deps).deleted(ref, d.reason);
        log.info('Deleted browser pod', { pod: d.name, reason: d.reason });
        await writer.event(pool, 'Normal', 'DeletedBrowser', `Deleted browser pod ${d.name} (${d.reason})`);
      })),
    ]);
    const first = errors.find((e) => !isConflict(e));
    if (first) throw first;
    if (errors.length > 0) throw errors[0];
  }

  async #writeStatus(writer: KubeWriter, pool: BrowserPool, status: NonNullable<BrowserPool['status']>, log: Logger): Promise<void> {
    try {
      await writer.writeStatus(pool, status);
    } catch (err) {
      if (isNotFound(err)) return; // the pool was deleted meanwhile: nothing to report
      log.warn('Failed to write BrowserPool status', { error: describeKubeError(err) });
      throw err;
    }
  }

  /** After a pool is gone: delete what it owned (there may be no garbage collector, as in tests). */
  async #cleanUpAfter(writer: KubeWriter, key: string): Promise<void> {
    const slash = key.indexOf('/');
    const namespace = slash < 0 ? 'default' : key.slice(0, slash);
    const name = slash < 0 ? key : key.slice(slash + 1);
    const live = new Set(this.#deps.caches.listPools().map((p) => p.metadata.uid));
    const orphans = this.#deps.caches.podsLabelled(namespace, name).filter((p) => {
      const owner = p.metadata?.ownerReferences?.find((o) => o.controller);
      return owner !== undefined && !live.has(owner.uid) && !p.metadata?.deletionTimestamp;
    });
    for (const pod of orphans) {
      if (await writer.deletePod(namespace, pod.metadata?.name ?? '', pod.metadata?.uid ?? '')) {
        this.#deps.logger.info('Deleted orphaned browser pod', { namespace, pool: name, pod: pod.metadata?.name });
      }
    }
    const memory = this.#memory.get(key);
    if (memory || orphans.length > 0) {
      const children: KubernetesObject[] = [
        { apiVersion: 'v1', kind: 'Secret', metadata: { name: tokenSecretName(name), namespace } },
        { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: networkPolicyName(name), namespace } },
        { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: egressPolicyName(name), namespace } },
      ];
      const secret = this.#deps.caches.getSecret(`${namespace}/${tokenSecretName(name)}`);
      const secretOwner = secret?.metadata?.ownerReferences?.find((o) => o.controller)?.uid;
      for (const child of children) {
        if (child.kind === 'Secret' && (!secret || (secretOwner && live.has(secretOwner)))) continue;
        await writer.deleteObject(child).catch(() => false);
      }
    }
  }
}
