import { SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/server';
import pkg from '../../../package.json' with { type: 'json' };

/** The MCP server name clients see (`initialize` result, `_meta` server info, Server Card, server.json). */
export const SERVER_NAME = 'composer-mcp';

/** The server version: the package version. */
export const SERVER_VERSION: string = pkg.version;

/** The human-readable title. */
export const SERVER_TITLE = 'EuConquisto Composer';

/** What the server is for, in one line (Server Card, server.json). */
export const SERVER_DESCRIPTION = 'Author EuConquisto Composer lessons: guidance, build, validate, save, then open and preview them.';

/** The instructions clients hand the model. */
export const SERVER_INSTRUCTIONS = [
  'Author EuConquisto Composer lessons.',
  'Workflow: composer_guidance → composer_build_composition → composer_validate_composition → composer_save_composition → composer_open_composition.',
  'Catalog, guidance, build and validate work without Composer credentials; save, get, open and preview need them (errors say which setting is missing).',
].join(' ');

/** The stateless revision: no initialize, no sessions, a `_meta` envelope on every request. */
export const MODERN_REVISION = '2026-07-28';

/** The initialize-handshake revisions also served (statelessly), newest first. */
export const LEGACY_REVISIONS: readonly string[] = [...SUPPORTED_PROTOCOL_VERSIONS];

/** Every protocol revision this server answers, newest first: one process, one tool definition, both eras. */
export const SERVED_REVISIONS: readonly string[] = [MODERN_REVISION, ...LEGACY_REVISIONS];

/** A one-line statement of the revisions served (README, banner, Server Card). */
export function servedRevisionsText(): string {
  return `MCP ${MODERN_REVISION} (stateless, server/discover) and ${LEGACY_REVISIONS[0]} back to ${LEGACY_REVISIONS.at(-1)} (initialize handshake, stateless)`;
}
