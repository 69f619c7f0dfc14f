import { SERVED_REVISIONS, SERVER_DESCRIPTION, SERVER_TITLE, SERVER_VERSION } from '../server-info.ts';
import { REGISTRY_NAME } from './server-card.ts';
import type { ToolSummary } from './tool-summary.ts';

/** The MCP Registry's server.json schema this document conforms to. */
export const SERVER_JSON_SCHEMA = 'https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json';
/** The `_meta` key the official registry keeps for what the publisher adds. */
export const PUBLISHER_META_KEY = 'io.modelcontextprotocol.registry/publisher-provided';
/** The server's container image (the chart's `image.registry` and `server.image.repository`). */
export const SERVER_IMAGE = 'ghcr.io/composer-mcp/server';

interface EnvironmentVariable {
  name: string;
  description: string;
  isRequired?: boolean;
  isSecret?: boolean;
  default?: string;
}

/** The settings a desktop client passes to the stdio server (the Composer credentials and where it is). */
const STDIO_ENVIRONMENT: EnvironmentVariable[] = [
  { name: 'COMPOSER_MCP_COMPOSER__ACCESS_TOKEN', description: 'Composer access token (JWT); save, get, open and preview need it.', isSecret: true },
  { name: 'COMPOSER_MCP_COMPOSER__PROJECT_KEY', description: 'Project-Key of the storage API; save, get, open and preview need it.', isSecret: true },
  { name: 'COMPOSER_MCP_COMPOSER__CONNECTOR_UID', description: 'Connector uid of the upload route; save needs it.' },
  { name: 'COMPOSER_MCP_COMPOSER__COMPOSER_URL', description: 'Base URL of the Composer web app.', default: 'https://composer.euconquisto.com' },
  { name: 'COMPOSER_MCP_COMPOSER__API_URL', description: 'Base URL of the DigitalPages storage API.', default: 'https://api.digitalpages.com.br' },
  { name: 'COMPOSER_MCP_BROWSERS__SOURCE', description: 'Where open and preview get browsers: none, static (gateways) or kubernetes.', default: 'none' },
];

/**
 * The server.json of the MCP Registry (schema 2025-12-11): the server image as a package (stdio, for desktop clients)
 * and the remote endpoint of a deployment (Streamable HTTP over TLS, its host a template variable), with the code's tool
 * list and the revisions served in the publisher-provided `_meta`.
 */
export function serverJson(tools: ToolSummary[]): Record<string, unknown> {
  return {
    $schema: SERVER_JSON_SCHEMA,
    name: REGISTRY_NAME,
    title: SERVER_TITLE,
    description: SERVER_DESCRIPTION,
    version: SERVER_VERSION,
    packages: [
      {
        registryType: 'oci',
        identifier: `${SERVER_IMAGE}:${SERVER_VERSION}`,
        runtimeHint: 'docker',
        transport: { type: 'stdio' },
        packageArguments: [{ type: 'named', name: '--transport', value: 'stdio' }],
        environmentVariables: STDIO_ENVIRONMENT,
      },
    ],
    remotes: [
      {
        type: 'streamable-http',
        url: 'https://{host}/mcp',
        variables: { host: { description: 'Host name (and port) of your composer-mcp deployment behind TLS, e.g. composer-mcp.example.com', isRequired: true } },
        headers: [{ name: 'Authorization', description: 'Bearer <JWT> when the deployment runs with auth.mode=jwt.', isSecret: true }],
      },
    ],
    _meta: { [PUBLISHER_META_KEY]: { protocolRevisions: [...SERVED_REVISIONS], tools } },
  };
}
