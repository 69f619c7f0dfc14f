import { isIPv6 } from 'node:net';
import type { V1NetworkPolicy, V1NetworkPolicyEgressRule } from '@kubernetes/client-node';
import { podSelectorLabels, poolLabels } from '#kube/api/v1alpha1/contract.ts';
import { ownerReference, type PoolRef } from './desired-pods.ts';
import { egressPolicyName } from './names.ts';

/** Where the cluster's DNS pods run (the browsers may reach them on port 53). */
export interface DnsPeer {
  namespace: string;
  podLabels: Record<string, string>;
}

/** An allowed origin with its host's current addresses. */
export interface ResolvedOrigin {
  origin: string;
  port: number;
  addresses: string[];
}

/**
 * The pool's egress NetworkPolicy: the browser pods may reach the DNS pods (UDP and TCP 53) and, for each allowed
 * origin, its host's addresses (single-address blocks) on its port over TCP; nothing else (no QUIC, no other
 * ports, never 0.0.0.0/0). Pure: the caller resolves the addresses.
 */
export function desiredEgressPolicy(pool: PoolRef, origins: ResolvedOrigin[], dns: DnsPeer): V1NetworkPolicy {
  const egress: V1NetworkPolicyEgressRule[] = [{
    to: [{
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': dns.namespace } },
      podSelector: { matchLabels: { ...dns.podLabels } },
    }],
    ports: [{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }],
  }];
  const byPort = new Map<number, Set<string>>();
  for (const o of origins) {
    const set = byPort.get(o.port) ?? new Set<string>();
    for (const a of o.addresses) set.add(a);
    byPort.set(o.port, set);
  }
  for (const [port, addresses] of [...byPort].toSorted(([a], [b]) => a - b)) {
    if (addresses.size === 0) continue;
    egress.push({
      to: [...addresses].toSorted().map((a) => ({ ipBlock: { cidr: isIPv6(a) ? `${a}/128` : `${a}/32` } })),
      ports: [{ protocol: 'TCP', port }],
    });
  }
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: {
      name: egressPolicyName(pool.name),
      namespace: pool.namespace,
      labels: poolLabels(pool.name),
      ownerReferences: [ownerReference(pool)],
    },
    spec: {
      podSelector: { matchLabels: podSelectorLabels(pool.name) },
      policyTypes: ['Egress'],
      egress,
    },
  };
}
