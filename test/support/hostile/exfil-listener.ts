import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net';
import dnsPacket from 'dns-packet';

/** Something an exfiltration listener received. */
export interface ExfilHit {
  /** Which listener: http (HTTP and WebSocket), tcp (raw, e.g. TURN over TCP), udp (STUN, TURN, QUIC), dns. */
  channel: 'http' | 'tcp' | 'udp' | 'dns';
  /** What arrived: the request line, the first bytes, the datagram size, or the query name. */
  detail: string;
  /** Whether the canary was in what arrived (HTTP request line and body, TCP/UDP bytes, DNS name). */
  carriesCanary: boolean;
}

/** Where the listeners listen. */
export interface ExfilAddresses {
  host: string;
  http: number;
  tcp: number;
  udp: number;
}

/**
 * An attacker's endpoints on another loopback address (not the allowed origin's): an HTTP/WebSocket server, a raw
 * TCP server and a UDP socket. Every connection, request, byte and datagram is recorded, whether it carries the
 * canary or not: a hostile page reaching any of them at all is an escape.
 */
export class ExfilListener {
  readonly hits: ExfilHit[] = [];
  readonly canary: string;
  private http: HttpServer | undefined;
  private tcp: TcpServer | undefined;
  private udp: UdpSocket | undefined;
  private readonly sockets = new Set<Socket>();
  addresses: ExfilAddresses = { host: '', http: 0, tcp: 0, udp: 0 };

  constructor(canary: string) {
    this.canary = canary;
  }

  /** Starts the three listeners on `host` (default 127.0.0.2, a loopback address nothing else uses). */
  async start(host = '127.0.0.2'): Promise<ExfilAddresses> {
    const carries = (text: string): boolean => text.toLowerCase().includes(this.canary.toLowerCase());
    this.http = createHttpServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('latin1')));
      req.on('end', () => {
        this.hits.push({ channel: 'http', detail: `${req.method ?? '?'} ${req.url ?? ''}`, carriesCanary: carries(`${req.url ?? ''} ${body}`) });
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('ok');
      });
    });
    this.http.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.once('close', () => this.sockets.delete(s));
      this.hits.push({ channel: 'http', detail: 'connection', carriesCanary: false });
    });
    this.http.on('upgrade', (req, socket: Socket) => {
      this.hits.push({ channel: 'http', detail: `UPGRADE ${req.url ?? ''}`, carriesCanary: carries(req.url ?? '') });
      socket.destroy();
    });
    this.tcp = createTcpServer((s) => {
      this.sockets.add(s);
      s.once('close', () => this.sockets.delete(s));
      this.hits.push({ channel: 'tcp', detail: 'connection', carriesCanary: false });
      s.on('data', (d: Buffer) => this.hits.push({ channel: 'tcp', detail: `${d.length} bytes`, carriesCanary: carries(d.toString('latin1')) }));
      s.on('error', () => s.destroy());
    });
    this.udp = createSocket('udp4');
    this.udp.on('message', (m) => this.hits.push({ channel: 'udp', detail: `${m.length} bytes`, carriesCanary: carries(m.toString('latin1')) }));
    await Promise.all([
      new Promise<void>((resolve) => this.http!.listen(0, host, resolve)),
      new Promise<void>((resolve) => this.tcp!.listen(0, host, resolve)),
      new Promise<void>((resolve) => this.udp!.bind(0, host, resolve)),
    ]);
    this.addresses = {
      host,
      http: (this.http.address() as AddressInfo).port,
      tcp: (this.tcp.address() as AddressInfo).port,
      udp: this.udp.address().port,
    };
    return this.addresses;
  }

  /** Forgets what was received (between attacks). */
  reset(): void {
    this.hits.length = 0;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.http?.closeAllConnections();
    await Promise.all([
      new Promise<void>((resolve) => (this.http ? this.http.close(() => resolve()) : resolve())),
      new Promise<void>((resolve) => (this.tcp ? this.tcp.close(() => resolve()) : resolve())),
      new Promise<void>((resolve) => (this.udp ? this.udp.close(() => resolve()) : resolve())),
    ]);
  }
}

/**
 * A DNS server for tests: answers A records for the names in `answers` (exact, case-insensitive) and NXDOMAIN for
 * everything else, recording every query name. A browser that resolves a name the page chose shows up here.
 */
export class DnsResponder {
  readonly queries: string[] = [];
  private readonly answers: Map<string, string>;
  private socket: UdpSocket | undefined;

  constructor(answers: Record<string, string>) {
    this.answers = new Map(Object.entries(answers).map(([k, v]) => [k.toLowerCase(), v]));
  }

  /** Listens on `host`:`port` (53 by default, as resolv.conf has no port). */
  async start(host: string, port = 53): Promise<void> {
    const socket = createSocket('udp4');
    this.socket = socket;
    socket.on('message', (message, remote) => {
      let query: dnsPacket.DecodedPacket;
      try {
        query = dnsPacket.decode(message);
      } catch {
        return;
      }
      const question = query.questions?.[0];
      if (!question) return;
      const name = question.name.toLowerCase();
      this.queries.push(name);
      const address = this.answers.get(name);
      const reply = dnsPacket.encode({
        type: 'response', id: query.id, flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE | (address === undefined ? 3 : 0),
        questions: [question],
        answers: address !== undefined && question.type === 'A' ? [{ type: 'A', name: question.name, ttl: 5, data: address }] : [],
      });
      socket.send(reply, remote.port, remote.address);
    });
    await new Promise<void>((resolve) => socket.bind(port, host, resolve));
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => (this.socket ? this.socket.close(() => resolve()) : resolve()));
  }
}
