import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HealthRegistry } from './health.ts';

/** A running operations endpoint. */
export interface OpsServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/**
 * Serves `/healthz`, `/readyz` and (when given) `/metrics` on their own port, for processes whose main port is not
 * HTTP or must stay private (the operator, the gateway's probes). Anything else answers 404.
 */
export async function startOpsServer(options: {
  host: string;
  port: number;
  health: HealthRegistry;
  metricsHandler?: (request: IncomingMessage, response: ServerResponse) => void;
}): Promise<OpsServer> {
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD' }).end();
    } else if (path === '/healthz' || path === '/livez') options.health.livenessHandler(request, response);
    else if (path === '/readyz') options.health.readinessHandler(request, response);
    else if (path === '/metrics' && options.metricsHandler) options.metricsHandler(request, response);
    else response.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /healthz, /readyz or /metrics\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}`,
    port,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
