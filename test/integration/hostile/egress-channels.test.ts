import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium as playwright, type Browser, type Page } from 'playwright-core';
import { createLogger } from '#common/logger.ts';
import { launchControlBrowser } from '#support/hostile/control-browser.ts';
import { ExfilListener } from '#support/hostile/exfil-listener.ts';
import { EXFIL_CHANNELS, startHostileSite, type AttackTarget, type ExfilChannel, type HostileSite } from '#support/hostile/hostile-site.ts';
import { eventually } from '../browser/browser-test-kit.ts';
import { startPair, type GatewayPair } from '../browser/gateway-harness.ts';

/** Loads a channel's page in a fresh context and waits until its attempt is over (see ExfilChannel.settled). */
async function attack(browser: Browser, url: string, settled: (page: Page) => Promise<void>): Promise<void> {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(url, { waitUntil: 'load', timeout: 15_000 });
    await settled(page);
  } finally {
    await context.close();
  }
}

describe('egress: a hostile page on an allowed origin reaches no other origin (gateway egress proxy and Chromium flags)', function () {
  this.timeout(120_000);
  const canary = `cnry${randomBytes(6).toString('hex')}`;
  const listener = new ExfilListener(canary);
  const logLines: string[] = [];
  let target: AttackTarget;
  let site: HostileSite;
  let pair: GatewayPair;
  let guarded: Browser;
  let control: Awaited<ReturnType<typeof launchControlBrowser>>;

  before(async function () {
    this.timeout(60_000);
    const ex = await listener.start('127.0.0.2');
    target = { ex, canary, dnsName: `${canary}.exfil.test` };
    site = await startHostileSite(target, EXFIL_CHANNELS);
    const stream = new PassThrough();
    stream.on('data', (chunk: Buffer) => logLines.push(chunk.toString()));
    pair = await startPair('egress', 'egress-token-0123456789abcdef', {
      allowedOrigins: [site.origin], maxContexts: 8, logger: createLogger({ component: 'gateway', format: 'json', level: 'debug', stream }),
    });
    guarded = await playwright.connectOverCDP(pair.gateway.url, { headers: pair.auth, timeout: 10_000 });
    control = await launchControlBrowser();
  });

  after(async function () {
    this.timeout(30_000);
    await guarded?.close();
    await control?.close();
    await pair?.teardown();
    await site?.close();
    await listener.close();
  });

  const run = (channel: ExfilChannel): void => {
    it(`${channel.name}: reaches the attacker from a browser without the defences, never from the gateway's`, async function () {
      this.timeout(60_000);
      // Control: the same page in a browser without the gateway's flags does reach the listener.
      listener.reset();
      await attack(control.browser, site.url(channel), async (page) => {
        if (channel.leaksWithoutDefences === false) {
          await page.waitForFunction(() => (window as unknown as { __settled?: boolean }).__settled === true, undefined, { timeout: 15_000 });
          await sleep(300);
          expect(listener.hits, `${channel.name} used to be inert in this Chromium build; it now leaks without defences: check the gateway still stops it`).to.deep.equal([]);
          return;
        }
        const reached = await eventually(() => listener.hits.some((h) => h.channel === channel.listener), 10_000);
        expect(reached, `the ${channel.name} page reached the ${channel.listener} listener without the defences`).to.equal(true);
      });

      // Behind the gateway: nothing arrives, and the gateway stays healthy.
      await sleep(200);
      listener.reset();
      const refusalsBefore = pair.host.proxy.refusals();
      await attack(guarded, site.url(channel), async (page) => {
        if (channel.settled === 'proxy-refusal') {
          expect(await eventually(() => pair.host.proxy.refusals() > refusalsBefore, 10_000), 'the egress proxy refused the attempt').to.equal(true);
        } else {
          await page.waitForFunction(() => (window as unknown as { __settled?: boolean }).__settled === true, undefined, { timeout: 15_000 });
        }
        await sleep(300); // stragglers (retries, late packets) would land within this
      });
      expect(listener.hits, `what the attacker received from behind the gateway over ${channel.name}`).to.deep.equal([]);
      expect((await fetch(`${pair.gateway.url}/healthz`)).status, 'gateway healthy after the attack').to.equal(200);
    });
  };
  for (const channel of EXFIL_CHANNELS) run(channel);

  it('logged refusals by origin and kind only: no log line carries the canary, and every kind is counted', () => {
    const text = logLines.join('');
    expect(text).to.include('Refused browser egress');
    expect(text.toLowerCase()).to.not.include(canary);
    expect(pair.gateway.metrics.value('cdp_gateway_egress_refused_total', { kind: 'http', reason: 'not-allowed' })).to.be.above(0);
    expect(pair.gateway.metrics.value('cdp_gateway_egress_refused_total', { kind: 'connect', reason: 'not-allowed' })).to.be.above(0);
  });
});
