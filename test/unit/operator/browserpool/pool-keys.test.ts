import { expect } from 'chai';
import type { KubernetesObject } from '@kubernetes/client-node';
import { poolKeysFor } from '#operator/controllers/browserpool/pool-keys.ts';

function child(name: string, options: { owner?: string; controller?: boolean; ownerKind?: string; poolLabel?: string; namespace?: string } = {}): KubernetesObject {
  const metadata: NonNullable<KubernetesObject['metadata']> = { name, namespace: options.namespace ?? 'team-a' };
  if (options.owner) {
    metadata.ownerReferences = [{
      apiVersion: 'browser.composer-mcp.io/v1alpha1', kind: options.ownerKind ?? 'BrowserPool', name: options.owner,
      uid: `uid-${options.owner}`, controller: options.controller ?? true,
    }];
  }
  if (options.poolLabel) metadata.labels = { 'browser.composer-mcp.io/pool': options.poolLabel };
  return { apiVersion: 'v1', kind: 'Pod', metadata };
}

describe('poolKeysFor (which pool a Pod or Secret event wakes)', () => {
  it('wakes the BrowserPool that controls the object', () => {
    expect(poolKeysFor({ type: 'add', object: child('p-0', { owner: 'pool', poolLabel: 'pool' }) })).to.deep.equal(['team-a/pool']);
    expect(poolKeysFor({ type: 'delete', object: child('p-0', { owner: 'pool' }) })).to.deep.equal(['team-a/pool']);
  });

  it('falls back to the pool label when no BrowserPool controls the object', () => {
    expect(poolKeysFor({ type: 'add', object: child('orphan', { poolLabel: 'pool' }) })).to.deep.equal(['team-a/pool']);
    expect(poolKeysFor({ type: 'add', object: child('adopted', { owner: 'rs', ownerKind: 'ReplicaSet', poolLabel: 'pool' }) })).to.deep.equal(['team-a/pool']);
    expect(poolKeysFor({ type: 'add', object: child('not-controller', { owner: 'other', controller: false, poolLabel: 'pool' }) })).to.deep.equal(['team-a/pool']);
  });

  it('wakes nothing for an object with neither owner nor label, or without a namespace', () => {
    expect(poolKeysFor({ type: 'add', object: child('stray') })).to.deep.equal([]);
    const clusterScoped: KubernetesObject = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'x', labels: { 'browser.composer-mcp.io/pool': 'pool' } } };
    expect(poolKeysFor({ type: 'add', object: clusterScoped })).to.deep.equal([]);
  });

  it('on an update wakes both the old and the new pool, once each', () => {
    const moved = poolKeysFor({ type: 'update', object: child('p-0', { poolLabel: 'new' }), old: child('p-0', { poolLabel: 'old' }) });
    expect(moved.toSorted()).to.deep.equal(['team-a/new', 'team-a/old']);
    const same = poolKeysFor({ type: 'update', object: child('p-0', { owner: 'pool' }), old: child('p-0', { owner: 'pool' }) });
    expect(same).to.deep.equal(['team-a/pool']);
  });
});
