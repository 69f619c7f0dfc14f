import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BrowserEndpoint, EndpointSource } from '#server/browsers/endpoint-source.ts';
import { EndpointListeners } from '#server/browsers/endpoint-source.ts';

/** Open page targets of a browser as its gateway's `/status` reports them. */
export async function statusPages(url: string, token: string): Promise<number> {
  const response = await fetch(`${url}/status`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(5000) });
  if (!response.ok) throw new Error(`/status answered ${response.status}`);
  return ((await response.json()) as { pages: number }).pages;
}

/** Page targets from the gateway's `/json/list`. */
export async function listPageTargets(url: string, token: string): Promise<Array<{ id: string; url: string }>> {
  const response = await fetch(`${url}/json/list`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(5000) });
  if (!response.ok) throw new Error(`/json/list answered ${response.status}`);
  const targets = (await response.json()) as Array<{ id: string; type: string; url: string }>;
  return targets.filter((t) => t.type === 'page');
}

/** A loopback HTTP server that counts requests; `handler` answers them. */
export interface TestSite {
  origin: string;
  requests: string[];
  close(): Promise<void>;
}

/** Starts a loopback HTTP site on a free port. */
export async function startSite(handler: (path: string) => { type: string; body: string }): Promise<TestSite> {
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    requests.push(req.url ?? '/');
    const { type, body } = handler(req.url ?? '/');
    res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** An endpoint source the test sets by hand (to mark a real browser Draining). */
export class ManualSource implements EndpointSource {
  private endpoints: BrowserEndpoint[];
  private readonly listeners = new EndpointListeners();

  constructor(endpoints: BrowserEndpoint[]) {
    this.endpoints = endpoints;
  }

  async start(): Promise<void> {}

  current(): BrowserEndpoint[] {
    return this.endpoints.map((e) => ({ ...e }));
  }

  onChange(listener: (endpoints: BrowserEndpoint[]) => void): () => void {
    return this.listeners.add(listener);
  }

  /** Replaces the list and notifies listeners. */
  set(endpoints: BrowserEndpoint[]): void {
    this.endpoints = endpoints;
    this.listeners.notify(this.current(), (error) => {
      throw error;
    });
  }

  async stop(): Promise<void> {}
}

/** Resolves when `predicate` holds, polling; rejects after `timeoutMs`. */
export async function until(predicate: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await predicate()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** True while a process with `pid` exists. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
