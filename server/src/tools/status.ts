import { z } from 'zod';
import { missingStorageSettings } from '#server/composer/storage-client.ts';
import { checkReachability, describeReachability, type Reachability } from '#server/composer/storage/reachability.ts';
import type { ComposerServices } from './services.ts';
import type { ToolDefinition } from './tool-definition.ts';
import { parseToolInput } from './parse-input.ts';

const inputSchema = z.object({}).strict();

const reachabilitySchema = z.object({
  url: z.string(),
  state: z
    .enum(['ok', 'slow', 'failing', 'timeout', 'unreachable'])
    .describe('ok: answered within 1 s; slow: answered, later; failing: answered 5xx; timeout: no answer within 5 s (much slower, or down); unreachable: no connection (down, or a wrong URL).'),
  reachable: z.boolean().describe('Any HTTP answer came (the host is up), whatever its status and latency.'),
  status: z.number().int().optional(),
  latencyMs: z.number(),
  error: z.string().optional(),
});

const outputSchema = z.object({
  version: z.string(),
  browsers: z
    .object({ configured: z.boolean(), browsers: z.number().int(), healthy: z.number().int(), draining: z.number().int(), sessionsInUse: z.number().int(), capacity: z.number().int(), queueDepth: z.number().int(), prewarmed: z.number().int() })
    .describe('The browser pool as this server replica sees it.'),
  composer: z.object({
    composerUrl: z.string(),
    apiUrl: z.string(),
    credentialsConfigured: z.boolean(),
    missingSettings: z.array(z.string()),
    app: reachabilitySchema,
    api: reachabilitySchema,
  }),
});

/** composer_status: server version, browser pool figures, and whether the Composer and its API answer. */
export const statusTool: ToolDefinition<ComposerServices, typeof inputSchema, typeof outputSchema> = {
  name: 'composer_status',
  title: 'Server and Composer status',
  description: 'Reports the server version, the browser pool (browsers, healthy, draining, sessions in use, capacity, queue depth, pre-warmed), which Composer settings are missing, and how the Composer app and its storage API answer (one probe each, up to 5 s): ok, slow (answering, but after more than 1 s), failing (5xx), timeout (no answer within 5 s) or unreachable (no connection). Never fails because the Composer is down: it says so.',
  inputSchema,
  outputSchema,
  annotations: { title: 'Status', readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  handler: async (rawInput, context) => {
    parseToolInput(inputSchema, rawInput);
    const { services } = context;
    const stats = services.browsers?.stats();
    const [app, api] = await Promise.all([checkReachability(services.settings.composerUrl), checkReachability(services.settings.apiUrl)]);
    const missing = missingStorageSettings(services.settings);
    const result = {
      version: services.version,
      browsers: { configured: services.browsers !== undefined, browsers: stats?.browsers ?? 0, healthy: stats?.healthy ?? 0, draining: stats?.draining ?? 0, sessionsInUse: stats?.sessionsInUse ?? 0, capacity: stats?.capacity ?? 0, queueDepth: stats?.queueDepth ?? 0, prewarmed: stats?.prewarmed ?? 0 },
      composer: { composerUrl: services.settings.composerUrl, apiUrl: services.settings.apiUrl, credentialsConfigured: missing.length === 0, missingSettings: missing, app, api },
    };
    const pool = stats ? `${stats.healthy}/${stats.browsers} browsers healthy, ${stats.sessionsInUse}/${stats.capacity} sessions in use, ${stats.queueDepth} queued` : 'no browser pool configured';
    const reach = (r: Reachability) => describeReachability(r);
    return {
      content: [{ type: 'text', text: `composer-mcp ${services.version}: ${pool}. Composer app ${reach(app)}; API ${reach(api)}.${missing.length ? ` Missing settings: ${missing.join(', ')}.` : ''}` }],
      structuredContent: result,
    };
  },
};
