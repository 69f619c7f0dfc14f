import { expect } from 'chai';
import { CoreV1Api, RbacAuthorizationV1Api, type KubeConfig } from '@kubernetes/client-node';
import {
  createTestNamespace,
  eventually,
  expectApiFailure,
  sharedKubeConfig,
  type TestNamespace,
} from '#support/control-plane/kube-test-kit.ts';
import { sharedControlPlane } from '#support/control-plane/shared.ts';

describe('Test control plane: users and RBAC', function () {
  this.timeout(60_000);
  let admin: KubeConfig;
  let ns: TestNamespace;

  before(async () => {
    admin = sharedKubeConfig();
    ns = await createTestNamespace(admin, 'cp-rbac');
    await admin.makeApiClient(CoreV1Api).createNamespacedConfigMap({ namespace: ns.name, body: { metadata: { name: 'visible' } } });
    await admin.makeApiClient(RbacAuthorizationV1Api).createNamespacedRole({
      namespace: ns.name,
      body: { metadata: { name: 'configmap-reader' }, rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list'] }] },
    });
  });

  after(async () => {
    await ns?.remove();
  });

  it('authenticates a second user by client certificate: 403 without RBAC, allowed after a RoleBinding', async () => {
    const alice = sharedKubeConfig(await sharedControlPlane().kubeconfigFor('alice'));
    const core = alice.makeApiClient(CoreV1Api);
    const denied = await expectApiFailure(core.listNamespacedConfigMap({ namespace: ns.name }));
    expect(denied.status).to.equal(403);
    expect(denied.message).to.contain('User "alice" cannot list resource "configmaps"');

    await admin.makeApiClient(RbacAuthorizationV1Api).createNamespacedRoleBinding({
      namespace: ns.name,
      body: {
        metadata: { name: 'alice-reads-configmaps' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'configmap-reader' },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'alice' }],
      },
    });
    let names: string[] = [];
    await eventually(async () => {
      names = await core.listNamespacedConfigMap({ namespace: ns.name })
        .then((list) => list.items.map((cm) => cm.metadata?.name ?? ''), () => []);
      return names.includes('visible');
    }, 10_000, 'alice can list configmaps after the RoleBinding');
    // Still only what the Role grants.
    const write = await expectApiFailure(core.createNamespacedConfigMap({ namespace: ns.name, body: { metadata: { name: 'nope' } } }));
    expect(write.status).to.equal(403);
  });

  it('carries groups from the certificate organisation: a binding to the group grants its members', async () => {
    const bob = sharedKubeConfig(await sharedControlPlane().kubeconfigFor('bob', ['qa-team']));
    const core = bob.makeApiClient(CoreV1Api);
    expect((await expectApiFailure(core.listNamespacedConfigMap({ namespace: ns.name }))).status).to.equal(403);
    await admin.makeApiClient(RbacAuthorizationV1Api).createNamespacedRoleBinding({
      namespace: ns.name,
      body: {
        metadata: { name: 'qa-reads-configmaps' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'configmap-reader' },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'qa-team' }],
      },
    });
    await eventually(() => core.listNamespacedConfigMap({ namespace: ns.name }).then(() => true, () => false),
      10_000, 'bob (group qa-team) can list configmaps');
  });

  it('rejects a user name a certificate cannot carry, saying what is allowed', async () => {
    let error: Error | undefined;
    await sharedControlPlane().kubeconfigFor('alice/../root').catch((e: Error) => (error = e));
    expect(error?.message).to.contain('Invalid user name "alice/../root"');
  });
});
