import type { V1LabelSelector, V1NetworkPolicy, V1NetworkPolicyPeer } from '@kubernetes/client-node';
import { ownerReference, type PoolRef } from './desired-pods.ts';
import type { ResolvedPoolSpec } from './validate-spec.ts';
import { SERVER_APP_NAME, LABEL_NAME, podSelectorLabels, poolLabels } from '#kube/api/v1alpha1/contract.ts';
import { networkPolicyName } from './names.ts';

/** Where the operator's own pods run, so the policy lets them read the gateways' /status. */
export interface OperatorIdentity {
  /** Namespace of the operator pods. */
  namespace: string;
  /** Labels of the operator pods. */
  podLabels: Record<string, string>;
}

/** Pods admitted when `spec.access.podSelector` is unset: the composer-mcp server pods of the chart. */
export const DEFAULT_CLIENT_SELECTOR: V1LabelSelector = { matchLabels: { [LABEL_NAME]: SERVER_APP_NAME } };

/**
 * The pool's NetworkPolicy: ingress to the browser pods only on the gateway port, only from pods (in the pool's
 * namespace) matching `spec.access.podSelector` (default: the composer-mcp server pods) and from the operator's pods.
 */
export function desiredNetworkPolicy(pool: PoolRef, spec: ResolvedPoolSpec, operator?: OperatorIdentity): V1NetworkPolicy {
  const clients: V1LabelSelector = spec.access.podSelector ?? DEFAULT_CLIENT_SELECTOR;
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
