import { copyFileSync, mkdirSync, readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { chromium } from 'playwright-core';
import type { V1Pod } from '@kubernetes/client-node';
import { DEFAULT_SANDBOX_SECCOMP_PROFILE } from '#kube/api/v1alpha1/browserpool.ts';
import { TOKEN_KEY, tokenSecretName } from '#kube/api/v1alpha1/contract.ts';
import { clusterTier } from '#support/cluster/shared.ts';
import { REPO_ROOT } from '../integration/server/server-harness.ts';
import { apis, containerPid, descendants, describePool, eventually, poolPods, poolSettled, processConfinement, rootIsReadOnly } from './cluster-kit.ts';

/** The Localhost profile the chart ships (scripts/seccomp generates it): containerd's default + clone/clone3/unshare/chroot. */
const PROFILE = path.join(REPO_ROOT, 'charts', 'composer-mcp', 'files', 'seccomp', 'chromium-sandbox.json');
const SANDBOXED = 'sandboxed';
const MISSING_PROFILE = 'no-profile';

function namespaceOf(pid: number, kind: 'user' | 'pid'): string {
  return readlinkSync(`/proc/${pid}/ns/${kind}`);
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

/** A BrowserPool of one browser with Chromium's own sandbox, allowed to reach the Composer stand-in. */
function sandboxedPool(name: string, profile?: string): Record<string, unknown> {
  const tier = clusterTier();
  return {
    apiVersion: 'browser.composer-mcp.io/v1alpha1', kind: 'BrowserPool', metadata: { name },
    spec: {
      replicas: 1,
      browser: { image: `composer-mcp.local/browser:${tier.settings.tag}`, sandbox: true, ...(profile ? { sandboxSeccompProfile: profile } : {}) },
      egress: { allowedOrigins: [tier.standin.appUrl, tier.standin.apiUrl] },
    },
  };
}

/** The browser pod with the gateway told to keep Chromium's sandbox, under RuntimeDefault (no pool can ask for that). */
function sandboxUnderRuntimeDefault(name: string): V1Pod {
  return {
    metadata: { name, labels: { 'composer-mcp.io/test': 'sandbox' } },
    spec: {
      restartPolicy: 'Never',
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      terminationGracePeriodSeconds: 2,
      securityContext: { runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, fsGroup: 10001 },
      containers: [{
        name: 'browser',
        image: `composer-mcp.local/browser:${clusterTier().settings.tag}`,
        env: [{ name: 'GATEWAY_CHROMIUM_SANDBOX', value: 'true' }, { name: 'HOME', value: '/tmp' }],
        securityContext: {
          allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' },
        },
        volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }, { name: 'dshm', mountPath: '/dev/shm' }],
      }],
      volumes: [{ name: 'tmp', emptyDir: {} }, { name: 'dshm', emptyDir: { medium: 'Memory' } }],
    },
  };
}

