import { randomUUID } from 'node:crypto';
import { SpanStatusCode, trace } from '@opentelemetry/api';
import type { CallToolResult, ServerContext } from '@modelcontextprotocol/server';
import type { Logger } from '#common/logger.ts';
import { secretRedactor } from '#common/redaction.ts';
import { withLogContext } from '#common/log-context.ts';
import type { InFlightTracker } from '#common/shutdown.ts';
import { ToolError, toolErrorOf, toolErrorResult, type ProgressReporter, type ToolDefinition } from '#server/tools/tool-definition.ts';
import { toolErrorFrom } from '#server/tools/tool-errors.ts';
import type { RunningCalls } from './running-calls.ts';
import { redactToolResult } from './redact-tool-result.ts';
import { markCheckedOutput, type InputIssue, type ParsedToolInput } from './tool-contract.ts';
import type { ToolMetrics } from './tool-metrics.ts';

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
  /** Calls running in this process, so a cancel arriving in a later HTTP request reaches them (stateless HTTP, 2025 era). */
  runningCalls?: RunningCalls;
}

/** The protocol era of a request: `modern` (2026-07-28, per-request envelope) or `legacy` (initialize handshake). */
export type ProtocolEra = 'modern' | 'legacy';

/** What one call needs from the request that carries it (an adapter over the SDK's handler context). */
export interface CallContext {
  /** JSON-RPC id of the request. */
  requestId: string | number;
  /** Aborted when the client cancels (closes the request's stream, sends notifications/cancelled) or goes away. */
  signal: AbortSignal;
  /** The client's progress token, when it asked for progress. */
  progressToken?: string | number | undefined;
  /** Sends a notification related to this request (progress). */
  notify: (notification: { method: 'notifications/progress'; params: Record<string, unknown> }) => Promise<void>;
  /** The verified subject of the bearer token, when the request carried one. */
  authSubject?: string | undefined;
  /** Who may cancel this call from another request (see RunningCalls); undefined: only this request can. */
  caller?: string | undefined;
  era: ProtocolEra;
}

