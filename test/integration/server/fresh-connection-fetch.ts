import { request } from 'node:http';
import { Readable } from 'node:stream';

/**
 * A `fetch` for the MCP client that opens a new TCP connection for every request (no keep-alive), so a
 * connection-level load balancer really spreads one client's calls over the replicas. HTTP only.
 */
export async function freshConnectionFetch(input: string | URL | Request, init: RequestInit = {}): Promise<Response> {
  const url = new URL(input instanceof Request ? input.url : input.toString());
  const headers = new Headers(init.headers);
  const body = init.body === undefined || init.body === null ? undefined : typeof init.body === 'string' ? init.body : Buffer.from(await new Response(init.body).arrayBuffer());
  return new Promise<Response>((resolve, reject) => {
    const req = request(
      url,
      { method: init.method ?? 'GET', headers: { ...Object.fromEntries(headers), connection: 'close' }, agent: false, ...(init.signal ? { signal: init.signal } : {}) },
      (res) => {
        const responseHeaders = new Headers();
        for (const [k, v] of Object.entries(res.headers)) {
          if (Array.isArray(v)) v.forEach((item) => responseHeaders.append(k, item));
          else if (v !== undefined) responseHeaders.set(k, v);
        }
        const status = res.statusCode ?? 500;
        const noBody = status === 204 || status === 304 || init.method === 'HEAD';
        resolve(new Response(noBody ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>), { status, headers: responseHeaders }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