describe('cluster tier: a BrowserPool with spec.browser.sandbox runs Chromium with its own sandbox', function () {
  this.timeout(240_000);
  const namespace = (): string => clusterTier().settings.namespace;
  const poolApi = () => ({ group: 'browser.composer-mcp.io', version: 'v1alpha1', plural: 'browserpools', namespace: namespace() });

  before(() => {
    // What a platform team does on every node that runs sandboxed browsers: the chart's profile under
    // <kubelet root>/seccomp/ (docs/kubernetes-hardening.md).
    const target = path.join(clusterTier().cluster.kubeletRootDir, 'seccomp', DEFAULT_SANDBOX_SECCOMP_PROFILE);
    mkdirSync(path.dirname(target), { recursive: true });
    copyFileSync(PROFILE, target);
  });

  after(async () => {
    for (const name of [SANDBOXED, MISSING_PROFILE]) await apis().custom.deleteNamespacedCustomObject({ ...poolApi(), name }).catch(() => undefined);
    await apis().core.deleteNamespacedPod({ name: 'sandbox-runtimedefault', namespace: namespace(), gracePeriodSeconds: 0 }).catch(() => undefined);
  });

  it('the operator runs it under the Localhost profile: renderers in their own user and PID namespaces, still non-root, no capabilities, NoNewPrivs; pages load', async () => {
    const tier = clusterTier();
    await apis().custom.createNamespacedCustomObject({ ...poolApi(), body: sandboxedPool(SANDBOXED) });
    await eventually(() => poolSettled(SANDBOXED, 1), 120_000, () => describePool(SANDBOXED));
    const [pod] = await poolPods(SANDBOXED);
    if (!pod) throw new Error('no sandboxed pod');
    const container = pod.spec?.containers[0];
    expect(container?.securityContext?.seccompProfile, 'the operator\'s seccomp profile for the container')
      .to.deep.equal({ type: 'Localhost', localhostProfile: DEFAULT_SANDBOX_SECCOMP_PROFILE });

    // A page through the gateway (the pool's token), loaded from the stand-in through the egress proxy.
    const secret = await apis().core.readNamespacedSecret({ name: tokenSecretName(SANDBOXED), namespace: namespace() });
    const token = Buffer.from(secret.data?.[TOKEN_KEY] ?? '', 'base64').toString();
    const browser = await chromium.connectOverCDP(`http://${pod.status?.podIP}:9222`, { headers: { authorization: `Bearer ${token}` }, timeout: 30_000 });
    try {
      const page = await (await browser.newContext()).newPage();
      const response = await page.goto(tier.standin.appUrl, { timeout: 30_000 });
      expect(response?.status(), 'the Composer stand-in\'s app loaded in the sandboxed browser').to.equal(200);

      const init = await containerPid(pod, 'browser');
      const processes = [init, ...descendants(init)];
      const chromiumBrowser = processes.find((p) => cmdline(p).includes('chromium-headless-shell') && !cmdline(p).includes('--type='));
      expect(chromiumBrowser, 'the Chromium browser process').to.be.a('number');
      expect(cmdline(chromiumBrowser ?? 0), 'Chromium started without --no-sandbox').to.not.include('--no-sandbox');
      const renderer = processes.find((p) => cmdline(p).includes('--type=renderer'));
      expect(renderer, 'a renderer').to.be.a('number');
      expect(namespaceOf(renderer ?? 0, 'user'), 'the renderer runs in a user namespace of its own').to.not.equal(namespaceOf(init, 'user'));
      expect(namespaceOf(renderer ?? 0, 'pid'), 'the renderer runs in a PID namespace of its own').to.not.equal(namespaceOf(init, 'pid'));
      const containerUserNs = namespaceOf(init, 'user');
      for (const p of processes) {
        let c;
        try {
          c = processConfinement(p);
        } catch {
          continue; // exited meanwhile
        }
        expect({ pid: p, uid: c.uid, noNewPrivs: c.noNewPrivs, seccomp: c.seccomp }).to.deep.equal({ pid: p, uid: 10001, noNewPrivs: true, seccomp: 2 });
        // Capabilities count only in the user namespace a process lives in: none in the container's; the sandbox's
        // own namespaces (Chromium's zygote holds CAP_SYS_ADMIN there) grant nothing on the node.
        if (namespaceOf(p, 'user') === containerUserNs) expect(c.effectiveCapabilities, `capabilities of ${cmdline(p).slice(0, 80)}`).to.equal(0n);
      }
      expect(rootIsReadOnly(init), 'root filesystem read-only').to.equal(true);
    } finally {
      await browser.close();
    }
    const restarts = (await poolPods(SANDBOXED))[0]?.status?.containerStatuses?.[0]?.restartCount;
    expect(restarts, 'no restart').to.equal(0);
  });

  it('on a node without the profile the pool\'s pods cannot start, and the pod says why (the node setup the option needs)', async () => {
    await apis().custom.createNamespacedCustomObject({ ...poolApi(), body: sandboxedPool(MISSING_PROFILE, 'composer-mcp/not-installed.json') });
    const waiting = await eventually(async () => {
      const [pod] = await poolPods(MISSING_PROFILE);
      const w = pod?.status?.containerStatuses?.[0]?.state?.waiting;
      return w?.reason !== undefined && /^CreateContainer(Config)?Error$/.test(w.reason) ? w : undefined;
    }, 90_000, () => describePool(MISSING_PROFILE));
    expect(waiting.message, 'the kubelet names the missing profile').to.match(/not-installed\.json|seccomp/i);
    expect((await poolPods(MISSING_PROFILE))[0]?.status?.containerStatuses?.[0]?.ready).to.equal(false);
  });

  it('the same browser under RuntimeDefault cannot start Chromium sandboxed: "No usable sandbox!" (why pools default to --no-sandbox)', async () => {
    await apis().core.createNamespacedPod({ namespace: namespace(), body: sandboxUnderRuntimeDefault('sandbox-runtimedefault') });
    await eventually(async () => {
      const p = await apis().core.readNamespacedPod({ name: 'sandbox-runtimedefault', namespace: namespace() });
      return p.status?.containerStatuses?.[0]?.state?.terminated ? true : undefined;
    }, 90_000);
    const log = await apis().core.readNamespacedPodLog({ name: 'sandbox-runtimedefault', namespace: namespace(), container: 'browser' });
    expect(String(log)).to.include('No usable sandbox');
  });
});
