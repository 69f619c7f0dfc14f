/**
 * Every (verb, resource) the operator and the server use on the Kubernetes API, with where in the code; the chart's
 * Roles/ClusterRoles must grant exactly these (rbac.test.ts compares them) and the recording proxy checks the
 * processes really use them. `exercisedByScenario: false` marks calls only made on rare paths, with the reason.
 * Keep in step with operator/src (kube-writer.ts, controller.ts informers), kube/src/runtime/lease-store.ts and
 * server/src/browsers/kubernetes-source.ts, server/src/composer/storage/kubernetes-idempotency-store.ts.
 */
export interface UsedApiCall {
  verb: string;
  /** `group/resource[/subresource]`, core group as `core`. */
  resource: string;
  where: string;
  /** False when the integration scenario cannot provoke it; then `why` says when the code makes it. */
  exercisedByScenario: boolean;
  why?: string;
}

/** The operator's calls in the namespaces it watches (ClusterRole, or Role when one namespace is watched). */
export const OPERATOR_POOL_CALLS: UsedApiCall[] = [
  { verb: 'list', resource: 'browser.composer-mcp.io/browserpools', where: 'controller.ts pools informer', exercisedByScenario: true },
  { verb: 'watch', resource: 'browser.composer-mcp.io/browserpools', where: 'controller.ts pools informer', exercisedByScenario: true },
  { verb: 'patch', resource: 'browser.composer-mcp.io/browserpools/status', where: 'kube-writer.ts writeStatus (server-side apply)', exercisedByScenario: true },
  { verb: 'list', resource: 'core/pods', where: 'controller.ts pods informer', exercisedByScenario: true },
  { verb: 'watch', resource: 'core/pods', where: 'controller.ts pods informer', exercisedByScenario: true },
  { verb: 'create', resource: 'core/pods', where: 'kube-writer.ts apply (server-side apply creating a browser pod)', exercisedByScenario: true },
  { verb: 'patch', resource: 'core/pods', where: 'kube-writer.ts apply, annotatePod and labelPod', exercisedByScenario: true },
  { verb: 'delete', resource: 'core/pods', where: 'kube-writer.ts deletePod (scale down, drained, orphans)', exercisedByScenario: true },
  { verb: 'list', resource: 'core/secrets', where: 'controller.ts token Secret informer', exercisedByScenario: true },
  { verb: 'watch', resource: 'core/secrets', where: 'controller.ts token Secret informer', exercisedByScenario: true },
  { verb: 'create', resource: 'core/secrets', where: 'kube-writer.ts createSecret', exercisedByScenario: true },
  {
    verb: 'patch', resource: 'core/secrets', where: 'kube-writer.ts apply (restoring an edited token Secret)', exercisedByScenario: false,
    why: 'only after someone edited the token Secret (its labels, owner or token); test/integration/operator/owned-objects.test.ts does',
  },
  {
    verb: 'get', resource: 'core/secrets', where: 'kube-writer.ts createSecret', exercisedByScenario: false,
    why: 'read back only when create answers AlreadyExists (a Secret created between the cache read and the create)',
  },
  {
    verb: 'delete', resource: 'core/secrets', where: 'reconciler.ts cleanUpAfter', exercisedByScenario: false,
    why: 'only for a token Secret left without a live owner after its pool is gone (the garbage collector usually wins)',
  },
  { verb: 'list', resource: 'networking.k8s.io/networkpolicies', where: 'controller.ts NetworkPolicy informer (restores edits)', exercisedByScenario: true },
  { verb: 'watch', resource: 'networking.k8s.io/networkpolicies', where: 'controller.ts NetworkPolicy informer (restores edits)', exercisedByScenario: true },
  { verb: 'create', resource: 'networking.k8s.io/networkpolicies', where: 'kube-writer.ts apply (server-side apply creating the pool NetworkPolicy)', exercisedByScenario: true },
  { verb: 'patch', resource: 'networking.k8s.io/networkpolicies', where: 'kube-writer.ts apply', exercisedByScenario: true },
  { verb: 'delete', resource: 'networking.k8s.io/networkpolicies', where: 'reconciler.ts cleanUpAfter', exercisedByScenario: true },
  { verb: 'create', resource: 'core/events', where: 'kube-writer.ts event', exercisedByScenario: true },
];

