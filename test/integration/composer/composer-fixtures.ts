import { SignJWT } from 'jose';
import type { CallToolResult } from '@modelcontextprotocol/server';
import { createLogger } from '#common/logger.ts';
import { DEFAULT_VALIDATION_LIMITS } from '#server/composer/validator/limits.ts';
import type { ComposerServices, ComposerSettings } from '#server/tools/services.ts';
import { toolErrorOf, toolErrorResult, type ToolDefinition, type ToolErrorBody } from '#server/tools/tool-definition.ts';
import { toolErrorFrom } from '#server/tools/tool-errors.ts';

/** A quiet logger for tests. */
export const quietLogger = () => createLogger({ component: 'test', level: 'error', format: 'json' });

/** An HS256 JWT for the stand-in, padded with a large claim so it is about the 3.3 KB of the real token. */
export async function standinToken(secret: string, subject = 'tester'): Promise<string> {
  return new SignJWT({ name: 'Tester', pad: 'x'.repeat(2400) })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(subject)
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(secret));
}

export { everyWidgetComposition } from '#support/fixtures/every-widget-composition.ts';

/** Settings for the stand-in. */
export function standinSettings(urls: { appUrl: string; apiUrl: string }, accessToken: string | undefined): ComposerSettings {
  return { composerUrl: urls.appUrl, apiUrl: urls.apiUrl, accessToken, projectKey: 'project-key-1', connectorUid: 'connector-1', apiEnv: 'prd' };
}

/** Services for the tools (limits default). */
export function composerServices(parts: Partial<ComposerServices> & Pick<ComposerServices, 'settings'>): ComposerServices {
  return { version: '0.0.0-test', storage: undefined, browsers: undefined, limits: { ...DEFAULT_VALIDATION_LIMITS }, ...parts };
}

/** Progress reports a call made. */
export interface CallRecord {
  result: CallToolResult;
  progress: { progress: number; total: number | undefined; message: string }[];
}

/**
 * Calls a tool's handler the way the transport does: a ToolError, ComposerError or browser pool error → `isError`
 * result (toolErrorFrom), and a success's structured content
 * must match the tool's output schema. Other errors propagate (a bug).
 */
export async function callTool(tool: ToolDefinition<ComposerServices>, input: unknown, services: ComposerServices, signal = new AbortController().signal): Promise<CallRecord> {
  const progress: CallRecord['progress'] = [];
  try {
    const result = await tool.handler(input as never, {
      services,
      logger: quietLogger(),
      signal,
      subject: 'test',
      reportProgress: async (p, total, message) => {
        progress.push({ progress: p, total, message });
      },
    });
    // The MCP SDK rejects structured content that does not match the declared output schema: check it here too.
    if (!result.isError && tool.outputSchema) {
      const checked = tool.outputSchema.safeParse(result.structuredContent);
      if (!checked.success) throw new Error(`${tool.name} returned structured content outside its output schema: ${checked.error.message}`);
    }
    return { result, progress };
  } catch (error) {
    const toolError = toolErrorFrom(error);
    if (toolError) return { result: toolErrorResult(toolError), progress };
    throw error;
  }
}

/** The structured error of an `isError` result (undefined for success); fails loudly for an error without one. */
export function errorOf(result: CallToolResult): ToolErrorBody | undefined {
  if (!result.isError) return undefined;
  const body = toolErrorOf(result);
  if (!body) throw new Error(`error result without a structured error: ${JSON.stringify(result.content)}`);
  return body;
}
