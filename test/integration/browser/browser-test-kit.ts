import { mkdir, mkdtemp, readdir, readFile, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { WebSocket } from 'ws';

/** A fresh directory under the OS temp dir; everything a test starts lives under it, so strays can be found by path. */
export function makeTestRoot(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `cmcp-${prefix}-`));
}

/**
 * PIDs of live processes whose command line or environment mentions `needle` (a test's root dir: the browser
 * process has its profile dir on the command line and HOME/TMPDIR under it), excluding this process. Chromium's
 * zygote children show neither: find those with {@link processesInGroup}.
 */
export async function processesMentioning(needle: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    const environ = await readFile(`/proc/${entry}/environ`, 'utf8').catch(() => '');
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    if ((cmdline.includes(needle) || environ.includes(needle)) && !/\) Z /.test(stat)) pids.push(Number(entry));
  }
  return pids;
}

/** PIDs of live processes in process group `pgid`. */
export async function processesInGroup(pgid: number): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] !== 'Z' && Number(fields[2]) === pgid) pids.push(Number(entry));
  }
  return pids;
}

/** True while a process with this PID exists (zombies count as gone). */
export async function pidAlive(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  return stat !== undefined && !/\) Z /.test(stat);
}

/** Polls `check` every 50 ms until it returns true or `timeoutMs` passes; returns the last result. */
export async function eventually(check: () => Promise<boolean> | boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
}

/**
 * A token directory laid out like a Kubernetes Secret volume: `token -> ..data/token`, `..data -> ..<stamp>`.
 * `rotate()` swaps the `..data` symlink atomically, as the kubelet does, so the `token` file is never written.
 */
export class SecretVolume {
  readonly dir: string;
  readonly file: string;
  private generation = 0;
  private currentDir: string | undefined;

  constructor(dir: string) {
    this.dir = dir;
    this.file = join(dir, 'token');
  }

  /** Creates the layout holding `token`. */
  async init(token: string): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    this.currentDir = await this.writeGeneration(token);
    await symlink(this.currentDir, join(this.dir, '..data'));
    await symlink('..data/token', this.file);
  }

  /** Replaces the token the way the kubelet updates a Secret volume. */
  async rotate(token: string): Promise<void> {
    const next = await this.writeGeneration(token);
    await symlink(next, join(this.dir, '..data_tmp'));
    await rename(join(this.dir, '..data_tmp'), join(this.dir, '..data'));
    if (this.currentDir) await rm(join(this.dir, this.currentDir), { recursive: true, force: true });
    this.currentDir = next;
  }

  private async writeGeneration(token: string): Promise<string> {
    this.generation += 1;
    const name = `..2026_11_25_00_00_${String(this.generation).padStart(2, '0')}.000000001`;
    await mkdir(join(this.dir, name));
    await writeFile(join(this.dir, name, 'token'), `${token}\n`, { mode: 0o600 });
    return name;
  }
}

/** A local page server on 127.0.0.1 serving one HTML page at `/`. */
export async function startPageServer(html: string): Promise<{ url: string; server: Server; close(): Promise<void> }> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(html);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    server,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** A GET with an explicit Host header (fetch cannot set one): status, headers and body. */
export function getWithHost(url: string, host: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { ...headers, host }, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

/** Result of a WebSocket handshake attempt. */
export type UpgradeResult = { opened: true } | { opened: false; status: number; wwwAuthenticate: string | undefined };

/** Tries a WebSocket handshake; resolves whether it opened, or the HTTP status and WWW-Authenticate it was refused with. */
export function tryWebSocket(url: string, headers: Record<string, string> = {}): Promise<UpgradeResult> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers, handshakeTimeout: 10_000 });
    ws.on('open', () => {
      ws.terminate();
      resolve({ opened: true });
    });
    ws.on('unexpected-response', (_req, res) => {
      resolve({ opened: false, status: res.statusCode ?? 0, wwwAuthenticate: res.headers['www-authenticate'] });
      res.resume();
      ws.terminate();
    });
    ws.on('error', (error) => reject(error));
  });
}

/** Sends one CDP command over a fresh WebSocket and resolves its result. */
export function cdpCall(url: string, method: string, headers: Record<string, string> = {}): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers, handshakeTimeout: 10_000 });
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`${method} timed out`));
    }, 10_000);
    ws.on('open', () => ws.send(JSON.stringify({ id: 7, method })));
    ws.on('message', (data) => {
      const msg = JSON.parse(String(data)) as { id?: number; result?: Record<string, unknown> };
      if (msg.id !== 7) return;
      clearTimeout(timer);
      ws.close();
      resolve(msg.result ?? {});
    });
    ws.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/** One listening TCP socket and the process that holds it. */
export interface ListeningSocket {
  pid: number;
  address: string;
  port: number;
}

function parseProcNetAddress(hex: string, v6: boolean): { address: string; port: number } {
  const [addrHex, portHex] = hex.split(':') as [string, string];
  const port = Number.parseInt(portHex, 16);
  if (!v6) {
    const bytes = [0, 1, 2, 3].map((i) => Number.parseInt(addrHex.slice(i * 2, i * 2 + 2), 16)).toReversed();
    return { address: bytes.join('.'), port };
  }
  const words: string[] = [];
  for (let i = 0; i < 4; i++) {
    const w = addrHex.slice(i * 8, i * 8 + 8);
    const le = w.match(/../g)!.toReversed().join('');
    words.push(le.slice(0, 4), le.slice(4, 8));
  }
  return { address: words.map((w) => Number.parseInt(w, 16).toString(16)).join(':'), port };
}

/**
 * TCP sockets in LISTEN state held by any of `pids` (read from /proc/net/tcp, tcp6 and each process's fd table),
 * in the network namespace of this process.
 */
export async function listeningSockets(pids: readonly number[]): Promise<ListeningSocket[]> {
  const inodes = new Map<string, { address: string; port: number }>();
  for (const [file, v6] of [['/proc/net/tcp', false], ['/proc/net/tcp6', true]] as const) {
    const text = await readFile(file, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10 || cols[3] !== '0A') continue;
      inodes.set(cols[9]!, parseProcNetAddress(cols[1]!, v6));
    }
  }
  const out: ListeningSocket[] = [];
  for (const pid of pids) {
    const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
    for (const fd of fds) {
      const link = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
      const inode = /^socket:\[(\d+)\]$/.exec(link)?.[1];
      const socket = inode === undefined ? undefined : inodes.get(inode);
      if (socket) out.push({ pid, ...socket });
    }
  }
  return out;
}
