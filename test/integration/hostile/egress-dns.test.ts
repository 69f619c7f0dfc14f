import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium as playwright } from 'playwright-core';
import { egressFlags } from '#browser/launcher/chromium-args.ts';
import { launchControlBrowser } from '#support/hostile/control-browser.ts';
import { DnsResponder } from '#support/hostile/exfil-listener.ts';
import { startGatewayProcess, waitHealthy, type GatewayProcess } from '#support/hostile/gateway-process.ts';
import { DNS_CHANNELS, startHostileSite, type HostileSite } from '#support/hostile/hostile-site.ts';
import { createPodNetwork, deletePodNetwork, type PodNetwork } from '#support/pod-runner/netns.ts';
import { eventually, makeTestRoot } from '../browser/browser-test-kit.ts';

/**
 * DNS as a channel: the browser runs in a network namespace whose resolv.conf names our DNS responder, so every
 * name anything in the namespace resolves shows up there. A page on an allowed origin puts the canary in host
 * names (dns-prefetch, preconnect, fetch, img, WebSocket, STUN server, WebTransport host).
 */
describe('egress: a hostile page cannot put data in DNS labels (browser in a network namespace)', function () {
  this.timeout(120_000);
  const canary = `cnry${randomBytes(6).toString('hex')}`;
  const allowedName = `allowed-${randomBytes(3).toString('hex')}.exfil-test`;
  const channel = DNS_CHANNELS[0]!;
  const token = 'dns-token-0123456789abcdef';
  let net: PodNetwork;
  let root = '';
  let site: HostileSite;
  let dns: DnsResponder;
  let gateway: GatewayProcess | undefined;

  before(async function () {
    this.timeout(60_000);
    net = await createPodNetwork(3000 + (process.pid % 1000));
    root = await makeTestRoot('egress-dns');
    await mkdir(`/etc/netns/${net.netns}`, { recursive: true });
    await writeFile(`/etc/netns/${net.netns}/resolv.conf`, `nameserver ${net.hostIP}\noptions timeout:1 attempts:1\n`);
    dns = new DnsResponder({ [allowedName]: net.hostIP });
    await dns.start(net.hostIP);
    site = await startHostileSite({ ex: { host: net.hostIP, http: 0, tcp: 0, udp: 0 }, canary, dnsName: `${canary}.exfil.test` }, DNS_CHANNELS, net.hostIP);
    await writeFile(join(root, 'token'), `${token}\n`);
    gateway = startGatewayProcess({
      POD_IP: net.podIP, GATEWAY_PORT: '9222', GATEWAY_TOKEN_FILE: join(root, 'token'), GATEWAY_ROOT_DIR: root,
      GATEWAY_ALLOWED_ORIGINS: `http://${allowedName}:${new URL(site.origin).port}`,
    }, { netns: net.netns });
    if (!(await waitHealthy(`http://${net.podIP}:9222/healthz`, 30_000))) throw new Error(`gateway in ${net.netns} never became healthy:\n${gateway.log.join('')}`);
  });

  after(async function () {
    this.timeout(30_000);
    gateway?.child.kill('SIGTERM');
    if (gateway) expect(await gateway.exit(15_000), `gateway exit\n${gateway.log.join('')}`).to.equal(0);
    await site?.close();
    await dns?.close();
    if (net) await deletePodNetwork(net);
    if (net) await rm(`/etc/netns/${net.netns}`, { recursive: true, force: true });
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('a browser without the defences resolves the names the page chose (the control)', async function () {
    this.timeout(60_000);
    const control = await launchControlBrowser({ netns: net.netns });
    try {
      const page = await control.browser.newPage();
      await page.goto(`${site.origin}/channel/${channel.name}/`);
      const leaked = await eventually(() => dns.queries.some((q) => q.includes(canary)), 15_000);
      expect(leaked, `queries seen: ${JSON.stringify(dns.queries)}`).to.equal(true);
    } finally {
      await control.close();
    }
  });

  it('the gateway\'s host-resolver rule alone, without the proxy, keeps Chromium from resolving any name (the second layer)', async function () {
    this.timeout(60_000);
    const rule = egressFlags(1).find((f) => f.startsWith('--host-resolver-rules='))!;
    // The page is served on the host end of the veth here, so that address is the one exempt (127.0.0.1 in a pod).
    const control = await launchControlBrowser({ netns: net.netns, args: [rule.replace('EXCLUDE 127.0.0.1', `EXCLUDE ${net.hostIP}`)] });
    dns.queries.length = 0;
    try {
      const page = await control.browser.newPage();
      await page.goto(`${site.origin}/channel/${channel.name}/`);
      await page.waitForFunction(() => (window as unknown as { __settled?: boolean }).__settled === true, undefined, { timeout: 20_000 });
      await sleep(500);
      expect(dns.queries, 'queries with only the host-resolver rule').to.deep.equal([]);
    } finally {
      await control.close();
    }
  });

  it('behind the gateway no query carries the canary, while the proxy resolves the allowed name through the same resolver', async function () {
    this.timeout(60_000);
    dns.queries.length = 0;
    const browser = await playwright.connectOverCDP(`http://${net.podIP}:9222`, { headers: { Authorization: `Bearer ${token}` }, timeout: 10_000 });
    try {
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(`http://${allowedName}:${new URL(site.origin).port}/channel/${channel.name}/`, { timeout: 15_000 });
      await page.waitForFunction(() => (window as unknown as { __settled?: boolean }).__settled === true, undefined, { timeout: 20_000 });
      await sleep(500);
      expect(dns.queries, 'the allowed origin was resolved by the gateway (the resolver path works)').to.include(allowedName);
      expect(dns.queries.filter((q) => q.includes(canary)), 'queries that carry the canary').to.deep.equal([]);
      expect(dns.queries.filter((q) => q !== allowedName), 'any other query at all').to.deep.equal([]);
      await context.close();
    } finally {
      await browser.close();
    }
    expect((await fetch(`http://${net.podIP}:9222/healthz`)).status).to.equal(200);
    expect(gateway!.log.join('').toLowerCase()).to.not.include(canary);
  });
});
