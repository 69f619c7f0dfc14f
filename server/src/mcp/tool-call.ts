import { randomUUID } from 'node:crypto';
import { SpanStatusCode, trace } from '@opentelemetry/api';
import type { CallToolResult, ServerNotification, ServerRequest } from '@modelcontextprotocol/sdk/types.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { Logger } from '#common/logger.ts';
import { secretRedactor } from '#common/redaction.ts';
import { withLogContext } from '#common/log-context.ts';
import { ToolError, toolErrorOf, toolErrorResult, type ProgressReporter, type ToolDefinition } from '#server/tools/tool-definition.ts';
import type { InFlightTracker } from '#common/shutdown.ts';
import type { ToolMetrics } from './tool-metrics.ts';
import type { RunningCalls } from './running-calls.ts';
import { redactToolResult } from './redact-tool-result.ts';

/** The SDK's per-request context handed to tool callbacks. */
export type RequestExtra = RequestHandlerExtra<ServerRequest, ServerNotification>;

/** Tracer name of the MCP server's spans. */
export const SERVER_TRACER_NAME = 'composer-mcp-server';

/** What every wrapped tool call shares: services, logger, instruments, and the in-flight counter for shutdown. */
export interface ToolCallEnvironment<Services> {
  services: Services;
  logger: Logger;
  metrics: ToolMetrics;
  inFlight: InFlightTracker;
  /** Subject when the request carries no authenticated identity ("stdio", "anonymous"). */
  defaultSubject: string;
  /** Aborted when the server gives up on in-flight work (shutdown grace passed). */
  shutdownSignal?: AbortSignal;
  /** Calls running in this process, so a cancel arriving in a later HTTP request reaches them (stateless HTTP). */
  runningCalls?: RunningCalls;
}

/** The outcome label of a result: "ok", or the error code of an `isError` result ("ERROR" when it has none). */
export function outcomeOf(result: CallToolResult): string {
  if (!result.isError) return 'ok';
  const error = toolErrorOf(result);
  return typeof error?.code === 'string' ? error.code : 'ERROR';
}

/** The composition uid a call concerns: the `uid` argument, else a `uid` in the structured result. */
export function compositionUidOf(input: unknown, result: CallToolResult | undefined): string | undefined {
  const fromInput = (input as { uid?: unknown } | undefined)?.uid;
  if (typeof fromInput === 'string' && fromInput) return fromInput;
  const fromResult = (result?.structuredContent as { uid?: unknown } | undefined)?.uid;
  return typeof fromResult === 'string' && fromResult ? fromResult : undefined;
}

/** The caller's identity for audit: the token's subject when authenticated, else the transport's default. */
export function subjectOf(extra: Pick<RequestExtra, 'authInfo'>, defaultSubject: string): string {
  return extra.authInfo?.clientId || defaultSubject;
}

