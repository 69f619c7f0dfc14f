import http from 'node:http';
import https from 'node:https';

/** One request to the storage API. */
export interface SendRequest {
  url: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: { bytes: Uint8Array; contentType: string };
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  /** Largest answer body accepted, in bytes (default 32 MiB). */
  maxResponseBytes?: number;
}

/** An answer (any status: redirects are returned, never followed). */
export interface SendResponse {
  status: number;
  /** The Location header of a redirect, if any. */
  location: string | undefined;
  body: string;
}

/**
 * A request that got no answer, and whether any of it had left for the server: `not-sent` (DNS failure, refused
 * or timed-out connection, cancelled before connecting: the server cannot have acted on it) or `sent` (the
 * connection was up and the request on its way when it failed, timed out or was cancelled: the server may have
 * acted on it). Decides whether an upload may be repeated.
 */
export class SendError extends Error {
  readonly phase: 'not-sent' | 'sent';
  readonly reason: 'timeout' | 'network' | 'cancelled';
  constructor(phase: 'not-sent' | 'sent', reason: 'timeout' | 'network' | 'cancelled', message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SendError';
    this.phase = phase;
    this.reason = reason;
  }
}

/** Sends one request; resolves any answer, rejects with SendError when none came. */
export type Sender = (request: SendRequest) => Promise<SendResponse>;

/**
 * The sender on node:http(s): one fresh connection per request (a reused keep-alive socket the server already
 * closed would fail after "sending" and turn a harmless failure into an unknown outcome), no redirects followed,
 * a timeout over the whole exchange, and the phase the request had reached when it failed.
 */
export const nodeHttpSender: Sender = (request) =>
  new Promise<SendResponse>((resolve, reject) => {
    const url = new URL(request.url);
    const client = url.protocol === 'https:' ? https : url.protocol === 'http:' ? http : undefined;
    if (!client) {
      reject(new SendError('not-sent', 'network', `unsupported URL scheme ${url.protocol}`));
      return;
    }
    if (request.signal?.aborted) {
      reject(new SendError('not-sent', 'cancelled', 'cancelled before sending'));
      return;
    }
    const maxBytes = request.maxResponseBytes ?? 32 * 1024 * 1024;
    let connected = false;
    let settled = false;
    const headers: Record<string, string> = { ...request.headers, connection: 'close' };
    if (request.body) {
      headers['content-type'] = request.body.contentType;
      headers['content-length'] = String(request.body.bytes.byteLength);
    }
    const req = client.request(url, { method: request.method, headers, agent: false });
    const fail = (reason: SendError['reason'], message: string, cause?: unknown) => {
      if (settled) return;
      settled = true;
      cleanup();
      reject(new SendError(connected ? 'sent' : 'not-sent', reason, message, { cause }));
      req.destroy();
    };
    const timer = setTimeout(() => fail('timeout', `no answer within ${request.timeoutMs} ms`), request.timeoutMs);
    const onAbort = () => fail('cancelled', 'cancelled');
    request.signal?.addEventListener('abort', onAbort, { once: true });
    const cleanup = () => {
      clearTimeout(timer);
      request.signal?.removeEventListener('abort', onAbort);
    };
    req.on('socket', (socket) => {
      const up = () => {
        connected = true;
      };
      if (url.protocol === 'https:') socket.once('secureConnect', up);
      else if ((socket as { connecting?: boolean }).connecting) socket.once('connect', up);
      else up();
    });
    req.on('error', (error: NodeJS.ErrnoException) => fail('network', error.code ? `${error.code}: ${error.message}` : error.message, error));
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBytes) {
          fail('network', `the answer is larger than ${maxBytes} bytes`);
          return;
        }
        chunks.push(chunk);
      });
      res.on('error', (error) => fail('network', error.message, error));
      res.on('end', () => {
        if (settled) return;
        settled = true;
        cleanup();
        const location = res.headers.location;
        resolve({ status: res.statusCode ?? 0, location: typeof location === 'string' ? location : undefined, body: Buffer.concat(chunks).toString('utf8') });
      });
    });
    req.end(request.body ? Buffer.from(request.body.bytes.buffer, request.body.bytes.byteOffset, request.body.bytes.byteLength) : undefined);
  });

/** A multipart/form-data body with one file part, as bytes and its content type (with the boundary). */
export async function multipartFile(field: string, fileName: string, mimeType: string, content: string): Promise<{ bytes: Uint8Array; contentType: string }> {
  const form = new FormData();
  form.append(field, new Blob([content], { type: mimeType }), fileName);
  const encoded = new Request('http://multipart.invalid/', { method: 'POST', body: form });
  return { bytes: new Uint8Array(await encoded.arrayBuffer()), contentType: encoded.headers.get('content-type') ?? 'multipart/form-data' };
}
