import http from 'node:http';
import https from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';

/** TLS material for a request to a control-plane endpoint. */
export interface TlsMaterial {
  ca: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

/** Status code and body of one GET (status 0 when the connection failed; body then holds the error). */
export interface ProbeResult {
  status: number;
  body: string;
}

/** GETs `url` (http or https; https verified against `tls.ca`) with a short timeout; never throws. */
export function probe(url: string, tls?: TlsMaterial, timeoutMs = 5_000): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const parsed = new URL(url);
    const options = { method: 'GET', timeout: timeoutMs, agent: false as const, ...tls };
    const request = (parsed.protocol === 'https:' ? https : http).request(parsed, options, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', (error) => resolve({ status: 0, body: error.message }));
    });
    request.on('timeout', () => request.destroy(new Error(`timed out after ${timeoutMs} ms`)));
    request.on('error', (error) => resolve({ status: 0, body: error.message }));
    request.end();
  });
}

/** Why waiting ended without success. */
export type WaitFailure = { kind: 'exited'; code: number | null } | { kind: 'timeout'; last: string };

/**
 * Polls `check` (returns "" when ready, else what is still missing) until it is ready, `exited` resolves (the
 * process died), or `timeoutMs` passes. Returns undefined on success, else why it failed.
 */
export async function waitUntilReady(
  check: () => Promise<string>,
  exited: Promise<number | null>,
  timeoutMs: number,
): Promise<WaitFailure | undefined> {
  let exitCode: { code: number | null } | undefined;
  void exited.then((code) => (exitCode = { code }));
  const deadline = Date.now() + timeoutMs;
  let last = 'not checked yet';
  while (Date.now() < deadline) {
    if (exitCode) return { kind: 'exited', code: exitCode.code };
    last = await check();
    if (last === '') return undefined;
    if (exitCode) return { kind: 'exited', code: (exitCode as { code: number | null }).code };
    await sleep(150);
  }
  return { kind: 'timeout', last };
}
