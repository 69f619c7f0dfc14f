import { createServer, connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/** A running round-robin TCP proxy: one loopback address in front of several backends. */
export interface RoundRobinProxy {
  /** `http://127.0.0.1:<port>` */
  url: string;
  port: number;
  /** How many connections went to each backend port, in the order first given. */
  connectionsPerBackend(): number[];
  /** Sends new connections only to these of the first-given backends from now on (as kube-proxy does once an endpoint is removed); open ones stay. */
  routeTo(backendPorts: number[]): void;
  close(): Promise<void>;
}

/**
 * A plain Service stand-in: each new TCP connection goes to the next backend in turn (no stickiness, no HTTP
 * awareness), like kube-proxy spreading connections over the endpoints of a Service.
 */
export async function startRoundRobinProxy(backendPorts: number[], host = '127.0.0.1'): Promise<RoundRobinProxy> {
  if (backendPorts.length === 0) throw new Error('A round-robin proxy needs at least one backend port.');
  const counts = backendPorts.map(() => 0);
  const sockets = new Set<Socket>();
  let routed = [...backendPorts];
  let next = 0;
  const server = createServer((client) => {
    const port = routed[next % routed.length]!;
    next = (next + 1) % routed.length;
    const index = backendPorts.indexOf(port);
    counts[index] = (counts[index] ?? 0) + 1;
    const upstream = connect(port, host);
    sockets.add(client);
    sockets.add(upstream);
    const drop = (): void => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${port}`,
    port,
    connectionsPerBackend: () => [...counts],
    routeTo(ports) {
      if (ports.length === 0 || ports.some((p) => !backendPorts.includes(p))) throw new Error(`routeTo needs some of the backends ${backendPorts.join(', ')}`);
      routed = [...ports];
      next = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
