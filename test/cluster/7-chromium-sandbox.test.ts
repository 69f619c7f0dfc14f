import { copyFileSync, mkdirSync, readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import type { V1Pod } from '@kubernetes/client-node';
import { clusterTier } from '#support/cluster/shared.ts';
import { REPO_ROOT } from '../integration/server/server-harness.ts';
import { apis, containerPid, descendants, eventually, processConfinement } from './cluster-kit.ts';

/** The Localhost profile (scripts/seccomp generates it): containerd's default + clone/clone3/unshare/chroot. */
const PROFILE = path.join(REPO_ROOT, 'charts', 'composer-mcp', 'files', 'seccomp', 'chromium-sandbox.json');
const PROFILE_NAME = 'composer-mcp/chromium-sandbox.json';

/** A browser pod like the operator's (non-root, no capabilities, read-only root, NoNewPrivs) with Chromium's own sandbox on. */
function sandboxedBrowserPod(name: string, seccomp: 'RuntimeDefault' | 'Localhost'): V1Pod {
  const tier = clusterTier();
  return {
    metadata: { name, labels: { 'composer-mcp.io/test': 'sandbox' } },
    spec: {
      restartPolicy: 'Always',
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      terminationGracePeriodSeconds: 2,
      securityContext: { runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, fsGroup: 10001 },
      containers: [{
        name: 'chromium',
        image: `composer-mcp.local/browser:${tier.settings.tag}`,
        // The image's entrypoint without --no-sandbox, and a page so that a renderer runs.
        command: ['/usr/bin/tini', '--', '/usr/lib/chromium/chromium-headless-shell', '--headless', '--disable-gpu', '--no-first-run',
          '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic',
          '--user-data-dir=/tmp/profile', '--remote-debugging-port=9223', 'data:text/html,<title>sandboxed</title>'],
        env: [{ name: 'HOME', value: '/tmp' }],
        securityContext: {
          allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] },
          seccompProfile: seccomp === 'Localhost' ? { type: 'Localhost', localhostProfile: PROFILE_NAME } : { type: 'RuntimeDefault' },
        },
        volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }, { name: 'dshm', mountPath: '/dev/shm' }],
      }],
      volumes: [{ name: 'tmp', emptyDir: {} }, { name: 'dshm', emptyDir: { medium: 'Memory' } }],
    },
  };
}

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

describe('cluster tier: Chromium with its own sandbox under a Localhost seccomp profile', function () {
  this.timeout(180_000);
  const namespace = (): string => clusterTier().settings.namespace;

  before(() => {
    // What a platform team does on every node that runs such pods: the profile in <kubelet root>/seccomp/.
    const target = path.join(clusterTier().cluster.kubeletRootDir, 'seccomp', PROFILE_NAME);
    mkdirSync(path.dirname(target), { recursive: true });
    copyFileSync(PROFILE, target);
  });

  after(async () => {
    for (const name of ['sandbox-localhost', 'sandbox-runtimedefault']) {
      await apis().core.deleteNamespacedPod({ name, namespace: namespace(), gracePeriodSeconds: 0 }).catch(() => undefined);
    }
  });

  it('runs sandboxed with the profile: renderers in their own user and PID namespaces, still non-root, no capabilities, NoNewPrivs', async () => {
    await apis().core.createNamespacedPod({ namespace: namespace(), body: sandboxedBrowserPod('sandbox-localhost', 'Localhost') });
    const pod = await eventually(async () => {
      const p = await apis().core.readNamespacedPod({ name: 'sandbox-localhost', namespace: namespace() });
      return p.status?.containerStatuses?.[0]?.state?.running ? p : undefined;
    }, 60_000);
    const init = await containerPid(pod, 'chromium');
    const renderer = await eventually(() => descendants(init).find((p) => cmdline(p).includes('--type=renderer')), 30_000,
      () => descendants(init).map((p) => cmdline(p).slice(0, 120)).join('\n'));
    const browser = descendants(init).find((p) => cmdline(p).includes('chromium-headless-shell') && !cmdline(p).includes('--type='));
    expect(browser, 'the browser process').to.be.a('number');
    expect(namespaceOf(renderer, 'user'), 'the renderer runs in a user namespace of its own').to.not.equal(namespaceOf(browser ?? init, 'user'));
    expect(namespaceOf(renderer, 'pid'), 'the renderer runs in a PID namespace of its own').to.not.equal(namespaceOf(browser ?? init, 'pid'));
    const containerUserNs = namespaceOf(init, 'user');
    for (const p of [init, ...descendants(init)]) {
      const c = processConfinement(p);
      expect({ pid: p, noNewPrivs: c.noNewPrivs, seccomp: c.seccomp }).to.deep.equal({ pid: p, noNewPrivs: true, seccomp: 2 });
      // Capabilities count only in the user namespace a process lives in: none in the container's; the sandbox's
      // own namespaces (Chromium's zygote holds CAP_SYS_ADMIN there) grant nothing on the node.
      if (namespaceOf(p, 'user') === containerUserNs) expect(c.effectiveCapabilities, `capabilities of ${cmdline(p).slice(0, 80)}`).to.equal(0n);
    }
    // Seen from the node, every process is still uid 10001 (the sandbox's user namespace maps it, grants nothing).
    expect(processConfinement(renderer).uid).to.equal(10001);
    const restarts = (await apis().core.readNamespacedPod({ name: 'sandbox-localhost', namespace: namespace() })).status?.containerStatuses?.[0]?.restartCount;
    expect(restarts, 'no restart').to.equal(0);
  });

  it('the same pod under RuntimeDefault cannot start it: Chromium says "No usable sandbox!" (why the default pods use --no-sandbox)', async () => {
    await apis().core.createNamespacedPod({ namespace: namespace(), body: sandboxedBrowserPod('sandbox-runtimedefault', 'RuntimeDefault') });
    await eventually(async () => {
      const p = await apis().core.readNamespacedPod({ name: 'sandbox-runtimedefault', namespace: namespace() });
      const s = p.status?.containerStatuses?.[0];
      return (s?.restartCount ?? 0) >= 1 || s?.state?.terminated ? true : undefined;
    }, 90_000);
    const log = await apis().core.readNamespacedPodLog({ name: 'sandbox-runtimedefault', namespace: namespace(), container: 'chromium', previous: true })
      .catch(() => apis().core.readNamespacedPodLog({ name: 'sandbox-runtimedefault', namespace: namespace(), container: 'chromium' }));
    expect(String(log)).to.include('No usable sandbox');
  });
});
