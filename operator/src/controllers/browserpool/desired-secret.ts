import { randomBytes } from 'node:crypto';
import type { V1Secret } from '@kubernetes/client-node';
import { ownerReference, type PoolRef } from './desired-pods.ts';
import { TOKEN_KEY, poolLabels, tokenSecretName } from '#kube/api/v1alpha1/contract.ts';

/** A new CDP token: 32 random bytes, base64url. */
export function generateToken(random: (n: number) => Buffer = randomBytes): string {
  return random(32).toString('base64url');
}

/**
 * The pool's token Secret holding `token`: labels and owner reference as every pool object, the token under
 * `token`. The reconciler decides the token (see `#ensureSecret`): the one stored, else the one it remembers (a
 * deleted Secret comes back with the same token, so gateways and servers keep working), else a new one.
 */
export function desiredSecret(pool: PoolRef, token: string): V1Secret {
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
    data: { [TOKEN_KEY]: Buffer.from(token, 'utf8').toString('base64') },
  };
}
