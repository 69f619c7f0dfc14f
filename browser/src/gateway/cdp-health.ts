import { WebSocket } from 'ws';

/** The outcome of one health check. */
export type HealthResult =
  | { ok: true; product: string; durationMs: number }
  | { ok: false; reason: string; durationMs: number };

/** Where Chromium's DevTools listens. */
export interface CdpTarget {
  host: string;
  port: number;
}

/**
 * Does a real CDP round trip against the browser: reads `/json/version`, opens the browser WebSocket and waits
 * for the answer to `Browser.getVersion`, all within `timeoutMs`. Never throws; a hang (e.g. a stopped process)
 * yields `{ ok: false, reason }` when the time is up, and every socket it opened is closed.
 */
export async function checkCdpHealth(target: CdpTarget, timeoutMs: number): Promise<HealthResult> {
  const started = performance.now();
  const elapsed = (): number => Math.round(performance.now() - started);
  const signal = AbortSignal.timeout(timeoutMs);
  let ws: WebSocket | undefined;
  let step = 'GET /json/version';
  try {
    const res = await fetch(`http://${target.host}:${target.port}/json/version`, { signal });
    const body = (await res.json()) as { webSocketDebuggerUrl?: unknown };
    if (!res.ok || typeof body.webSocketDebuggerUrl !== 'string') {
      return { ok: false, reason: `/json/version answered ${res.status} without webSocketDebuggerUrl`, durationMs: elapsed() };
    }
    step = 'Browser.getVersion';
    const socket = new WebSocket(body.webSocketDebuggerUrl, { handshakeTimeout: timeoutMs, perMessageDeflate: false });
    ws = socket;
    const product = await new Promise<string>((resolve, reject) => {
      const onAbort = (): void => reject(new Error('timed out'));
      signal.addEventListener('abort', onAbort, { once: true });
      socket.on('error', reject); // stays attached: terminate() while connecting emits one more
      socket.once('close', () => reject(new Error('connection closed before the answer')));
      socket.once('open', () => socket.send(JSON.stringify({ id: 1, method: 'Browser.getVersion' })));
      socket.on('message', (data) => {
        const msg = JSON.parse(String(data)) as { id?: number; result?: { product?: string }; error?: { message?: string } };
        if (msg.id !== 1) return;
        if (msg.result?.product) resolve(msg.result.product);
        else reject(new Error(`Browser.getVersion failed: ${msg.error?.message ?? 'no product in answer'}`));
      });
    });
    return { ok: true, product, durationMs: elapsed() };
  } catch (error) {
    const message = signal.aborted ? `timed out after ${timeoutMs} ms` : (error as Error).message;
    return { ok: false, reason: `${step} to ${target.host}:${target.port}: ${message}`, durationMs: elapsed() };
  } finally {
    if (ws) ws.terminate();
  }
}
