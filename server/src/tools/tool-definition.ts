import type { z } from 'zod';
import type { CallToolResult } from '@modelcontextprotocol/server';
import type { Logger } from '#common/logger.ts';
import type { ComposerErrorCode } from '#server/composer/composer-error.ts';
import type { ProgressReporter } from '#server/composer/ports/progress.ts';

/** MCP tool annotations (hints to clients about side effects). */
export interface ToolAnnotations {
  title?: string;
  readOnlyHint: boolean;
  destructiveHint: boolean;
  idempotentHint: boolean;
  openWorldHint: boolean;
}

/** Reports progress of long work to the client (maps to MCP progress notifications when the client asked for them). */
export type { ProgressReporter } from '#server/composer/ports/progress.ts';

/** What a tool handler gets besides its validated input. Services are supplied by the server at start-up. */
export interface ToolContext<Services> {
  services: Services;
  logger: Logger;
  /** Aborted when the client cancels the request or the server shuts down. */
  signal: AbortSignal;
  reportProgress: ProgressReporter;
  /** Authenticated subject (JWT `sub`) for HTTP, "stdio" for the stdio transport, "anonymous" when auth is off. */
  subject: string;
}

/**
 * One MCP tool: name, schemas, annotations and the handler. Registered on the MCP server by the transport layer, which
 * parses the arguments with `inputSchema` once and hands the handler the parsed value (a handler that parses again with
 * `parseToolInput` gets that value back without a second parse), turns thrown errors into `isError` results through
 * `toolErrorFrom` (tool-errors.ts: ToolErrors, the domain's ComposerErrors, the browser pool's errors), and audits the
 * call. `inputSchema` and `outputSchema` are published as JSON Schema 2020-12.
 */
export interface ToolDefinition<Services, In extends z.ZodObject = z.ZodObject, Out extends z.ZodObject = z.ZodObject> {
  name: string;
  title: string;
  description: string;
  /** A zod object schema (use `.strict()` so unknown keys are rejected with a clear error). */
  inputSchema: In;
  /** Present when the result is structured; the handler's `structuredContent` must match it. */
  outputSchema?: Out;
  annotations: ToolAnnotations;
  handler: (input: z.output<In>, context: ToolContext<Services>) => Promise<CallToolResult>;
}

/**
 * Stable machine-readable error codes returned in tool error results: the domain's (a ComposerError keeps its code)
 * and those only the tool and transport layers produce.
 */
export type ToolErrorCode = ComposerErrorCode | 'BROWSER_BUSY' | 'TASK_LIMIT_REACHED' | 'RESULT_TOO_LARGE' | 'INTERNAL';

/**
 * An error a tool reports to the caller as an `isError` result: a code, what went wrong, and what to do about it.
 * Tools throw it for what the tool layer decides (arguments, a refused composition); the domain throws
 * ComposerErrors, which `tool-errors.ts` maps to it.
 */
export class ToolError extends Error {
  readonly code: ToolErrorCode;
  readonly fix: string;
  readonly details: Record<string, unknown> | undefined;
  readonly retryAfterSeconds: number | undefined;

  constructor(code: ToolErrorCode, message: string, fix: string, options: { details?: Record<string, unknown>; retryAfterSeconds?: number; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'ToolError';
    this.code = code;
    this.fix = fix;
    this.details = options.details;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

/** Key of the structured error inside an error result's `_meta`. */
export const TOOL_ERROR_META_KEY = 'composer-mcp/error';

/** The machine-readable error an `isError` result carries. */
export interface ToolErrorBody {
  code: ToolErrorCode;
  message: string;
  fix: string;
  retryAfterSeconds?: number;
  details?: Record<string, unknown>;
}

/**
 * The `isError` result for a ToolError: a text block a model can read (code, message, fix) and the same facts under
 * `_meta["composer-mcp/error"]` for programs. Not in `structuredContent`: MCP clients validate that against the
 * tool's output schema even on error results, so an error body there would turn every tool error into a protocol error.
 */
export function toolErrorResult(error: ToolError): CallToolResult {
  const body: ToolErrorBody = {
    code: error.code,
    message: error.message,
    fix: error.fix,
    ...(error.retryAfterSeconds !== undefined ? { retryAfterSeconds: error.retryAfterSeconds } : {}),
    ...(error.details ? { details: error.details } : {}),
  };
  const retry = error.retryAfterSeconds !== undefined ? `\nRetry after: ${error.retryAfterSeconds} s` : '';
  return {
    isError: true,
    content: [{ type: 'text', text: `${error.code}: ${error.message}\nFix: ${error.fix}${retry}` }],
    _meta: { [TOOL_ERROR_META_KEY]: body },
  };
}

/** The structured error of a tool result, or undefined when the result is not a tool error made by `toolErrorResult`. */
export function toolErrorOf(result: { isError?: boolean; _meta?: Record<string, unknown> }): ToolErrorBody | undefined {
  if (!result.isError) return undefined;
  return result._meta?.[TOOL_ERROR_META_KEY] as ToolErrorBody | undefined;
}
