import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { completable } from '@modelcontextprotocol/sdk/server/completable.js';
import { CallToolRequestSchema, CancelledNotificationSchema, ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import type { ToolDefinition } from '#server/tools/tool-definition.ts';
import { CREATE_LESSON_PROMPT, createLessonArgs, createLessonMessages } from './create-lesson-prompt.ts';
import { registerCatalogResources, type CatalogDocuments } from './catalog-resources.ts';
import { runToolCall, type ToolCallEnvironment } from './tool-call.ts';
import { SERVER_NAME, SERVER_VERSION } from './server-info.ts';

/** What an MCP server instance is built from. Built once per process; `createMcpServer` may run once per request. */
export interface McpServerSetup<Services> extends ToolCallEnvironment<Services> {
  tools: ToolDefinition<Services>[];
  catalog: CatalogDocuments;
  /**
   * Called on every built server after the tools, the catalog resources and the prompt are registered, to add more
   * resources, resource templates or prompts (an embedding caller's own; the production entry point passes none).
   * Extra tools go in `tools`, so their calls run through `runToolCall` like every other tool.
   */
  extend?: (server: McpServer) => void;
}

/** Content languages the tools take; offered as completions of the create_lesson prompt's `language` argument. */
const CONTENT_LANGUAGES = ['pt_br', 'en'] as const;

function completeLanguage(value: string | undefined): string[] {
  return CONTENT_LANGUAGES.filter((language) => language.startsWith((value ?? '').trim().toLowerCase()));
}

/**
 * The create_lesson arguments with `language` completable. The SDK looks for the completer on the optional wrapper
 * when answering `completion/complete` but on the inner schema when deciding to declare the `completions`
 * capability, so both carry it.
 */
const createLessonArgsWithCompletions = {
  ...createLessonArgs,
  language: completable(completable(createLessonArgs.language.unwrap().clone(), completeLanguage).optional().describe(createLessonArgs.language.description ?? ''), completeLanguage),
};

const INSTRUCTIONS = [
  'Author EuConquisto Composer lessons.',
  'Workflow: composer_guidance → composer_build_composition → composer_validate_composition → composer_save_composition → composer_open_composition.',
  'Catalog, guidance, build and validate work without Composer credentials; save, get, open and preview need them (errors say which setting is missing).',
].join(' ');

/**
 * Builds an MCP server (name `composer-mcp`, the package version) with every tool registered through `registerTool`
 * (schemas and annotations as listed; every call — valid or not — goes through `runToolCall`), the catalog resources and the
 * `create_lesson` prompt (its `language` argument completable, so the server declares `completions`), then whatever
 * `setup.extend` adds. Cheap enough to build per HTTP request (stateless transport); `request.caller` (the HTTP
 * request's subject) lets a `notifications/cancelled` in this request cancel that caller's call running elsewhere in
 * the process.
 */
export function createMcpServer<Services>(setup: McpServerSetup<Services>, request: { caller?: string | undefined } = {}): McpServer {
  const server = new McpServer({ name: SERVER_NAME, version: SERVER_VERSION, title: 'EuConquisto Composer' }, { instructions: INSTRUCTIONS });
  for (const tool of setup.tools) {
    server.registerTool(
      tool.name,
      {
        title: tool.title,
        description: tool.description,
        inputSchema: tool.inputSchema,
        ...(tool.outputSchema ? { outputSchema: tool.outputSchema } : {}),
        annotations: { ...tool.annotations, title: tool.annotations.title ?? tool.title },
      },
      (args: unknown, extra) => runToolCall(tool, args, extra, setup, request),
    );
  }
  // The SDK would validate arguments itself and answer a mismatch without calling us, so such calls would go
  // unaudited and uncounted. Our handler validates (INVALID_INPUT naming each argument), audits and counts every call.
  const byName = new Map(setup.tools.map((tool) => [tool.name, tool]));
  server.server.setRequestHandler(CallToolRequestSchema, (call, extra) => {
    const tool = byName.get(call.params.name);
    if (!tool) throw new McpError(ErrorCode.InvalidParams, `Unknown tool "${call.params.name}"; tools/list names the tools of this server.`);
    return runToolCall(tool, call.params.arguments, extra, setup, request);
  });
  // Stateless HTTP: a cancel arrives in its own request, at a fresh server that never saw the call, so it is routed
  // through the process-wide registry, scoped to the caller. (One long-lived server, as over stdio, needs none of this.)
  const { runningCalls } = setup;
  if (runningCalls && request.caller !== undefined) {
    const caller = request.caller;
    server.server.setNotificationHandler(CancelledNotificationSchema, (notification) => {
      const { requestId, reason } = notification.params;
      if (requestId === undefined) return;
      const outcome = runningCalls.cancel(caller, requestId, reason ?? 'no reason given');
      setup.logger.info('Received cancellation', { requestId: String(requestId), subject: caller, outcome });
    });
  }
  registerCatalogResources(server, setup.catalog);
  server.registerPrompt(
    CREATE_LESSON_PROMPT,
    { title: 'Create a lesson', description: 'Guides the model through guidance → build → validate → save → open for a new Composer lesson.', argsSchema: createLessonArgsWithCompletions },
    (args) => createLessonMessages(args),
  );
  setup.extend?.(server);
  return server;
}
