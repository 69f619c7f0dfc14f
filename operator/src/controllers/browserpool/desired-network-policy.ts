import type { V1LabelSelector, V1NetworkPolicy, V1NetworkPolicyPeer } from '@kubernetes/client-node';
import { ownerReference, type PoolRef } from './desired-pods.ts';
import type { ResolvedPoolSpec } from './validate-spec.ts';
import { networkPolicyName, podSelectorLabels, poolLabels } from './names.ts';

/** Where the operator's own pods run, so the policy lets them read the gateways' /status. */
export interface OperatorIdentity {
  /** Namespace of the operator pods. */
  namespace: string;
  /** Labels of the operator pods. */
  podLabels: Record<string, string>;
}

/**
 * The pool's NetworkPolicy: ingress to the browser pods only on the gateway port, only from pods matching
 * `spec.access.podSelector` (in the pool's namespace; every pod of that namespace when unset, the token still
 * being required) and from the operator's pods.
 */
export function desiredNetworkPolicy(pool: PoolRef, spec: ResolvedPoolSpec, operator?: OperatorIdentity): V1NetworkPolicy {
  const clients: V1LabelSelector = spec.access.podSelector ?? {};
  const from: V1NetworkPolicyPeer[] = [{ podSelector: clients }];
  if (operator) {
    from.push({
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': operator.namespace } },
      podSelector: { matchLabels: { ...operator.podLabels } },
    });
  }
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: {
      name: networkPolicyName(pool.name),
      namespace: pool.namespace,
      labels: poolLabels(pool.name),
      ownerReferences: [ownerReference(pool)],
    },
    spec: {
      podSelector: { matchLabels: podSelectorLabels(pool.name) },
      policyTypes: ['Ingress'],
      ingress: [{ _from: from, ports: [{ protocol: 'TCP', port: spec.gateway.port }] }],
    },
  };
}
