import { expect } from 'chai';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { chromium as playwright } from 'playwright-core';
import { eventually, makeTestRoot, processesMentioning } from './browser-test-kit.ts';

const run = promisify(execFile);
const repo = fileURLToPath(new URL('../../../', import.meta.url));

async function ip(...args: string[]): Promise<string> {
  return (await run('ip', args, { timeout: 10_000 })).stdout;
}

/** A /30 in 10.213.200-249.x that no interface on this machine uses yet. */
async function pickSubnet(): Promise<{ hostIp: string; podIp: string }> {
  const used = await ip('-o', '-4', 'addr', 'show');
  for (let attempt = 0; attempt < 50; attempt++) {
    const third = 200 + Math.floor(Math.random() * 50);
    const base = Math.floor(Math.random() * 63) * 4;
    const prefix = `10.213.${third}.`;
    if (!used.includes(`${prefix}${base + 1}/`) && !used.includes(`${prefix}${base + 2}/`)) {
      return { hostIp: `${prefix}${base + 1}`, podIp: `${prefix}${base + 2}` };
    }
  }
  throw new Error('No free 10.213.x.y/30 found');
}

function startInNamespace(ns: string, script: string, env: Record<string, string>, log: string[]): ChildProcess {
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, join(repo, script)], {
    cwd: repo, env: { ...process.env, LOG_FORMAT: 'json', ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (d: Buffer) => log.push(String(d)));
  child.stderr?.on('data', (d: Buffer) => log.push(String(d)));
  return child;
}

function exitOf(child: ChildProcess, timeoutMs: number): Promise<number | null | 'timeout'> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve('timeout'), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

describe('CDP gateway in a network namespace (the cluster path)', function () {
  this.timeout(90_000);
  const token = 'netns-token-0123456789abcdef';
  const auth = { Authorization: `Bearer ${token}` };
  const suffix = String(process.pid % 100_000);
  const ns = `cmcp-gw-${suffix}`;
  const hostVeth = `cgw${suffix}h`;
  let root = '';
  let subnet = { hostIp: '', podIp: '' };
  let chromiumProc: ChildProcess | undefined;
  let gatewayProc: ChildProcess | undefined;
  const log: string[] = [];

  before(async function () {
    this.timeout(40_000);
    root = await makeTestRoot('gateway-netns');
    await writeFile(join(root, 'token'), `${token}\n`);
    subnet = await pickSubnet();
    await ip('netns', 'add', ns);
    await ip('link', 'add', hostVeth, 'type', 'veth', 'peer', 'name', `cgw${suffix}n`);
    await ip('link', 'set', `cgw${suffix}n`, 'netns', ns);
    await ip('addr', 'add', `${subnet.hostIp}/30`, 'dev', hostVeth);
    await ip('link', 'set', hostVeth, 'up');
    await ip('-n', ns, 'addr', 'add', `${subnet.podIp}/30`, 'dev', `cgw${suffix}n`);
    await ip('-n', ns, 'link', 'set', `cgw${suffix}n`, 'up');
    await ip('-n', ns, 'link', 'set', 'lo', 'up');

    chromiumProc = startInNamespace(ns, 'browser/src/chromium-main.ts', { CHROMIUM_PORT: '9223', CHROMIUM_ROOT_DIR: root }, log);
    gatewayProc = startInNamespace(ns, 'browser/src/gateway-main.ts', {
      POD_IP: subnet.podIp, GATEWAY_PORT: '9222', GATEWAY_UPSTREAM_PORT: '9223', GATEWAY_TOKEN_FILE: join(root, 'token'),
    }, log);
    const healthy = await eventually(async () => {
      try {
        return (await fetch(`http://${subnet.podIp}:9222/healthz`, { signal: AbortSignal.timeout(2000) })).status === 200;
      } catch {
        return false;
      }
    }, 30_000);
    if (!healthy) throw new Error(`Gateway in ${ns} never became healthy:\n${log.join('')}`);
  });

  after(async function () {
    this.timeout(30_000);
    for (const child of [gatewayProc, chromiumProc]) if (child && child.exitCode === null) child.kill('SIGKILL');
    await Promise.all([gatewayProc, chromiumProc].map((c) => (c ? exitOf(c, 5000) : undefined)));
    for (const pid of await processesMentioning(root)) process.kill(pid, 'SIGKILL');
    const left = await ip('netns', 'pids', ns).catch(() => '');
    for (const pid of left.split('\n').filter(Boolean)) process.kill(Number(pid), 'SIGKILL');
    await ip('link', 'del', hostVeth).catch(() => undefined);
    await ip('netns', 'del', ns).catch(() => undefined);
    if (root) await rm(root, { recursive: true, force: true });
    const namespaces = await ip('netns', 'list');
    expect(namespaces).to.not.include(ns);
  });

  it('serves CDP on the namespace IP through the gateway, while Chromium itself is reachable only on the namespace loopback', async function () {
    this.timeout(30_000);
    const refused = await fetch(`http://${subnet.podIp}:9223/json/version`, { signal: AbortSignal.timeout(3000) }).then(() => false, () => true);
    expect(refused, 'Chromium port not reachable from outside').to.equal(true);
    expect((await fetch(`http://${subnet.podIp}:9222/json/version`)).status).to.equal(401);

    const version = (await (await fetch(`http://${subnet.podIp}:9222/json/version`, { headers: auth })).json()) as { webSocketDebuggerUrl: string };
    expect(version.webSocketDebuggerUrl.startsWith(`ws://${subnet.podIp}:9222/devtools/browser/`)).to.equal(true);

    const browser = await playwright.connectOverCDP(`http://${subnet.podIp}:9222`, { headers: auth, timeout: 10_000 });
    try {
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto('data:text/html,<title>pod</title><p id="p">from the namespace</p>');
      expect(await page.textContent('#p')).to.equal('from the namespace');
      const status = (await (await fetch(`http://${subnet.podIp}:9222/status`, { headers: auth })).json()) as { pages: number };
      expect(status.pages).to.equal(1);
      await context.close();
    } finally {
      await browser.close();
    }
  });

  it('stops both processes on SIGTERM and leaves nothing running', async function () {
    this.timeout(30_000);
    gatewayProc?.kill('SIGTERM');
    chromiumProc?.kill('SIGTERM');
    const [gatewayExit, chromiumExit] = await Promise.all([exitOf(gatewayProc as ChildProcess, 10_000), exitOf(chromiumProc as ChildProcess, 10_000)]);
    expect(gatewayExit, `gateway exit\n${log.join('')}`).to.equal(0);
    expect(chromiumExit, `chromium runner exit\n${log.join('')}`).to.be.a('number');
    expect(await eventually(async () => (await processesMentioning(root)).length === 0, 5000), 'no process of this test left').to.equal(true);
    expect((await ip('netns', 'pids', ns)).trim(), 'no process left in the namespace').to.equal('');
    expect(log.join(''), 'token never logged').to.not.include(token);
  });
});
