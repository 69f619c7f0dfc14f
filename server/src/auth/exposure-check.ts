import { isLoopback } from '#server/http/request-guards.ts';

/** The settings the check reads. */
export interface ExposureSettings {
  http: { host: string; allowedHosts: string[] };
  auth: { mode: 'none' | 'jwt'; resourceUrl?: string | undefined };
}

/**
 * Why this configuration must not start, or undefined when it may. With `auth.mode=jwt` on a non-loopback address
 * and neither `http.allowedHosts` nor `auth.resourceUrl`, every 401 would build the protected-resource metadata URL
 * from whatever Host header the client sent: refuse that at start-up instead of trusting the header.
 */
export function unsafeExposure(settings: ExposureSettings): string | undefined {
  if (settings.auth.mode !== 'jwt' || isLoopback(settings.http.host)) return undefined;
  if (settings.http.allowedHosts.length > 0 || settings.auth.resourceUrl) return undefined;
  return (
    `auth.mode is "jwt" and the server listens on ${settings.http.host}, a non-loopback address, but neither http.allowedHosts nor auth.resourceUrl is set, ` +
    'so the protected-resource metadata would be built from the Host header any client sends. ' +
    'Set http.allowedHosts (COMPOSER_MCP_HTTP__ALLOWED_HOSTS) to the host names clients use, or auth.resourceUrl (COMPOSER_MCP_AUTH__RESOURCE_URL) to the public URL of /mcp.'
  );
}