function isAbort(error: unknown, signal: AbortSignal): boolean {
  return signal.aborted && (error === signal.reason || (error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError')));
}

/** One line per problem: `path: message` (the path dotted, `(arguments)` for the whole object). */
export function describeIssues(issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>): string {
  return issues
    .slice(0, 20)
    .map((i) => `${i.path.length ? i.path.map(String).join('.') : '(arguments)'}: ${i.message}`)
    .join('; ');
}

/** The INVALID_INPUT error for arguments that do not match a tool's input schema. */
export function invalidInputError(toolName: string, issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>): ToolError {
  return new ToolError('INVALID_INPUT', `Invalid arguments for ${toolName}: ${describeIssues(issues)}.`, `Correct the named arguments to match the tool's input schema (tools/list shows it) and call ${toolName} again.`, {
    details: { issues: issues.slice(0, 20).map((i) => ({ path: i.path.map(String).join('.'), message: i.message })) },
  });
}

function progressReporter(extra: RequestExtra): ProgressReporter {
  // oxlint-disable-next-line no-underscore-dangle -- `_meta` is the MCP protocol's field name
  const progressToken = extra._meta?.progressToken;
  if (progressToken === undefined) return async () => {};
  return async (progress, total, message) => {
    try {
      await extra.sendNotification({
        method: 'notifications/progress',
        params: { progressToken, progress, ...(total !== undefined ? { total } : {}), message },
      });
    } catch {
      // The client went away; progress is best-effort and must never fail the call.
    }
  };
}

/**
 * Runs one tool call with everything around it: input validation (INVALID_INPUT naming each bad argument), a span, a
 * cancellation signal (client cancel or shutdown), progress notifications when the client asked for them, ToolError →
 * `isError` result, unexpected error or structured content that breaks the output schema → INTERNAL result (logged
 * once, no stack to the client), one audit line and the call metrics — for every call, valid or not. Every result
 * leaves through the secret redactor (text, structuredContent and _meta).
 */
export async function runToolCall<Services>(
  tool: ToolDefinition<Services>,
  args: unknown,
  extra: RequestExtra,
  env: ToolCallEnvironment<Services>,
): Promise<CallToolResult> {
  const started = performance.now();
  const end = env.inFlight.begin();
  const subject = subjectOf(extra, env.defaultSubject);
  const callId = randomUUID();
  const registration = env.runningCalls?.start(subject, extra.requestId);
  const signal = AbortSignal.any([extra.signal, ...(env.shutdownSignal ? [env.shutdownSignal] : []), ...(registration ? [registration.signal] : [])]);
  const tracer = trace.getTracer(SERVER_TRACER_NAME);
  return tracer.startActiveSpan(`tools/call ${tool.name}`, { attributes: { 'mcp.tool.name': tool.name, 'mcp.request.id': String(extra.requestId), 'enduser.id': subject } }, (span) =>
    withLogContext({ tool: tool.name, callId, traceId: span.spanContext().traceId }, async () => {
      let result: CallToolResult | undefined;
      let input: unknown = args;
      try {
        const parsed = await tool.inputSchema.safeParseAsync(args ?? {});
        if (!parsed.success) throw invalidInputError(tool.name, parsed.error.issues);
        input = parsed.data;
        signal.throwIfAborted();
        result = await tool.handler(parsed.data as never, { services: env.services, logger: env.logger, signal, reportProgress: progressReporter(extra), subject });
        if (!result.isError && tool.outputSchema) {
          const checked = await tool.outputSchema.safeParseAsync(result.structuredContent);
          if (!checked.success) throw new Error(`structured content does not match the output schema: ${describeIssues(checked.error.issues)}`);
        }
      } catch (error) {
        if (error instanceof ToolError) {
          result = toolErrorResult(error);
        } else if (isAbort(error, signal)) {
          result = toolErrorResult(new ToolError('CANCELLED', 'The call was cancelled before it finished.', 'Call the tool again if you still need the result.'));
        } else {
          env.logger.error('Tool call failed unexpectedly', { tool: tool.name, subject, error });
          span.recordException(error as Error);
          result = toolErrorResult(
            new ToolError('INTERNAL', `The server failed while running ${tool.name} (reference ${callId}).`, 'Retry; if it keeps failing, report the reference to the operators of this server.'),
          );
        }
      } finally {
        registration?.end();
        end();
      }
      const outcome = outcomeOf(result);
      const durationMs = Math.round((performance.now() - started) * 10) / 10;
      const uid = compositionUidOf(input, result);
      span.setAttribute('mcp.tool.outcome', outcome);
      if (uid) span.setAttribute('composer.composition.uid', uid);
      if (outcome !== 'ok') span.setStatus({ code: SpanStatusCode.ERROR, message: outcome });
      span.end();
      env.metrics.record(tool.name, outcome, durationMs);
      env.logger.info('Tool call completed', { subject, tool: tool.name, ...(uid ? { compositionUid: uid } : {}), outcome, durationMs });
      return redactToolResult(result, secretRedactor);
    }),
  );
}
