import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import { ApiextensionsV1Api, type KubeConfig, type V1CustomResourceDefinition } from '@kubernetes/client-node';
import { applyBrowserPoolCrd, isEstablished } from '#support/kube/browserpool-crd.ts';
import { BROWSERPOOL_CRD_NAME, BROWSERPOOL_GROUP, BROWSERPOOL_KIND, BROWSERPOOL_PLURAL, BROWSERPOOL_VERSION } from '#kube/api/v1alpha1/browserpool.ts';
import { sharedKubeConfig } from '#support/control-plane/kube-test-kit.ts';
import { kubectl } from '#support/control-plane/kubectl.ts';
import { sharedControlPlane } from '#support/control-plane/shared.ts';

/** kubectl explain wraps descriptions; compare with whitespace collapsed. */
function flat(text: string): string {
  return text.replace(/\s+/g, ' ');
}

describe('BrowserPool CRD installation (real kube-apiserver)', function () {
  this.timeout(60_000);
  let kc: KubeConfig;
  let crd: V1CustomResourceDefinition;

  before(async () => {
    kc = sharedKubeConfig();
    crd = await applyBrowserPoolCrd(kc);
  });

  it('becomes Established and is served under browser.composer-mcp.io/v1alpha1', async () => {
    expect(isEstablished(crd)).to.equal(true);
    const stored = await kc.makeApiClient(ApiextensionsV1Api).readCustomResourceDefinition({ name: BROWSERPOOL_CRD_NAME });
    expect(stored.spec.group).to.equal(BROWSERPOOL_GROUP);
    expect(stored.spec.names).to.include({ kind: BROWSERPOOL_KIND, plural: BROWSERPOOL_PLURAL });
    expect(stored.spec.names.shortNames).to.deep.equal(['bp']);
    expect(stored.spec.names.categories).to.deep.equal(['composer-mcp']);
    const version = stored.spec.versions.find((v) => v.name === BROWSERPOOL_VERSION);
    expect(version?.served).to.equal(true);
    expect(version?.subresources?.scale).to.deep.equal({
      specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', labelSelectorPath: '.status.selector',
    });
    expect(version?.subresources?.status).to.deep.equal({});
  });

  it('applies again without error (server-side apply is idempotent)', async () => {
    const again = await applyBrowserPoolCrd(kc);
    expect(again.metadata?.uid).to.equal(crd.metadata?.uid);
  });

  it('teaches the resource through kubectl explain (descriptions on spec fields)', async () => {
    const kubeconfig = sharedControlPlane().kubeconfigPath;
    // The OpenAPI v3 document kubectl explain reads is published a moment after the CRD is Established.
    let spec = await kubectl(['explain', 'browserpool.spec'], kubeconfig);
    for (let attempt = 0; spec.code !== 0 && attempt < 40; attempt++) {
      await sleep(250);
      spec = await kubectl(['explain', 'browserpool.spec'], kubeconfig);
    }
    expect(spec.code, spec.stderr).to.equal(0);
    expect(flat(spec.stdout)).to.contain('Desired state of the pool');
    for (const field of ['replicas', 'autoscaling', 'maxSessionsPerBrowser', 'browser', 'gateway', 'recycle', 'scheduling', 'access']) {
      expect(spec.stdout).to.match(new RegExp(`^  ${field}\\t`, 'm'));
    }
    expect(flat(spec.stdout)).to.contain('Number of browsers (pods) to keep running');

    const autoscaling = await kubectl(['explain', 'bp.spec.autoscaling'], kubeconfig);
    expect(autoscaling.code, autoscaling.stderr).to.equal(0);
    expect(flat(autoscaling.stdout)).to.contain('Built-in demand-driven autoscaling');
    expect(flat(autoscaling.stdout)).to.contain('the pool scales to zero and the first lease afterwards waits for a browser to start');
    const minIdle = await kubectl(['explain', 'bp.spec.autoscaling.minIdle'], kubeconfig);
    expect(minIdle.code, minIdle.stderr).to.equal(0);
    expect(flat(minIdle.stdout)).to.contain('Ready browsers kept idle on top of the ones demand needs');
    expect(flat(minIdle.stdout)).to.contain('Default 1');
    const window = await kubectl(['explain', 'bp.spec.autoscaling.scaleDownStabilizationWindowSeconds'], kubeconfig);
    expect(window.code, window.stderr).to.equal(0);
    expect(flat(window.stdout)).to.contain('the pool scales down only to the highest number of browsers demand asked for within this many seconds');
    expect(flat(window.stdout)).to.contain('Default 60');

    const recycle = await kubectl(['explain', 'bp.spec.recycle'], kubeconfig);
    expect(recycle.code, recycle.stderr).to.equal(0);
    expect(flat(recycle.stdout)).to.contain('is first marked Draining (no new sessions)');
    expect(recycle.stdout).to.contain('drainTimeoutSeconds');
    expect(flat(recycle.stdout)).to.contain('Longest time in seconds a draining browser is kept');
    for (const field of ['maxLeases', 'maxMemory']) expect(recycle.stdout).to.match(new RegExp(`^  ${field}\\t`, 'm'));
    expect(flat(recycle.stdout)).to.contain('Leases a browser serves before it is drained and replaced');
    expect(flat(recycle.stdout)).to.contain('Resident memory (the gateway\'s rssBytes) beyond which a browser is drained');

    const browsers = await kubectl(['explain', 'browserpool.status.browsers.state'], kubeconfig);
    expect(browsers.code, browsers.stderr).to.equal(0);
    expect(flat(browsers.stdout)).to.contain('Draining (finishing its sessions, takes no new ones)');
  });

  it('lists BrowserPools under the composer-mcp category and the bp short name', async () => {
    const kubeconfig = sharedControlPlane().kubeconfigPath;
    const resources = await kubectl(['api-resources', '--categories=composer-mcp', '-o', 'name'], kubeconfig);
    expect(resources.code, resources.stderr).to.equal(0);
    expect(resources.stdout.trim().split('\n')).to.deep.equal([`${BROWSERPOOL_PLURAL}.${BROWSERPOOL_GROUP}`]);
    const byShortName = await kubectl(['get', 'bp', '-A'], kubeconfig);
    expect(byShortName.code, byShortName.stderr).to.equal(0);
  });
});
