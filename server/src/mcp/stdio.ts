import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { createMcpServer, type McpServerSetup } from './create-mcp-server.ts';

/** A running stdio MCP server. */
export interface StdioServer {
  /** Resolves when the client closed stdin (or the transport closed). */
  closed: Promise<void>;
  /** Closes the transport. */
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

/** Serves the same tools, resources and prompt over stdin/stdout; logs go to stderr only. */
export async function startStdioServer<Services>(setup: McpServerSetup<Services>): Promise<StdioServer> {
  reserveStdoutForProtocol();
  const server = createMcpServer(setup);
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => {
    // oxlint-disable-next-line unicorn/prefer-add-event-listener -- the SDK transport only has an onclose property
    transport.onclose = () => resolve();
    process.stdin.once('end', () => resolve());
  });
  await server.connect(transport);
  return { closed, close: () => server.close() };
}
