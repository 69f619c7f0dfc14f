import { SERVED_REVISIONS, SERVER_DESCRIPTION, SERVER_TITLE, SERVER_VERSION } from '../server-info.ts';
import type { ToolSummary } from './tool-summary.ts';

/** Where the Server Card is served (SEP-2127 discovery: `GET /.well-known/mcp/server-card.json`). */
export const SERVER_CARD_PATH = '/.well-known/mcp/server-card.json';
/** The Server Card schema the card conforms to (SEP-2127, the experimental server-card extension, v1 family). */
export const SERVER_CARD_SCHEMA = 'https://static.modelcontextprotocol.io/schemas/v1/server-card.schema.json';
/** The server's name in the registry namespace (reverse DNS, one slash): the GitHub organisation of its images. */
export const REGISTRY_NAME = 'io.github.composer-mcp/composer-mcp';
/** The `_meta` key under which discovery documents carry what this server adds (its tools, the tasks it runs). */
export const COMPOSER_META_KEY = 'io.github.composer-mcp/server';

/** A Server Card (SEP-2127): identity, the remote endpoint and the protocol revisions it serves; tools under `_meta`. */
export interface ServerCard {
  $schema: string;
  name: string;
  version: string;
  description: string;
  title: string;
  remotes: Array<{
    type: 'streamable-http';
    url: string;
    supportedProtocolVersions: string[];
    headers?: Array<{ name: string; description: string; isRequired: boolean; isSecret: boolean }>;
  }>;
  _meta: Record<string, unknown>;
}

/**
 * The Server Card of a running server: its public /mcp URL (`auth.resourceUrl`, else the URL the request came in on),
 * the revisions it serves, the Authorization header when auth is on, and the code's tool list (in tools/list order)
 * with the tools that run as tasks. Advisory, as SEP-2127 says: `server/discover` and tools/list are authoritative.
 */
export function serverCard(options: { mcpUrl: string; authRequired: boolean; tools: ToolSummary[] }): ServerCard {
  return {
    $schema: SERVER_CARD_SCHEMA,
    name: REGISTRY_NAME,
    version: SERVER_VERSION,
    description: SERVER_DESCRIPTION,
    title: SERVER_TITLE,
    remotes: [
      {
        type: 'streamable-http',
        url: options.mcpUrl,
        supportedProtocolVersions: [...SERVED_REVISIONS],
        ...(options.authRequired ? { headers: [{ name: 'Authorization', description: 'Bearer <JWT> issued by the authorization server the protected-resource metadata names.', isRequired: true, isSecret: true }] } : {}),
      },
    ],
    _meta: { [COMPOSER_META_KEY]: { tools: options.tools, tasksExtension: 'io.modelcontextprotocol/tasks' } },
  };
}
