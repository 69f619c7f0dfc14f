import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { DEFAULT_CHROMIUM_PATH } from '#browser/launcher/chromium-args.ts';

/**
 * The same chromium-headless-shell launched by Playwright without any of the gateway's egress flags (no proxy, no
 * host-resolver rules, default WebRTC policy): the control that shows a hostile channel really leaks when nothing
 * stops it, so a test that finds nothing behind the gateway could have found something. With `netns`, the browser
 * runs in that network namespace (through `ip netns exec`, so it sees the namespace's resolv.conf).
 */
export async function launchControlBrowser(options: { netns?: string; args?: string[] } = {}): Promise<{ browser: Browser; close(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'cmcp-control-'));
  let executablePath = process.env['CHROMIUM_PATH'] ?? DEFAULT_CHROMIUM_PATH;
  if (options.netns !== undefined) {
    const wrapper = join(dir, 'chromium-in-netns.sh');
    await writeFile(wrapper, `#!/bin/sh\nexec ip netns exec ${options.netns} ${executablePath} "$@"\n`);
    await chmod(wrapper, 0o755);
    executablePath = wrapper;
  }
  const browser = await chromium.launch({ executablePath, args: ['--no-sandbox', ...(options.args ?? [])], timeout: 30_000 });
  return {
    browser,
    close: async () => {
      await browser.close().catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
