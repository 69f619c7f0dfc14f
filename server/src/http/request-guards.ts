import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { sendJsonRpcError } from './json-rpc-error.ts';

/** Host names accepted on a loopback listener when none are configured. */
export const LOOPBACK_HOSTS = ['localhost', '127.0.0.1', '[::1]'];

/** True when `host` is a loopback listen address. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

/**
 * The Host names to accept: the configured list; else the loopback names when listening on loopback; else
 * undefined (any Host, e.g. a pod on 0.0.0.0 reached by Service name and pod IP — protect it with auth instead).
 */
export function effectiveAllowedHosts(listenHost: string, configured: string[]): string[] | undefined {
  if (configured.length > 0) return configured.map((h) => h.toLowerCase());
  if (isLoopback(listenHost)) return [...LOOPBACK_HOSTS, ...(listenHost.startsWith('127.') && listenHost !== '127.0.0.1' ? [listenHost] : [])];
  return undefined;
}

/** The host name of a Host header value (port dropped, IPv6 kept in brackets), undefined when unparseable. */
export function hostnameOf(hostHeader: string | undefined): string | undefined {
  if (!hostHeader) return undefined;
  try {
    return new URL(`http://${hostHeader}`).hostname.toLowerCase();
  } catch {
    return undefined;
  }
}

/**
 * Whether a browser Origin may call: no Origin (not a browser) is fine; else it must be listed in `allowedOrigins`
 * or be an origin on one of the allowed host names (the same server reached by a name we accept).
 */
export function isOriginAllowed(origin: string | undefined, allowedOrigins: string[], allowedHosts: string[] | undefined): boolean {
  if (!origin) return true;
  if (allowedOrigins.includes(origin)) return true;
  const host = hostnameOf(URL.canParse(origin) ? new URL(origin).host : undefined);
  if (!host) return false;
  return allowedHosts ? allowedHosts.includes(host) : false;
}

/** Rejects requests whose Host is not accepted (DNS-rebinding protection) with 403 and a JSON-RPC error. */
export function hostGuard(allowedHosts: string[] | undefined): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    if (!allowedHosts) return next();
    const host = hostnameOf(req.headers.host);
    if (host && allowedHosts.includes(host)) return next();
    sendJsonRpcError(res, 403, -32000, `Host "${req.headers.host ?? ''}" is not allowed; add its name to http.allowedHosts (COMPOSER_MCP_HTTP__ALLOWED_HOSTS).`);
  };
}

/** Rejects browser requests from origins not accepted, with 403 and a JSON-RPC error. */
export function originGuard(allowedOrigins: string[], allowedHosts: string[] | undefined): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const origin = req.headers.origin;
    if (isOriginAllowed(origin, allowedOrigins, allowedHosts)) return next();
    sendJsonRpcError(res, 403, -32000, `Origin "${origin ?? ''}" is not allowed; add it to http.allowedOrigins (COMPOSER_MCP_HTTP__ALLOWED_ORIGINS).`);
  };
}
