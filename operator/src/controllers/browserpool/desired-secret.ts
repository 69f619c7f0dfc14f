import { randomBytes } from 'node:crypto';
import type { V1Secret } from '@kubernetes/client-node';
import { ownerReference, type PoolRef } from './desired-pods.ts';
import { TOKEN_KEY, poolLabels, tokenOf, tokenSecretName } from '#kube/api/v1alpha1/contract.ts';

/** A new CDP token: 32 random bytes, base64url. */
export function generateToken(random: (n: number) => Buffer = randomBytes): string {
  return random(32).toString('base64url');
}

/**
 * The token Secret the pool needs, or undefined when `existing` already holds a token: a token is generated once
 * and never regenerated unless its Secret is deleted. The caller creates (never updates) what this returns.
 */
export function desiredSecret(pool: PoolRef, existing: V1Secret | undefined, random?: (n: number) => Buffer): V1Secret | undefined {
  if (tokenOf(existing) !== undefined) return undefined;
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'Opaque',
    metadata: {
      name: tokenSecretName(pool.name),
      namespace: pool.namespace,
      labels: poolLabels(pool.name),
      ownerReferences: [ownerReference(pool)],
    },
    data: { [TOKEN_KEY]: Buffer.from(generateToken(random), 'utf8').toString('base64') },
  };
}
