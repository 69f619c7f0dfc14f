import { expect } from 'chai';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { WebSocketServer } from 'ws';
import { parseAllowedOrigins } from '#browser/egress/egress-policy.ts';
import { startEgressProxy, type EgressProxy } from '#browser/egress/egress-proxy.ts';
import { createLogger } from '#common/logger.ts';

/** An HTTP + WebSocket server that records what reaches it. */
async function startUpstream(host: string): Promise<{ server: Server; port: number; seen: string[]; close(): Promise<void> }> {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url} proxy-connection=${String(req.headers['proxy-connection'])} x-hop=${String(req.headers['x-hop'])}`);
    if (req.url === '/redirect') {
      res.writeHead(302, { location: 'http://127.0.0.2:1/elsewhere' });
      res.end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`hello from ${host}`);
  });
  const wss = new WebSocketServer({ server });
  wss.on('connection', (ws, req) => {
    seen.push(`WS ${req.url}`);
    ws.on('message', (m) => ws.send(`echo ${String(m)}`));
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return {
    server, port: (server.address() as AddressInfo).port, seen,
    close: () => new Promise<void>((resolve) => {
      for (const c of wss.clients) c.terminate();
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** One proxied request with an absolute-URI target. */
function viaProxy(proxyPort: number, target: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; headers: IncomingMessage['headers']; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: proxyPort, method, path: target, headers, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Sends raw bytes to the proxy and resolves with the first answer bytes and the socket. */
function raw(proxyPort: number, text: string): Promise<{ head: string; socket: Socket }> {
  return new Promise((resolve, reject) => {
    const socket = connect(proxyPort, '127.0.0.1', () => socket.write(text));
    socket.once('data', (d: Buffer) => resolve({ head: d.toString('latin1'), socket }));
    socket.once('error', reject);
    setTimeout(() => reject(new Error('no answer')), 5000).unref();
  });
}

describe('the gateway\'s egress proxy (HTTP, CONNECT, Upgrade)', function () {
  this.timeout(30_000);
  let allowed: Awaited<ReturnType<typeof startUpstream>>;
  let refused: Awaited<ReturnType<typeof startUpstream>>;
  let proxy: EgressProxy;
  const refusals: string[] = [];
  const logLines: string[] = [];

  before(async () => {
    allowed = await startUpstream('127.0.0.1');
    refused = await startUpstream('127.0.0.2');
    const { PassThrough } = await import('node:stream');
    const stream = new PassThrough();
    stream.on('data', (c: Buffer) => logLines.push(c.toString()));
    proxy = await startEgressProxy({
      allowed: parseAllowedOrigins([`http://127.0.0.1:${allowed.port}`]),
      onRefused: (kind, reason) => refusals.push(`${kind}:${reason}`),
      logger: createLogger({ component: 'egress-test', format: 'json', level: 'info', stream }),
    });
  });
  after(async () => {
    await proxy?.close();
    await allowed?.close();
    await refused?.close();
  });

  it('forwards plain HTTP to an allowed origin without hop-by-hop headers, and passes a redirect back instead of following it', async () => {
    const ok = await viaProxy(proxy.port, `http://127.0.0.1:${allowed.port}/hello?x=1`, { 'proxy-connection': 'keep-alive', connection: 'x-hop', 'x-hop': '1' });
    expect(ok).to.include({ status: 200, body: 'hello from 127.0.0.1' });
    expect(allowed.seen.at(-1)).to.equal('GET /hello?x=1 proxy-connection=undefined x-hop=undefined');
    const redirect = await viaProxy(proxy.port, `http://127.0.0.1:${allowed.port}/redirect`);
    expect(redirect.status).to.equal(302);
    expect(redirect.headers.location).to.equal('http://127.0.0.2:1/elsewhere');
    expect(refused.seen, 'the redirect target was never contacted').to.deep.equal([]);
  });

  it('refuses plain HTTP to any other origin with a marked 403, before resolving or connecting anything', async () => {
    for (const target of [`http://127.0.0.2:${refused.port}/steal?c=SECRET`, `http://127.0.0.1:${refused.port}/`, 'http://never-resolved.invalid/x', `https://127.0.0.1:${allowed.port}/`]) {
      const started = Date.now();
      const answer = await viaProxy(proxy.port, target);
      expect(answer.status, target).to.equal(403);
      expect(answer.headers['x-composer-mcp-egress'], target).to.equal('refused');
      expect(Date.now() - started, 'answered without a lookup or connect attempt').to.be.below(1000);
    }
    expect(refused.seen).to.deep.equal([]);
    expect(refusals).to.include.members(['http:not-allowed', 'http:scheme']);
    expect(logLines.join('')).to.not.include('SECRET');
  });

  it('tunnels CONNECT to an allowed host and port only', async () => {
    const ok = await raw(proxy.port, `CONNECT 127.0.0.1:${allowed.port} HTTP/1.1\r\nHost: 127.0.0.1:${allowed.port}\r\n\r\n`);
    expect(ok.head).to.match(/^HTTP\/1\.1 200 /);
    const answer = new Promise<string>((resolve) => ok.socket.on('data', (d: Buffer) => resolve(d.toString('latin1'))));
    ok.socket.write(`GET /through-tunnel HTTP/1.1\r\nHost: 127.0.0.1:${allowed.port}\r\nConnection: close\r\n\r\n`);
    expect(await answer).to.include('hello from 127.0.0.1');
    ok.socket.destroy();
    const no = await raw(proxy.port, `CONNECT 127.0.0.2:${refused.port} HTTP/1.1\r\nHost: x\r\n\r\n`);
    expect(no.head).to.match(/^HTTP\/1\.1 403 .*\r\n[\s\S]*x-composer-mcp-egress: refused/);
    no.socket.destroy();
    const bad = await raw(proxy.port, 'CONNECT user@127.0.0.1:443 HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(bad.head).to.match(/^HTTP\/1\.1 403 /);
    bad.socket.destroy();
    expect(refused.seen).to.deep.equal([]);
    expect(refusals).to.include.members(['connect:not-allowed', 'connect:malformed']);
  });

  it('passes a WebSocket Upgrade with an absolute URI to an allowed origin, and refuses one to another origin', async () => {
    const key = Buffer.from('0123456789abcdef').toString('base64');
    const upgrade = (target: string, host: string): string =>
      `GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${key}\r\n\r\n`;
    const ok = await raw(proxy.port, upgrade(`http://127.0.0.1:${allowed.port}/ws`, `127.0.0.1:${allowed.port}`));
    expect(ok.head).to.match(/^HTTP\/1\.1 101 /);
    ok.socket.destroy();
    expect(allowed.seen).to.include('WS /ws');
    const no = await raw(proxy.port, upgrade(`http://127.0.0.2:${refused.port}/ws`, `127.0.0.2:${refused.port}`));
    expect(no.head).to.match(/^HTTP\/1\.1 403 /);
    no.socket.destroy();
    expect(refused.seen).to.deep.equal([]);
    expect(refusals).to.include('upgrade:not-allowed');
  });

  it('refuses a request too large to judge (a page can make 100 KB URLs) with a marked answer the server reports, and forwards nothing', async () => {
    const before = proxy.refusals();
    for (const target of [`http://127.0.0.2:${refused.port}/${'a'.repeat(100_000)}`, `http://127.0.0.1:${allowed.port}/${'a'.repeat(100_000)}`]) {
      const answer = await raw(proxy.port, `GET ${target} HTTP/1.1\r\nHost: x\r\n\r\n`);
      expect(answer.head).to.match(/^HTTP\/1\.1 431 /);
      expect(answer.head.toLowerCase()).to.include('x-composer-mcp-egress: refused').and.include('access-control-expose-headers: x-composer-mcp-egress');
      answer.socket.destroy();
    }
    expect(proxy.refusals() - before, 'counted as refusals').to.equal(2);
    expect(refusals).to.include('http:oversized');
    expect(refused.seen).to.deep.equal([]);
    expect(allowed.seen.some((line) => line.includes('aaaa'))).to.equal(false);
    expect(logLines.join('')).to.not.include('aaaaaaaa');
  });

  it('answers garbage with a marked 400 and keeps serving', async () => {
    const junk = await raw(proxy.port, 'NOT HTTP AT ALL\r\n\r\n');
    expect(junk.head).to.match(/^HTTP\/1\.1 400 /);
    expect(junk.head.toLowerCase()).to.include('x-composer-mcp-egress: refused');
    junk.socket.destroy();
    expect((await viaProxy(proxy.port, `http://127.0.0.1:${allowed.port}/still`)).status).to.equal(200);
  });
});
