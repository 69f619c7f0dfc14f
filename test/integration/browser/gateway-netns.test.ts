import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { chromium as playwright } from 'playwright-core';
import { startGatewayProcess, waitHealthy, type GatewayProcess } from '#support/hostile/gateway-process.ts';
import { createPodNetwork, deletePodNetwork, type PodNetwork } from '#support/pod-runner/netns.ts';
import { eventually, makeTestRoot, processesMentioning } from './browser-test-kit.ts';

const run = promisify(execFile);

/** Listening TCP sockets inside a namespace, as `ss -ltnpH` prints them: local address:port and the process. */
async function listeningInNamespace(netns: string): Promise<Array<{ local: string; process: string }>> {
  const { stdout } = await run('ip', ['netns', 'exec', netns, 'ss', '-ltnpH'], { timeout: 10_000 });
  return stdout.split('\n').filter((l) => l.trim() !== '').map((line) => {
    const cols = line.trim().split(/\s+/);
    return { local: cols[3] ?? '', process: cols.slice(5).join(' ') };
  });
}

/** The cluster path: the gateway as the pod's one process, in its own network namespace, with Chromium as its child. */
describe('browser pod process in a network namespace (the cluster path)', function () {
  this.timeout(90_000);
  const token = 'netns-token-0123456789abcdef';
  const auth = { Authorization: `Bearer ${token}` };
  let net: PodNetwork;
  let root = '';
  let gateway: GatewayProcess;

  const start = async (): Promise<GatewayProcess> => {
    const g = startGatewayProcess({ POD_IP: net.podIP, GATEWAY_PORT: '9222', GATEWAY_TOKEN_FILE: join(root, 'token'), GATEWAY_ROOT_DIR: root }, { netns: net.netns });
    if (!(await waitHealthy(`http://${net.podIP}:9222/healthz`, 30_000))) throw new Error(`Gateway in ${net.netns} never became healthy:\n${g.log.join('')}`);
    return g;
  };

  before(async function () {
    this.timeout(40_000);
    root = await makeTestRoot('gateway-netns');
    await writeFile(join(root, 'token'), `${token}\n`);
    net = await createPodNetwork(2000 + (process.pid % 1000));
    gateway = await start();
  });

  after(async function () {
    this.timeout(30_000);
    if (gateway && gateway.child.exitCode === null) gateway.child.kill('SIGKILL');
    await gateway?.exit(5000);
    for (const pid of await processesMentioning(root)) process.kill(pid, 'SIGKILL');
    if (net) await deletePodNetwork(net);
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('serves CDP on the pod IP, and nothing in the pod listens but the gateway (its port, and its egress proxy on loopback)', async function () {
    this.timeout(30_000);
    expect((await fetch(`http://${net.podIP}:9222/json/version`)).status).to.equal(401);
    const version = (await (await fetch(`http://${net.podIP}:9222/json/version`, { headers: auth })).json()) as { webSocketDebuggerUrl: string };
    expect(version.webSocketDebuggerUrl).to.equal(`ws://${net.podIP}:9222/devtools/browser/gateway`);

    const browser = await playwright.connectOverCDP(`http://${net.podIP}:9222`, { headers: auth, timeout: 10_000 });
    try {
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto('data:text/html,<title>pod</title><p id="p">from the namespace</p>');
      expect(await page.textContent('#p')).to.equal('from the namespace');
      const status = (await (await fetch(`http://${net.podIP}:9222/status`, { headers: auth })).json()) as { pages: number; contexts: number };
      expect(status).to.include({ pages: 1, contexts: 1 });
      const listening = await listeningInNamespace(net.netns);
      expect(listening.map((l) => l.local).toSorted(), JSON.stringify(listening)).to.have.length(2);
      expect(listening.some((l) => l.local === `${net.podIP}:9222`)).to.equal(true);
      expect(listening.some((l) => /^127\.0\.0\.1:\d+$/.test(l.local)), 'the egress proxy on loopback').to.equal(true);
      // `ip netns exec` execs node, so the gateway keeps the pid of the process this test spawned.
      for (const l of listening) expect(l.process, 'held by the gateway process, never by Chromium').to.include(`pid=${gateway.child.pid},`);
      await context.close();
    } finally {
      await browser.close();
    }
  });

  it('exits non-zero when Chromium dies (so the kubelet restarts the container), leaving no process behind', async function () {
    this.timeout(30_000);
    const status = (await (await fetch(`http://${net.podIP}:9222/status`, { headers: auth })).json()) as Record<string, unknown>;
    expect(status).to.have.property('rssBytes');
    const chromiumPids = (await processesMentioning(join(root, 'chromium-'))).filter((pid) => pid !== gateway.child.pid);
    expect(chromiumPids.length, 'Chromium runs under the root dir').to.be.above(0);
    for (const pid of chromiumPids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // its group may be gone already
      }
    }
    expect(await gateway.exit(15_000), `gateway exit\n${gateway.log.join('')}`).to.equal(1);
    expect(gateway.log.join('')).to.match(/Chromium ended; stopping the gateway so the container restarts/);
    expect(await eventually(async () => (await processesMentioning(root)).length === 0, 5000), 'no process of this pod left').to.equal(true);
  });

  it('a gateway killed outright (SIGKILL) takes Chromium with it: the browser exits when its DevTools pipe closes', async function () {
    this.timeout(40_000);
    gateway = await start();
    expect((await processesMentioning(join(root, 'chromium-'))).length, 'Chromium runs').to.be.above(0);
    gateway.child.kill('SIGKILL');
    await gateway.exit(5000);
    expect(await eventually(async () => (await processesMentioning(root)).length === 0, 10_000), 'no Chromium process outlives its gateway').to.equal(true);
  });

  it('stops on SIGTERM with exit code 0 and leaves nothing running, the token never logged', async function () {
    this.timeout(40_000);
    gateway = await start();
    gateway.child.kill('SIGTERM');
    expect(await gateway.exit(15_000), `gateway exit\n${gateway.log.join('')}`).to.equal(0);
    expect(await eventually(async () => (await processesMentioning(root)).length === 0, 5000), 'no process of this test left').to.equal(true);
    expect((await run('ip', ['netns', 'pids', net.netns])).stdout.trim(), 'no process left in the namespace').to.equal('');
    expect(gateway.log.join(''), 'token never logged').to.not.include(token);
  });
});
