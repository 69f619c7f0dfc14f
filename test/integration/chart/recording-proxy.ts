import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { parse as parseYaml } from 'yaml';

/** One API request a client made, as the authorizer sees it: verb and resource (with subresource), plus the answer. */
export interface RecordedCall {
  verb: string;
  /** `group/resource[/subresource]`, core group as `core`, e.g. `core/pods`, `browser.composer-mcp.io/browserpools/status`. */
  resource: string;
  namespace?: string;
  status: number;
}

/**
 * The Kubernetes authorizer's verb for an HTTP request: GET on a name is get, on a collection list (watch with
 * ?watch=true), POST create, PUT update, PATCH patch, DELETE on a name delete, on a collection deletecollection.
 * Returns undefined for non-resource URLs (/api, /apis, /version, discovery).
 */
export function requestAttributes(method: string, rawUrl: string): { verb: string; resource: string; namespace?: string } | undefined {
  const url = new URL(rawUrl, 'http://x');
  const parts = url.pathname.split('/').filter(Boolean);
  let group: string;
  let rest: string[];
  if (parts[0] === 'api' && parts.length >= 2) { group = 'core'; rest = parts.slice(2); }
  else if (parts[0] === 'apis' && parts.length >= 3) { group = parts[1]!; rest = parts.slice(3); }
  else return undefined;
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) { namespace = rest[1]; rest = rest.slice(2); }
  if (rest.length === 0) return undefined;
  const [resource, name, sub] = rest;
  const watch = url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1';
  const verb = ({
    GET: name ? 'get' : watch ? 'watch' : 'list',
    POST: 'create', PUT: 'update', PATCH: 'patch',
    DELETE: name ? 'delete' : 'deletecollection',
  } as Record<string, string>)[method] ?? method.toLowerCase();
  return { verb, resource: [group, resource, sub].filter(Boolean).join('/'), ...(namespace ? { namespace } : {}) };
}

/** A loopback HTTP proxy to the API server that authenticates as one identity and records every call. */
export interface RecordingProxy {
  /** Kubeconfig that points a client at the proxy (no credentials: the proxy holds them). */
  kubeconfigPath: string;
  calls: RecordedCall[];
  stop(): Promise<void>;
}

interface KubeconfigFile {
  clusters: Array<{ cluster: { server: string; 'certificate-authority-data'?: string; 'certificate-authority'?: string } }>;
  users: Array<{ user: { 'client-certificate-data'?: string; 'client-key-data'?: string; 'client-certificate'?: string; 'client-key'?: string } }>;
}

function pem(data: string | undefined, file: string | undefined): Buffer | undefined {
  if (data) return Buffer.from(data, 'base64');
  if (file) return readFileSync(file);
  return undefined;
}

/**
 * Starts the proxy on 127.0.0.1 in front of the API server of `identityKubeconfig` (a client-certificate
 * kubeconfig, e.g. one for `system:serviceaccount:<ns>:<sa>`): the API server authenticates and authorizes every
 * forwarded request as that identity, and the proxy records verb and resource of each (our stand-in for an
 * audit log). Apply patches answered 201 are recorded as `create` too: the API server authorizes create for them.
 */
export async function startRecordingProxy(identityKubeconfig: string, outPath: string): Promise<RecordingProxy> {
  const kc = parseYaml(readFileSync(identityKubeconfig, 'utf8')) as KubeconfigFile;
  const cluster = kc.clusters[0]!.cluster;
  const user = kc.users[0]!.user;
  const upstream = new URL(cluster.server);
  const agent = new https.Agent({
    ca: pem(cluster['certificate-authority-data'], cluster['certificate-authority']),
    cert: pem(user['client-certificate-data'], user['client-certificate']),
    key: pem(user['client-key-data'], user['client-key']),
    keepAlive: true,
  });
  const calls: RecordedCall[] = [];
  const sockets = new Set<import('node:net').Socket>();
  const server = http.createServer((req, res) => {
    const attributes = requestAttributes(req.method ?? 'GET', req.url ?? '/');
    const headers = { ...req.headers, host: upstream.host };
    const upstreamReq = https.request({
      host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers, agent,
    }, (upstreamRes) => {
      const status = upstreamRes.statusCode ?? 0;
      if (attributes) {
        calls.push({ ...attributes, status });
        if (attributes.verb === 'patch' && status === 201) calls.push({ ...attributes, verb: 'create', status });
      }
      res.writeHead(status, upstreamRes.headers);
      upstreamRes.pipe(res);
    });
    upstreamReq.on('error', (error) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`proxy: ${error.message}`);
    });
    req.pipe(upstreamReq);
    res.on('close', () => upstreamReq.destroy());
  });
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await writeFile(outPath, [
    'apiVersion: v1', 'kind: Config',
    // Plain HTTP on loopback; the client library refuses http:// unless TLS verification is marked off.
    'clusters: [{ name: proxy, cluster: { server: "http://127.0.0.1:' + port + '", insecure-skip-tls-verify: true } }]',
    'users: [{ name: proxy, user: {} }]',
    'contexts: [{ name: proxy, context: { cluster: proxy, user: proxy } }]',
    'current-context: proxy', '',
  ].join('\n'));
  return {
    kubeconfigPath: outPath,
    calls,
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}
