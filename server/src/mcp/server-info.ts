import pkg from '../../../package.json' with { type: 'json' };

/** The MCP server name clients see in `initialize`. */
export const SERVER_NAME = 'composer-mcp';

/** The server version: the package version. */
export const SERVER_VERSION: string = pkg.version;
