import { CLIENT_CAPABILITIES_META_KEY, completable, McpServer, type CacheHint, type CallToolResult, type ServerContext } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { ToolDefinition } from '#server/tools/tool-definition.ts';
import { registerCatalogResources, type CatalogDocuments } from './catalog-resources.ts';
import { CREATE_LESSON_PROMPT, createLessonArgs, createLessonMessages } from './create-lesson-prompt.ts';
import { SERVER_INSTRUCTIONS, SERVER_NAME, SERVER_TITLE, SERVER_VERSION } from './server-info.ts';
import { callContextOf, runToolCall, type ProtocolEra, type ToolCallEnvironment } from './tool-call.ts';
import { toolContract, type ParsedToolInput } from './tool-contract.ts';
import { completeGrade, completeSubject } from '#server/composer/guidance/completions.ts';

/**
 * Runs chosen tools as tasks (the 2026-07-28 `io.modelcontextprotocol/tasks` extension) for clients that declare it.
 * Implemented in ./tasks; the factory only asks it which calls become tasks and lets it register its methods.
 */
export interface TaskRunner<Services> {
  /** Names of the tools that become tasks when the client declares the extension. */
  readonly toolNames: ReadonlySet<string>;
  /** Names of the tools that run only as tasks (the HTTP edge refuses them to a request without the extension). */
  readonly requiredToolNames: ReadonlySet<string>;
  /** Adds the extension capability and the tasks/get and tasks/cancel methods to a modern-era server. */
  register(server: McpServer): void;
  /** Starts `tool` as a task (the call runs on in the background) and answers the CreateTaskResult. */
  start(tool: ToolDefinition<Services>, input: ParsedToolInput, ctx: ServerContext, caller: string | undefined): Promise<CallToolResult>;
}

/** What an MCP server instance is built from. Built once per process; `createMcpServer` runs once per request. */
export interface McpServerSetup<Services> extends ToolCallEnvironment<Services> {
  /** Every tool, in the order `tools/list` answers them. */
  tools: ToolDefinition<Services>[];
  catalog: CatalogDocuments;
  /**
   * Called on every built server after the tools, the catalog resources and the prompt are registered, to add more
   * resources, resource templates or prompts (an embedding caller's own; the production entry point passes none).
   * Extra tools go in `tools`, so their calls run through `runToolCall` like every other tool.
   */
  extend?: (server: McpServer) => void;
  /** Long tools as tasks (HTTP only: a task outlives its request, and its state must reach every replica). */
  tasks?: TaskRunner<Services>;
}

/** Which request (HTTP) or connection (stdio) an instance serves. */
export interface ServingContext {
  era: ProtocolEra;
  transport: 'http' | 'stdio';
  /** Who may cancel this request's calls from another request (legacy-era HTTP only); see RunningCalls. */
  caller?: string | undefined;
  /** The name of the tool this request calls as a task, when the edge saw a tools/call that will become one. */
  taskTool?: string | undefined;
  /** Aborted when the HTTP client went away before the answer ended. */
  disconnected?: AbortSignal | undefined;
}

/**
 * How long 2026-07-28 clients and shared caches may keep what never changes while this version runs: the tool,
 * prompt and resource lists, the catalog resources and server/discover (they differ only between versions).
 */
export const STABLE_CACHE_HINT: CacheHint = { ttlMs: 300_000, cacheScope: 'public' };

/** Content languages the tools take; offered as completions of the create_lesson prompt's `language` argument. */
const CONTENT_LANGUAGES = ['pt_br', 'en'] as const;

function completeLanguage(value: string | undefined): string[] {
  return CONTENT_LANGUAGES.filter((language) => language.startsWith((value ?? '').trim().toLowerCase()));
}

/** The create_lesson arguments with `subject`, `grade` and `language` completable ("Ci" → Ciências, "7" → 7º ano). */
const createLessonArgsSchema = z.object({
  ...createLessonArgs,
  subject: completable(createLessonArgs.subject, completeSubject),
  grade: completable(createLessonArgs.grade, completeGrade),
  language: completable(createLessonArgs.language.unwrap(), completeLanguage)
    .optional()
    .describe(createLessonArgs.language.description ?? ''),
});

/** True when the 2026-07-28 request declares the tasks extension in its client capabilities. */
export function declaresTasksExtension(envelope: ServerContext['mcpReq']['envelope']): boolean {
  const capabilities = (envelope as Record<string, unknown> | undefined)?.[CLIENT_CAPABILITIES_META_KEY] as { extensions?: Record<string, unknown> } | undefined;
  return Boolean(capabilities?.extensions && 'io.modelcontextprotocol/tasks' in capabilities.extensions);
}

/**
 * Builds an MCP server (name `composer-mcp`, the package version) for one HTTP request or one stdio connection: every
 * tool through `registerTool` in the order of `setup.tools` with its parsed-input contract, JSON Schema 2020-12 input
 * and output schemas and annotations (each call — valid or not — runs through `runToolCall`), the catalog resources and
 * the `create_lesson` prompt (its `language` argument completable), cache hints for what only changes between
 * versions, the tasks extension on modern-era HTTP instances, then whatever `setup.extend` adds. Nothing here
 * replaces a handler of the SDK: the SDK's own `tools/call` parses through the contract and calls back.
 */
export function createMcpServer<Services>(setup: McpServerSetup<Services>, serving: ServingContext): McpServer {
  const server = new McpServer(
    { name: SERVER_NAME, version: SERVER_VERSION, title: SERVER_TITLE },
    {
      instructions: SERVER_INSTRUCTIONS,
      capabilities: { tools: { listChanged: false }, resources: { listChanged: false }, prompts: { listChanged: false } },
      cacheHints: {
        'tools/list': STABLE_CACHE_HINT,
        'prompts/list': STABLE_CACHE_HINT,
        'resources/list': STABLE_CACHE_HINT,
        'resources/templates/list': STABLE_CACHE_HINT,
        'server/discover': STABLE_CACHE_HINT,
      },
    },
  );
  const tasks = serving.transport === 'http' && serving.era === 'modern' ? setup.tasks : undefined;
  for (const tool of setup.tools) {
    const contract = toolContract(tool);
    const asTask = tasks?.toolNames.has(tool.name) === true;
    // A task handle carries no structured content, so the instance serving the request that becomes a task leaves the
    // output schema out (it lists no tools: it serves that one request). runToolCall checks the eventual result.
    const outputSchema = asTask && serving.taskTool === tool.name ? undefined : contract.output;
    server.registerTool(
      tool.name,
      {
        title: tool.title,
        description: tool.description,
        inputSchema: contract.input,
        ...(outputSchema ? { outputSchema } : {}),
        annotations: { ...tool.annotations, title: tool.annotations.title ?? tool.title },
      },
      async (input: ParsedToolInput, ctx: ServerContext) => {
        if (asTask && tasks && declaresTasksExtension(ctx.mcpReq.envelope)) return tasks.start(tool, input, ctx, serving.caller);
        return runToolCall(tool, input, callContextOf(ctx, serving.caller, serving.disconnected), setup);
      },
    );
  }
  registerCatalogResources(server, setup.catalog, STABLE_CACHE_HINT);
  server.registerPrompt(
    CREATE_LESSON_PROMPT,
    { title: 'Create a lesson', description: 'Guides the model through guidance → build → validate → save → open for a new Composer lesson.', argsSchema: createLessonArgsSchema },
    (args) => createLessonMessages(args),
  );
  tasks?.register(server);
  setup.extend?.(server);
  return server;
}