/** The call context of an SDK handler context (`disconnected`: the HTTP edge's signal that the client went away). */
export function callContextOf(ctx: ServerContext, caller: string | undefined, disconnected?: AbortSignal): CallContext {
  // oxlint-disable-next-line no-underscore-dangle -- `_meta` is the MCP protocol's field name
  const progressToken = ctx.mcpReq._meta?.progressToken;
  return {
    requestId: ctx.mcpReq.id,
    signal: disconnected ? AbortSignal.any([ctx.mcpReq.signal, disconnected]) : ctx.mcpReq.signal,
    progressToken,
    notify: (notification) => ctx.mcpReq.notify(notification),
    authSubject: ctx.http?.authInfo?.clientId || undefined,
    caller,
    era: ctx.mcpReq.envelope ? 'modern' : 'legacy',
  };
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
export function subjectOf(call: Pick<CallContext, 'authSubject'>, defaultSubject: string): string {
  return call.authSubject || defaultSubject;
}

function isAbort(error: unknown, signal: AbortSignal): boolean {
  return signal.aborted && (error === signal.reason || (error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError')));
}

/** One line per problem: `path: message` (the path dotted, `(arguments)` for the whole object). */
export function describeIssues(issues: readonly InputIssue[]): string {
  return issues
    .slice(0, 20)
    .map((i) => `${i.path.length ? i.path.map(String).join('.') : '(arguments)'}: ${i.message}`)
    .join('; ');
}

/** The INVALID_INPUT error for arguments that do not match a tool's input schema. */
export function invalidInputError(toolName: string, issues: readonly InputIssue[]): ToolError {
  return new ToolError('INVALID_INPUT', `Invalid arguments for ${toolName}: ${describeIssues(issues)}.`, `Correct the named arguments to match the tool's input schema (tools/list shows it) and call ${toolName} again.`, {
    details: { issues: issues.slice(0, 20).map((i) => ({ path: i.path.map(String).join('.'), message: i.message })) },
  });
}

function progressReporter(call: CallContext): ProgressReporter {
  const { progressToken } = call;
  if (progressToken === undefined) return async () => {};
  return async (progress, total, message) => {
    try {
      await call.notify({ method: 'notifications/progress', params: { progressToken, progress, ...(total !== undefined ? { total } : {}), message } });
    } catch {
      // The client went away; progress is best-effort and must never fail the call.
    }
  };
}

/**
 * The one place every tool result leaves the tool layer (to the client, or into a task record): the secret redactor
 * (text, structuredContent and _meta; binary payloads pass unchanged). Whatever must hold for every result, whichever
 * tool made it, is applied here.
 */
export function resultLeavingToolLayer(result: CallToolResult): CallToolResult {
  return redactToolResult(result, secretRedactor);
}

/**
 * Runs one tool call with everything around it: the parsed input or INVALID_INPUT naming each bad argument, a span, a
 * cancellation signal (client cancel, client gone, shutdown), progress notifications when the client asked for them,
 * a ToolError, a domain ComposerError or a browser pool error → `isError` result (toolErrorFrom, the one mapping),
 * unexpected error or structured content that breaks the output schema → INTERNAL result
 * (logged once, no stack to the client), one audit line and the call metrics — for every call, valid or not. Every
 * result leaves through resultLeavingToolLayer (the secret redactor).
 */
export async function runToolCall<Services>(tool: ToolDefinition<Services>, input: ParsedToolInput, call: CallContext, env: ToolCallEnvironment<Services>): Promise<CallToolResult> {
  const started = performance.now();
  const end = env.inFlight.begin();
  const subject = subjectOf(call, env.defaultSubject);
  const callId = randomUUID();
  const registration = call.caller !== undefined ? env.runningCalls?.start(call.caller, call.requestId) : undefined;
  const signal = AbortSignal.any([call.signal, ...(env.shutdownSignal ? [env.shutdownSignal] : []), ...(registration ? [registration.signal] : [])]);
  const tracer = trace.getTracer(SERVER_TRACER_NAME);
  const attributes = { 'mcp.tool.name': tool.name, 'mcp.request.id': String(call.requestId), 'mcp.protocol.era': call.era, 'enduser.id': subject };
  return tracer.startActiveSpan(`tools/call ${tool.name}`, { attributes }, (span) =>
    withLogContext({ tool: tool.name, callId, traceId: span.spanContext().traceId }, async () => {
      let result: CallToolResult | undefined;
      let outgoing: CallToolResult | undefined;
      const value = input.valid ? input.value : undefined;
      try {
        if (!input.valid) throw invalidInputError(tool.name, input.issues);
        signal.throwIfAborted();
        // The outgoing (redacted) result is what is checked against the output schema, once: the SDK skips it then.
        result = resultLeavingToolLayer(await tool.handler(input.value as never, { services: env.services, logger: env.logger, signal, reportProgress: progressReporter(call), subject }));
        if (!result.isError && tool.outputSchema) {
          const checked = await tool.outputSchema.safeParseAsync(result.structuredContent);
          if (!checked.success) throw new Error(`structured content does not match the output schema: ${describeIssues(checked.error.issues)}`);
          markCheckedOutput(result.structuredContent);
        }
        outgoing = result;
      } catch (error) {
        const toolError = toolErrorFrom(error);
        if (toolError) {
          result = toolErrorResult(toolError);
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
      const uid = compositionUidOf(value, result);
      span.setAttribute('mcp.tool.outcome', outcome);
      if (uid) span.setAttribute('composer.composition.uid', uid);
      if (outcome !== 'ok') span.setStatus({ code: SpanStatusCode.ERROR, message: outcome });
      span.end();
      env.metrics.record(tool.name, outcome, durationMs);
      env.logger.info('Tool call completed', { subject, tool: tool.name, ...(uid ? { compositionUid: uid } : {}), outcome, durationMs, protocol: call.era });
      return outgoing === result ? result : resultLeavingToolLayer(result);
    }),
  );
}
