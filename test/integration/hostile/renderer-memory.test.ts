import { expect } from 'chai';
import { chromium as playwright, type Browser } from 'playwright-core';
import { groupRssBytes } from '#browser/launcher/process-tree.ts';
import { pidAlive } from '../browser/browser-test-kit.ts';
import { gatewayStatus, startPair, type GatewayPair } from '../browser/gateway-harness.ts';

/** Runs `work` while sampling the browser's process-group RSS every 100 ms; returns the peak in MiB. */
async function peakRssMb(pgid: number, work: () => Promise<void>): Promise<number> {
  let peak = 0;
  const timer = setInterval(() => void groupRssBytes(pgid).then((b) => (peak = Math.max(peak, b))), 100);
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  return Math.round(peak / 1024 / 1024);
}

describe('a page allocating in a loop loses its renderer, not the browser (per-renderer memory limits)', function () {
  this.timeout(120_000);
  let pair: GatewayPair;
  let browser: Browser;

  before(async () => {
    // Limits lowered from their defaults (512 MiB heap, 1536 MiB resident) to keep the test quick: a renderer near its
    // heap limit spends long in last-resort garbage collections (about 45 s at 512 MiB on a loaded 2-core machine).
    // The resident limit stays the default formula: 2 × heap + 512 = 768 MiB.
    pair = await startPair('renderer-memory', 'memory-token-0123456789', { host: { rendererHeapMb: 128, memoryCheckIntervalMs: 250 } });
    browser = await playwright.connectOverCDP(pair.gateway.url, { headers: pair.auth, timeout: 10_000 });
  });
  after(async () => {
    await browser?.close();
    await pair?.teardown();
  });

  const bomb = async (expression: string): Promise<{ crashed: boolean; peakMb: number; ms: number }> => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const crashed = new Promise<boolean>((resolve) => page.once('crash', () => resolve(true)));
    const started = Date.now();
    let result = false;
    const peakMb = await peakRssMb(pair.host.pid, async () => {
      page.evaluate(expression).catch(() => undefined);
      result = await Promise.race([crashed, new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 60_000))]);
    });
    await context.close().catch(() => undefined);
    return { crashed: result, peakMb, ms: Date.now() - started };
  };

  const stillServes = async (): Promise<void> => {
    expect(await pidAlive(pair.host.pid), 'the browser process survives').to.equal(true);
    expect((await fetch(`${pair.gateway.url}/healthz`)).status, 'the gateway reports healthy').to.equal(200);
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.setContent('<p id="p">next lease</p>');
    expect(await page.textContent('#p')).to.equal('next lease');
    await context.close();
  };

  it('JavaScript objects: V8 stops at the heap limit (--js-flags=--max-old-space-size) and the renderer dies', async () => {
    const killedBefore = pair.gateway.metrics.value('cdp_gateway_renderers_killed_total', { reason: 'memory' });
    const outcome = await bomb('(() => { const keep = []; for (;;) keep.push(new Array(100000).fill(0).map((_, i) => ({ i, s: "x" + i }))); })()');
    expect(outcome.crashed, 'the page\'s renderer crashed').to.equal(true);
    expect(outcome.peakMb, 'peak resident memory of the whole browser (MiB)').to.be.below(2048);
    expect(pair.gateway.metrics.value('cdp_gateway_renderers_killed_total', { reason: 'memory' }), 'V8 ended it, not the gateway\'s watchdog').to.equal(killedBefore);
    console.log(`      object bomb: renderer gone after ${outcome.ms} ms, browser peak ${outcome.peakMb} MiB`);
    await stillServes();
  });

  it('ArrayBuffers (outside the V8 heap): the gateway kills the renderer above its resident-memory limit', async () => {
    const before = pair.gateway.metrics.value('cdp_gateway_renderers_killed_total', { reason: 'memory' });
    const outcome = await bomb('(() => { const keep = []; for (;;) { const b = new ArrayBuffer(16 * 1024 * 1024); new Uint8Array(b).fill(1); keep.push(b); } })()');
    expect(outcome.crashed, 'the page\'s renderer crashed').to.equal(true);
    expect(outcome.peakMb, 'peak resident memory of the whole browser (MiB)').to.be.below(2560);
    expect(pair.gateway.metrics.value('cdp_gateway_renderers_killed_total', { reason: 'memory' })).to.equal(before + 1);
    console.log(`      ArrayBuffer bomb: renderer killed after ${outcome.ms} ms, browser peak ${outcome.peakMb} MiB`);
    await stillServes();
    expect(await gatewayStatus(pair)).to.include({ contexts: 0 });
  });
});
