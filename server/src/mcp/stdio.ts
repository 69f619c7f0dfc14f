import { serveStdio, StdioServerTransport } from '@modelcontextprotocol/server/stdio';
import type { Logger } from '#common/logger.ts';
import { createMcpServer, type McpServerSetup } from './create-mcp-server.ts';

/** A running stdio MCP server. */
export interface StdioServer {
  /** Resolves when the client closed stdin (or the transport closed). */
  closed: Promise<void>;
  /** Closes the connection (the pinned instance and the transport). */
  close(): Promise<void>;
}

function toStderr(...args: unknown[]): void {
  console.error(...args);
}

/**
 * Keeps stdout for the protocol: anything a library prints with console.log/info/debug goes to stderr instead,
 * since one stray line on stdout would corrupt the client's JSON-RPC stream.
 */
export function reserveStdoutForProtocol(): void {
  console.log = toStderr;
  console.info = toStderr;
  console.debug = toStderr;
}

/**
 * Serves the same tools, resources and prompt over stdin/stdout with the SDK's `serveStdio`: the connection's first
 * message picks its era (a 2026-07-28 `server/discover` or request with the envelope, or a 2025-era `initialize`) and
 * one instance from the factory serves the connection. Cancellation is the SDK's own (one connection, one instance);
 * logs go to stderr only.
 */
export function startStdioServer<Services>(setup: McpServerSetup<Services>, logger: Logger): StdioServer {
  reserveStdoutForProtocol();
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => {
    process.stdin.once('end', () => resolve());
    process.stdin.once('close', () => resolve());
  });
  const handle = serveStdio(({ era }) => createMcpServer(setup, { era, transport: 'stdio' }), {
    transport,
    onerror: (error) => logger.info('Refused MCP message', { reason: error.message }),
  });
  return { closed, close: () => handle.close() };
}
