import diagnosticsChannel from 'node:diagnostics_channel';
import type { IncomingMessage } from 'node:http';

/** One request an origin of this process answered. */
export interface RecordedRequest {
  /** The origin it reached, e.g. http://10.203.0.1:41234. */
  origin: string;
  /** The peer's address: a pod IP when Chromium in a browser pod made the request. */
  from: string;
  method: string;
  path: string;
}

/** Records who asks the given origins for what. */
export interface OriginRecorder {
  requests: RecordedRequest[];
  close(): void;
}

/**
 * Records every request that the HTTP servers of this process answer on `origins` (the Composer stand-in's app and
 * API), with the peer address, through Node's `http.server.request.start` diagnostics channel: nothing sits between
 * the browsers and the stand-in. How the cluster tier proves that a page was loaded by Chromium inside a pod.
 */
export function startOriginRecorder(origins: readonly string[]): OriginRecorder {
  const byPort = new Map(origins.map((o) => [new URL(o).port, o.replace(/\/$/, '')]));
  const requests: RecordedRequest[] = [];
  const onRequest = (message: unknown): void => {
    const request = (message as { request: IncomingMessage }).request;
    const origin = byPort.get(String(request.socket.localPort));
    if (origin) requests.push({ origin, from: request.socket.remoteAddress ?? '', method: request.method ?? '', path: request.url ?? '' });
  };
  diagnosticsChannel.subscribe('http.server.request.start', onRequest);
  return { requests, close: () => diagnosticsChannel.unsubscribe('http.server.request.start', onRequest) };
}