/** The operator's leader-election calls on its Lease in the release namespace. */
export const OPERATOR_LEASE_CALLS: UsedApiCall[] = [
  { verb: 'get', resource: 'coordination.k8s.io/leases', where: 'kube/src/runtime/lease-store.ts get', exercisedByScenario: true },
  { verb: 'create', resource: 'coordination.k8s.io/leases', where: 'kube/src/runtime/lease-store.ts create', exercisedByScenario: true },
  { verb: 'update', resource: 'coordination.k8s.io/leases', where: 'kube/src/runtime/lease-store.ts update (renew, release)', exercisedByScenario: true },
];

/** The server's calls in the pool's namespace (name-selected informers of one BrowserPool and its token Secret). */
export const SERVER_CALLS: UsedApiCall[] = [
  { verb: 'list', resource: 'browser.composer-mcp.io/browserpools', where: 'kubernetes-source.ts pool informer', exercisedByScenario: true },
  { verb: 'watch', resource: 'browser.composer-mcp.io/browserpools', where: 'kubernetes-source.ts pool informer', exercisedByScenario: true },
  { verb: 'list', resource: 'core/secrets', where: 'kubernetes-source.ts token informer', exercisedByScenario: true },
  { verb: 'watch', resource: 'core/secrets', where: 'kubernetes-source.ts token informer', exercisedByScenario: true },
];

/**
 * The server's idempotency store (server/src/composer/storage/kubernetes-idempotency-store.ts) in its own namespace:
 * the `-idempotency` Role. The chart scenario runs the server without Composer credentials, so no store is built.
 */
export const SERVER_IDEMPOTENCY_CALLS: UsedApiCall[] = [
  { verb: 'create', resource: 'core/configmaps', where: 'kubernetes-idempotency-store.ts claim (create-if-absent) and set', exercisedByScenario: false, why: 'only on a save, which needs Composer credentials (test/integration/composer/idempotency-across-replicas.test.ts exercises it)' },
  { verb: 'get', resource: 'core/configmaps', where: 'kubernetes-idempotency-store.ts read (claim held by another replica, get)', exercisedByScenario: false, why: 'only on a save (see create)' },
  { verb: 'update', resource: 'core/configmaps', where: 'kubernetes-idempotency-store.ts set (uid into the claim) and stale-claim takeover', exercisedByScenario: false, why: 'only on a save (see create)' },
  { verb: 'delete', resource: 'core/configmaps', where: 'kubernetes-idempotency-store.ts release (failed upload) and sweep (expired records)', exercisedByScenario: false, why: 'only on a failed save or an expired record (see create)' },
  { verb: 'list', resource: 'core/configmaps', where: 'kubernetes-idempotency-store.ts sweep and the record count of the cap', exercisedByScenario: false, why: 'the store, and so its sweep, runs only with Composer credentials (see create)' },
];

/** `verb resource` keys of an RBAC rule list (apiGroups × resources × verbs), core group as `core`. */
export function grantedPairs(rules: Array<{ apiGroups?: string[]; resources?: string[]; verbs: string[] }>): string[] {
  const out = new Set<string>();
  for (const rule of rules) {
    for (const group of rule.apiGroups ?? ['']) {
      for (const resource of rule.resources ?? []) {
        for (const verb of rule.verbs) out.add(`${verb} ${group || 'core'}/${resource}`);
      }
    }
  }
  return [...out].toSorted();
}

/** `verb resource` keys of a call list. */
export function callPairs(calls: Array<{ verb: string; resource: string }>): string[] {
  return [...new Set(calls.map((c) => `${c.verb} ${c.resource}`))].toSorted();
}
