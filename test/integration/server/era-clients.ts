import { Client as ClientV2, StreamableHTTPClientTransport as HttpTransportV2, type CallToolResult, type Tool } from '@modelcontextprotocol/client';
import { StdioClientTransport as StdioTransportV2 } from '@modelcontextprotocol/client/stdio';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as HttpTransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { StdioClientTransport as StdioTransportV1 } from '@modelcontextprotocol/sdk/client/stdio.js';
import { MAIN, REPO_ROOT, serverEnv } from './server-harness.ts';

/**
 * The MCP clients the server must serve, of both eras:
 * - `v1`: `@modelcontextprotocol/sdk` 1.32, as older desktop clients use (initialize handshake, 2025-11-25);
 * - `v2-legacy`: the v2 client's default (the same handshake, byte for byte);
 * - `v2-auto`: the v2 client negotiating (`server/discover` probe, falls back to initialize);
 * - `v2-2026`: the v2 client pinned to 2026-07-28 (no fallback).
 */
export type ClientKind = 'v1' | 'v2-legacy' | 'v2-auto' | 'v2-2026';

export const ALL_CLIENT_KINDS: readonly ClientKind[] = ['v1', 'v2-legacy', 'v2-auto', 'v2-2026'];

/** Options of one call. */
export interface CallOptions {
  signal?: AbortSignal;
  onprogress?: (progress: { progress: number; total?: number; message?: string }) => void;
  timeout?: number;
}

/** One client of either SDK behind one shape: the calls the tests make. */
export interface EraClient {
  kind: ClientKind;
  /** `modern` (2026-07-28) or `legacy` (initialize handshake), as negotiated. */
  era: 'modern' | 'legacy';
  serverName: string | undefined;
  listTools(): Promise<Tool[]>;
  callTool(name: string, args: Record<string, unknown>, options?: CallOptions): Promise<CallToolResult>;
  close(): Promise<void>;
}

const INFO = { name: 'composer-mcp-test', version: '0.0.0' };

function v2Options(kind: Exclude<ClientKind, 'v1'>): ConstructorParameters<typeof ClientV2>[1] {
  if (kind === 'v2-auto') return { versionNegotiation: { mode: 'auto' } };
  if (kind === 'v2-2026') return { versionNegotiation: { mode: { pin: '2026-07-28' } } };
  return {};
}

function wrapV1(kind: 'v1', client: ClientV1): EraClient {
  return {
    kind,
    era: 'legacy',
    serverName: client.getServerVersion()?.name,
    listTools: async () => (await client.listTools()).tools as Tool[],
    callTool: async (name, args, options = {}) => (await client.callTool({ name, arguments: args }, undefined, options)) as CallToolResult,
    close: () => client.close(),
  };
}

function wrapV2(kind: Exclude<ClientKind, 'v1'>, client: ClientV2): EraClient {
  return {
    kind,
    era: client.getProtocolEra() === 'modern' ? 'modern' : 'legacy',
    serverName: client.getServerVersion()?.name,
    listTools: async () => (await client.listTools()).tools,
    callTool: (name, args, options = {}) => client.callTool({ name, arguments: args }, options),
    close: () => client.close(),
  };
}

/** A client of `kind` connected to `url` over Streamable HTTP. */
export async function connectEraHttp(kind: ClientKind, url: string, options: { headers?: Record<string, string>; fetch?: (input: string | URL | Request, init?: RequestInit) => Promise<Response> } = {}): Promise<EraClient> {
  const transportOptions = { ...(options.headers ? { requestInit: { headers: options.headers } } : {}), ...(options.fetch ? { fetch: options.fetch } : {}) };
  if (kind === 'v1') {
    const client = new ClientV1(INFO);
    await client.connect(new HttpTransportV1(new URL(url), transportOptions));
    return wrapV1(kind, client);
  }
  const client = new ClientV2(INFO, v2Options(kind));
  await client.connect(new HttpTransportV2(new URL(url), transportOptions));
  return wrapV2(kind, client);
}

/** A client of `kind` that spawned `node server/src/main.ts --transport=stdio`; `stderr()` is the server's stderr. */
export async function connectEraStdio(kind: ClientKind, env: Record<string, string> = {}): Promise<{ client: EraClient; stderr: () => string }> {
  const params = { command: process.execPath, args: [MAIN, '--transport=stdio'], env: serverEnv(env), cwd: REPO_ROOT, stderr: 'pipe' as const };
  let stderr = '';
  if (kind === 'v1') {
    const transport = new StdioTransportV1(params);
    transport.stderr?.on('data', (chunk: Buffer | string) => (stderr += chunk.toString()));
    const client = new ClientV1(INFO);
    await client.connect(transport);
    return { client: wrapV1(kind, client), stderr: () => stderr };
  }
  const transport = new StdioTransportV2(params);
  transport.stderr?.on('data', (chunk: Buffer | string) => (stderr += chunk.toString()));
  const client = new ClientV2(INFO, v2Options(kind));
  await client.connect(transport);
  return { client: wrapV2(kind, client), stderr: () => stderr };
}
