import { once } from 'node:events';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** An HTTP server listening on a free port of 127.0.0.1. */
export interface LocalHttpServer {
  server: Server;
  /** `http://127.0.0.1:<port>`. */
  url: string;
  /** Drops every open connection and stops listening. */
  close(): void;
}

/** Starts an HTTP server with `handler` on a free port of 127.0.0.1; resolves once it listens. */
export async function startLocalHttpServer(handler: RequestListener): Promise<LocalHttpServer> {
  const server = createServer(handler).listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    server,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

/** A handler that records each request as `<method> <url>` in `requests` and answers 200 `ok`. */
export function recordRequests(requests: string[]): RequestListener {
  return (req, res) => {
    requests.push(`${req.method} ${req.url}`);
    res.end('ok');
  };
}
