import type { Request } from 'express';

/** Path of the MCP endpoint. */
export const MCP_PATH = '/mcp';
/** Path of the RFC 9728 protected-resource metadata for the MCP endpoint (path-suffixed form). */
export const RESOURCE_METADATA_PATH = '/.well-known/oauth-protected-resource/mcp';
/** The root form of the metadata path, served too for clients that only try it. */
export const RESOURCE_METADATA_ROOT_PATH = '/.well-known/oauth-protected-resource';

/** RFC 9728 protected-resource metadata. */
export interface ProtectedResourceMetadata {
  resource: string;
  authorization_servers: string[];
  bearer_methods_supported: string[];
  resource_name: string;
}

/**
 * The resource URL of this server: the configured one, else the URL the request came in on. A Host header that does
 * not parse as a host (e.g. `[`) gives `localhost`: the value comes from the client and must never make a URL throw.
 */
export function resourceUrlFor(request: Pick<Request, 'protocol' | 'get'>, configured: string | undefined): string {
  if (configured) return configured;
  const protocol = request.protocol === 'https' ? 'https' : 'http';
  const host = request.get('host');
  const candidate = `${protocol}://${host ?? 'localhost'}${MCP_PATH}`;
  const parsed = host ? URL.parse(candidate) : null;
  return parsed && parsed.pathname === MCP_PATH && !parsed.search && !parsed.hash && !parsed.username ? parsed.href : `${protocol}://localhost${MCP_PATH}`;
}

/** The metadata URL that belongs to a resource URL (RFC 9728 §3.1: well-known path inserted before the resource path). */
export function metadataUrlFor(resourceUrl: string): string {
  const url = new URL(resourceUrl);
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
  return `${url.origin}${RESOURCE_METADATA_ROOT_PATH}${path}`;
}

/** The metadata document for this server. */
export function protectedResourceMetadata(resourceUrl: string, authorizationServers: string[]): ProtectedResourceMetadata {
  return { resource: resourceUrl, authorization_servers: authorizationServers, bearer_methods_supported: ['header'], resource_name: 'composer-mcp' };
}

function quote(value: string): string {
  return value.replace(/["\\]/g, '');
}

/** The `WWW-Authenticate` value of a 401: where the metadata lives, the error and its description. */
export function wwwAuthenticate(metadataUrl: string, description: string): string {
  return `Bearer resource_metadata="${quote(metadataUrl)}", error="invalid_token", error_description="${quote(description)}"`;
}
