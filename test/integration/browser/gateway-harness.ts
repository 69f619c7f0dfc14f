import { expect } from 'chai';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { startBrowserHost, type BrowserHost, type BrowserHostOptions } from '#browser/browser-host.ts';
import { startGateway, type Gateway, type GatewayOptions } from '#browser/gateway/gateway.ts';
import { GatewayMetrics } from '#browser/gateway/gateway-metrics.ts';
import { createLogger, type Logger } from '#common/logger.ts';
import { makeTestRoot, pidAlive, processesInGroup, processesMentioning, SecretVolume } from './browser-test-kit.ts';

export const quiet = createLogger({ component: 'gateway-test', level: process.env['LOG_LEVEL'] ?? 'error' });

/** A gateway with its Chromium under a fresh root dir; `teardown` stops both and asserts nothing is left. */
export interface GatewayPair {
  root: string;
  volume: SecretVolume;
  host: BrowserHost;
  gateway: Gateway;
  auth: Record<string, string>;
  teardown(): Promise<void>;
}

/** Starts Chromium (pipe, egress proxy) and its gateway on 127.0.0.1 under a fresh root. */
export async function startPair(prefix: string, token: string, options: {
  healthTimeoutMs?: number; allowedOrigins?: string[]; maxContexts?: number; logger?: Logger; host?: Partial<BrowserHostOptions>;
  gateway?: Pick<GatewayOptions, 'pingIntervalMs' | 'pingTimeoutMs'>;
} = {}): Promise<GatewayPair> {
  const root = await makeTestRoot(prefix);
  const volume = new SecretVolume(join(root, 'cdp-token'));
  await volume.init(token);
  const metrics = new GatewayMetrics();
  const logger = options.logger ?? quiet;
  const host = await startBrowserHost({
    allowedOrigins: options.allowedOrigins ?? [], maxContexts: options.maxContexts ?? 4, rootDir: root, metrics, logger, ...options.host,
  });
  const gateway = await startGateway({
    listenHost: '127.0.0.1', listenPort: 0, browser: host, tokenFile: volume.file, healthTimeoutMs: options.healthTimeoutMs ?? 2000, tokenPollIntervalMs: 500, metrics, logger, ...options.gateway,
  });
  return {
    root, volume, host, gateway, auth: { Authorization: `Bearer ${token}` },
    teardown: async () => {
      await gateway.close();
      await host.stop();
      expect(await pidAlive(host.pid), 'browser pid alive after stop').to.equal(false);
      expect(await processesMentioning(root), 'processes left from this test').to.deep.equal([]);
      expect(await processesInGroup(host.pid), 'processes left in the browser\'s group').to.deep.equal([]);
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** A raw CDP client over the gateway's WebSocket: `send` resolves with the whole answer (result or error). */
export class RawCdpClient {
  readonly ws: WebSocket;
  readonly events: Array<{ method: string; params: Record<string, unknown>; sessionId?: string }> = [];
  private nextId = 1;
  private readonly waiters = new Map<number, (msg: Record<string, unknown>) => void>();
  readonly unmatched: Array<Record<string, unknown>> = [];

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on('message', (data) => {
      const msg = JSON.parse(String(data)) as Record<string, unknown>;
      if (typeof msg['id'] === 'number' && this.waiters.has(msg['id'])) {
        const wake = this.waiters.get(msg['id'])!;
        this.waiters.delete(msg['id']);
        wake(msg);
      } else if (typeof msg['method'] === 'string') {
        this.events.push(msg as never);
      } else {
        this.unmatched.push(msg);
      }
    });
  }

  /** Opens a client on `gatewayUrl` with the given headers. */
  static async connect(gatewayUrl: string, headers: Record<string, string>): Promise<RawCdpClient> {
    const version = (await (await fetch(`${gatewayUrl}/json/version`, { headers })).json()) as { webSocketDebuggerUrl: string };
    const ws = new WebSocket(version.webSocketDebuggerUrl, { headers, perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return new RawCdpClient(ws);
  }

  /** Sends one command; resolves with the answer message. */
  send(method: string, params: Record<string, unknown> = {}, sessionId?: string, timeoutMs = 10_000): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    return this.sendRaw(JSON.stringify({ id, method, params, ...(sessionId !== undefined ? { sessionId } : {}) }), id, timeoutMs);
  }

  /** Sends raw text expecting an answer with `id`. */
  sendRaw(text: string, id: number, timeoutMs = 10_000): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(id);
        reject(new Error(`no answer to ${text.slice(0, 80)} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.set(id, (msg) => {
        clearTimeout(timer);
        resolve(msg);
      });
      this.ws.send(text);
    });
  }

  /** The result of a command, or throws with the CDP error message. */
  async result(method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<Record<string, unknown>> {
    const answer = await this.send(method, params, sessionId);
    const error = answer['error'] as { message: string } | undefined;
    if (error) throw new Error(`${method}: ${error.message}`);
    return answer['result'] as Record<string, unknown>;
  }

  close(): void {
    this.ws.close();
  }
}

/** The gateway's /status as JSON. */
export async function gatewayStatus(pair: GatewayPair): Promise<Record<string, unknown> & { leased: number; warm: number; pages: number; contexts: number; leasesServed: number; rssBytes: number }> {
  const res = await fetch(`${pair.gateway.url}/status`, { headers: pair.auth });
  expect(res.status).to.equal(200);
  return (await res.json()) as never;
}
