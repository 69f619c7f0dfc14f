import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { secretRedactor, type SecretRedactor } from '#common/redaction.ts';
import { DEFAULT_VALIDATION_LIMITS } from '#server/composer/validator/limits.ts';
import { DEFAULT_PAGE_SETTINGS } from '#server/composer/session/page-settings.ts';
import { DEFAULT_PAGE_ACCESS } from '#server/composer/broker/page-access-settings.ts';
import { parseApiCallRule } from '#server/composer/broker/read-only-policy.ts';
import { DEFAULT_CAPTURE_LIMITS } from '#server/composer/session/page-capture.ts';

/** Environment variable prefix of the server's configuration (e.g. `COMPOSER_MCP_COMPOSER__ACCESS_TOKEN`). */
export const SERVER_ENV_PREFIX = 'COMPOSER_MCP';

const csv = (description: string) =>
  z
    .preprocess((v) => (typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter(Boolean) : v), z.array(z.string().min(1)))
    .default([])
    .describe(description);

const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();

const httpSchema = z
  .object({
    host: z.string().min(1).default('127.0.0.1').describe('Address the HTTP transport listens on (use 0.0.0.0 in a pod).'),
    port: port.default(8080).describe('TCP port of the HTTP transport; 0 picks a free port (logged at start).'),
    allowedHosts: csv(
      'Host header names accepted (DNS-rebinding protection), without port, e.g. "composer-mcp.tools.svc". Empty: loopback names only when listening on loopback, any Host otherwise.',
    ),
    allowedOrigins: csv(
      'Origin header values accepted from browsers, e.g. "https://claude.ai". Requests without an Origin header (non-browser clients) are always accepted.',
    ),
    bodyLimit: z
      .string()
      .regex(/^\d+(b|kb|mb)$/i, 'a size like "512kb" or "4mb"')
      .default('4mb')
      .describe('Largest request body accepted on /mcp; bigger requests get 413. Must leave room for a composition of composer.limits.maxDocumentBytes in a save (about twice it: clients may escape non-ASCII text).'),
  })
  .strict();

const authSchema = z
  .object({
    mode: z.enum(['none', 'jwt']).default('none').describe('"jwt" requires a bearer JWT on /mcp; "none" accepts every caller (loopback or trusted networks only).'),
    issuer: z.string().optional().describe('Expected `iss` claim of bearer tokens (required when mode is jwt).'),
    audience: z.string().optional().describe('Expected `aud` claim of bearer tokens (required when mode is jwt); usually the resource URL.'),
    hs256SecretFile: z.string().optional().describe('File holding the shared HS256 secret that signs bearer tokens (one of this or jwksUrl).'),
    jwksUrl: z.url().optional().describe('JWKS URL of the authorization server whose keys sign bearer tokens (one of this or hs256SecretFile).'),
    resourceUrl: z.url().optional().describe('Public URL of this MCP endpoint, published as `resource` in the protected-resource metadata (default: derived from the request).'),
    authorizationServers: csv('Issuer URLs of the authorization servers clients should get tokens from (protected-resource metadata).'),
    clockToleranceSeconds: z.coerce.number().int().min(0).default(30).describe('Clock skew tolerated when checking `exp` and `nbf`.'),
  })
  .strict()
  .superRefine((auth, ctx) => {
    if (auth.mode !== 'jwt') return;
    if (!auth.issuer) ctx.addIssue({ code: 'custom', path: ['issuer'], message: 'required when auth.mode is "jwt"' });
    if (!auth.audience) ctx.addIssue({ code: 'custom', path: ['audience'], message: 'required when auth.mode is "jwt"' });
    if (!auth.hs256SecretFile === !auth.jwksUrl) {
      ctx.addIssue({ code: 'custom', path: ['hs256SecretFile'], message: 'set exactly one of auth.hs256SecretFile or auth.jwksUrl when auth.mode is "jwt"' });
    }
  });

const rateLimitSchema = z
  .object({
    windowSeconds: positiveInt.default(60).describe('Length of the rate-limit window.'),
    maxRequests: positiveInt.default(600).describe('Requests one client (JWT subject, else IP address) may make to /mcp per window on each replica (counts are kept per process); more get 429 with Retry-After.'),
    maxFailedAuthentications: positiveInt
      .default(30)
      .describe('Failed authentications (answered 401) one client address may cause per window on each replica; beyond that, /mcp answers 429 with Retry-After before any token is verified.'),
  })
  .strict();

const limitsSchema = z
  .object({
    quizMinQuestions: positiveInt.default(DEFAULT_VALIDATION_LIMITS.quizMinQuestions).describe('Fewest questions a quiz widget may have.'),
    quizMaxQuestions: positiveInt.default(DEFAULT_VALIDATION_LIMITS.quizMaxQuestions).describe('Most questions a quiz widget may have.'),
    flashcardsMinCards: positiveInt.default(DEFAULT_VALIDATION_LIMITS.flashcardsMinCards).describe('Fewest cards a flashcards widget may have.'),
    flashcardsMaxCards: positiveInt.default(DEFAULT_VALIDATION_LIMITS.flashcardsMaxCards).describe('Most cards a flashcards widget may have.'),
    maxDocumentBytes: positiveInt.default(DEFAULT_VALIDATION_LIMITS.maxDocumentBytes).describe('Largest serialized composition the validator accepts, in bytes.'),
    maxWidgets: positiveInt.default(DEFAULT_VALIDATION_LIMITS.maxWidgets).describe('Most widgets a composition may have.'),
  })
  .strict();

const idempotencySchema = z
  .object({
    store: z.enum(['memory', 'kubernetes']).default('memory').describe('Where idempotency keys of saves are kept: "memory" (per process: a retried save that reaches another replica can create a second composition) or "kubernetes" (one ConfigMap per key in the server\'s namespace: exactly-once across replicas).'),
    namespace: z.string().min(1).optional().describe('Namespace of the idempotency ConfigMaps (store "kubernetes"); default the POD_NAMESPACE environment variable (the chart sets it from the downward API).'),
    ttlSeconds: positiveInt.default(86400).describe('How long a save\'s idempotency record is kept; older ones are deleted by a periodic sweep (a retry after that may create a second composition).'),
    sweepIntervalSeconds: positiveInt.default(600).describe('Time between sweeps of expired idempotency records (store "kubernetes").'),
    maxRecords: positiveInt
      .default(10_000)
      .describe('Most idempotency records kept. Store "memory": past it the least recently used saved keys are forgotten, never a save still uploading or whose outcome is unknown; when only those are left, a save with a new key is refused with IDEMPOTENCY_STORE_FULL. Store "kubernetes": while that many records exist in the namespace (counted at each sweep, near the cap every 10 s, and kept current by each replica\'s own writes), a save with a new key is refused with IDEMPOTENCY_STORE_FULL; keep it below the namespace\'s ConfigMap quota (the chart\'s server.idempotency.maxConfigMaps).'),
  })
  .strict();

const selector = (description: string) => z.string().default('').describe(description);

const pageSchema = z
  .object({
    readyTimeoutMs: positiveInt.default(DEFAULT_PAGE_SETTINGS.readyTimeoutMs).describe('Longest wait of open and preview, from navigation until the composition is seen rendered; after it the capture is returned with ready=false and what was not seen.'),
    domQuietMs: positiveInt.default(DEFAULT_PAGE_SETTINGS.domQuietMs).describe('The page counts as rendered only after its DOM has not changed for this long (ms), once the content is seen.'),
    partialRenderSettleMs: positiveInt.default(DEFAULT_PAGE_SETTINGS.partialRenderSettleMs).describe('With some widgets seen and others not, report the partial render (ready=false) once the DOM has not changed for this long (ms) instead of waiting for the deadline.'),
    requireTitle: z
      .boolean()
      .default(DEFAULT_PAGE_SETTINGS.requireTitle)
      .describe('Require the composition\'s title to be seen on the page before it counts as rendered (set false if the Composer view does not show the title).'),
    readySelector: selector('Optional CSS selector that must be visible before the page counts as rendered (a DOM-specific signal of the real Composer; empty: none).'),
    loadingSelector: selector('Optional CSS selector of the Composer\'s loading placeholder: while a visible element matches it the page is not rendered (empty: none).'),
    widgetSelector: selector('Optional CSS selector of one rendered widget. Empty (the default): widgets are found by their own text and media, in any DOM; set: by this selector.'),
    widgetTypeAttribute: selector('With widgetSelector: the attribute of a widget element that holds its type (empty: the type comes from the document).'),
    widgetIdAttribute: selector('With widgetSelector: the attribute of a widget element that holds its id (empty: widgets are matched to the document by page order).'),
    assetCacheBytes: z.coerce
      .number()
      .int()
      .min(0)
      .default(DEFAULT_PAGE_SETTINGS.assetCacheBytes)
      .describe('Bytes of the Composer app\'s immutable assets (scripts, styles, fonts, images marked immutable or fresh for an hour or more) kept in the server\'s memory and served to every browser lease, whose fresh context starts with an empty HTTP cache; never API answers. 0 turns it off.'),
    viewport: z
      .object({
        width: positiveInt.default(DEFAULT_PAGE_SETTINGS.viewport.width).describe('Viewport width of screenshots, in CSS pixels.'),
        height: positiveInt.default(DEFAULT_PAGE_SETTINGS.viewport.height).describe('Viewport height of screenshots, in CSS pixels.'),
      })
      .strict()
      .prefault({})
      .describe('Viewport of the browser tools\' screenshots.'),
  })
  .strict();

const pageAccessSchema = z
  .object({
    readOnlyApiCalls: csv(
      'Extra storage API calls a page opened by composer_open_composition or composer_preview_composition may make, each "GET /path" or "HEAD /path" relative to composer.apiUrl (`*` matches within one path segment, `**` anything), e.g. "GET /storage/v1.0/assets/**". The sign-in check (GET /auth/v1.0/user/me) and the read of the composition being viewed are always allowed; every other call is refused with 403, never sent upstream, and reported in refusedApiCalls. A configured call goes upstream with the page\'s path and query (credentials removed), so it matches only a canonical path: no `..;`, no encoded `/`, `\\`, `.` or `;`, no empty segment; allow only endpoints whose every query is harmless.',
    ).superRefine((calls, ctx) => {
      for (const [index, call] of calls.entries()) {
        try {
          parseApiCallRule(call);
        } catch (error) {
          ctx.addIssue({ code: 'custom', path: [index], message: (error as Error).message });
        }
      }
    }),
    upstreamTimeoutMs: positiveInt.default(DEFAULT_PAGE_ACCESS.upstreamTimeoutMs).describe('Timeout of one API call the server makes with the real credentials on behalf of a page.'),
    maxResponseBytes: positiveInt.default(DEFAULT_PAGE_ACCESS.maxResponseBytes).describe('Largest API answer relayed to a page, in bytes; a larger one fails that request.'),
    maxApiCallsPerLease: positiveInt.default(DEFAULT_PAGE_ACCESS.maxApiCallsPerLease).describe('Most API calls relayed for one open or preview; later calls of that page are refused.'),
  })
  .strict();

const captureSchema = z
  .object({
    timeoutMs: positiveInt.default(DEFAULT_CAPTURE_LIMITS.timeoutMs).describe('Longest one screenshot, PDF or page read of open/preview may take; past it the call answers UPSTREAM_TIMEOUT.'),
    maxScreenshotHeightPx: positiveInt.default(DEFAULT_CAPTURE_LIMITS.maxScreenshotHeightPx).describe('Tallest full-page screenshot in CSS pixels; a taller page is captured down to this height and the result says truncated.'),
    maxScreenshotBytes: positiveInt.default(DEFAULT_CAPTURE_LIMITS.maxScreenshotBytes).describe('Largest screenshot returned, in bytes; a larger one answers CAPTURE_TOO_LARGE.'),
    maxPdfPages: positiveInt.default(DEFAULT_CAPTURE_LIMITS.maxPdfPages).describe('Most pages of a PDF preview; a longer document gets its first pages and the result says truncated.'),
    maxPdfBytes: positiveInt.default(DEFAULT_CAPTURE_LIMITS.maxPdfBytes).describe('Largest PDF returned, in bytes; a larger one answers CAPTURE_TOO_LARGE.'),
  })
  .strict();

const composerSchema = z
  .object({
    composerUrl: z.url().default('https://composer.euconquisto.com').describe('Base URL of the Composer web app.'),
    apiUrl: z.url().default('https://api.digitalpages.com.br').describe('Base URL of the DigitalPages storage API.'),
    accessToken: z.string().min(1).optional().describe('Composer access token (JWT); a secret. Prefer accessTokenFile.'),
    accessTokenFile: z.string().optional().describe('File holding the Composer access token (e.g. a mounted Kubernetes Secret).'),
    projectKey: z.string().min(1).optional().describe('`Project-Key` header value of the storage API; a secret. Prefer projectKeyFile.'),
    projectKeyFile: z.string().optional().describe('File holding the Project-Key.'),
    connectorUid: z.string().min(1).optional().describe('Connector uid of the upload route.'),
    apiEnv: z.string().min(1).default('prd').describe('`Api-Env` header value of the storage API.'),
    requestTimeoutMs: positiveInt.default(15000).describe('Timeout of one storage API read, per attempt (uploads have uploadTimeoutMs).'),
    uploadTimeoutMs: positiveInt
      .default(60000)
      .describe('How long an upload may take before its outcome counts as unknown. An upload that was sent and got no answer is never repeated blindly: the save answers SAVE_OUTCOME_UNKNOWN and its idempotency key stays pending.'),
    page: pageSchema.prefault({}).describe('How open and preview recognise that the Composer has rendered a composition (optional DOM-specific signals of the real Composer).'),
    limits: limitsSchema.prefault({}).describe('Content limits the validator applies.'),
    idempotency: idempotencySchema.prefault({}).describe('Idempotency of composer_save_composition: where keys are remembered and for how long.'),
    pageAccess: pageAccessSchema.prefault({}).describe('What a page in a pooled browser may ask of the storage API. Pages get look-alike credentials; the server puts the real ones only on the calls allowed here.'),
    capture: captureSchema.prefault({}).describe('Bounds of the screenshots, PDFs and page reads of open and preview (time, pixels, pages, bytes).'),
  })
  .strict();

const tasksSchema = z
  .object({
    store: z
      .enum(['memory', 'kubernetes'])
      .optional()
      .describe('Where task state is kept so tasks/get and tasks/cancel work on every replica: "memory" (this process only: local mode) or "kubernetes" (ConfigMaps in the server\'s namespace, shared by every replica). Default: the store composer.idempotency uses.'),
    namespace: z.string().min(1).optional().describe('Namespace of the task ConfigMaps (store "kubernetes"); default composer.idempotency.namespace, else the POD_NAMESPACE environment variable.'),
    ttlSeconds: positiveInt.default(3600).describe('How long a task and its result stay retrievable after the task was created (its ttlMs); expired ones are deleted by a periodic sweep.'),
    pollIntervalMs: positiveInt.default(1000).describe('Polling interval suggested to clients (pollIntervalMs), and how often the replica running a task checks for a cancel made on another replica.'),
    maxResultBytes: positiveInt.default(786432).describe('Largest task result kept, in bytes of JSON; a bigger one completes as a RESULT_TOO_LARGE error (a ConfigMap holds at most 1 MiB).'),
    maxActivePerSubject: positiveInt.default(4).describe('Tasks one subject (JWT sub, else "anonymous") may have running at once on one replica; more answer TASK_LIMIT_REACHED.'),
    maxStoredPerSubject: positiveInt.default(50).describe('Unexpired tasks one subject may have (across all replicas with the kubernetes store); more answer TASK_LIMIT_REACHED until old ones expire.'),
  })
  .strict();

const browsersSchema = z
  .object({
    source: z.enum(['local', 'static', 'kubernetes', 'none']).default('none').describe('Where browsers come from: processes started here, a fixed list of gateways, a BrowserPool, or none (browser tools answer NOT_CONFIGURED).'),
    local: z
      .object({ count: positiveInt.default(2).describe('Number of local chromium-headless-shell browsers to run.') })
      .strict()
      .prefault({})
      .describe('The local source.'),
    static: z
      .object({
        endpoints: csv('Gateway URLs (http://host:port) of the browsers.'),
        tokenFile: z.string().optional().describe('File holding the bearer token the gateways require.'),
      })
      .strict()
      .prefault({})
      .describe('The static source.'),
    kubernetes: z
      .object({
        namespace: z.string().default('default').describe('Namespace of the BrowserPool.'),
        pool: z.string().default('default').describe('Name of the BrowserPool whose ready browsers are used.'),
      })
      .strict()
      .prefault({})
      .describe('The Kubernetes source (BrowserPool status).'),
    maxSessionsPerBrowser: z.coerce.number().int().min(1).max(64).default(4).describe('Concurrent leases per browser (overridden by an endpoint that states its own).'),
    queueLimit: z.coerce.number().int().min(0).default(32).describe('Lease requests that may wait when every browser is full; more get BROWSER_BUSY at once.'),
    queueTimeoutMs: positiveInt.default(20000).describe('How long a lease request waits for capacity before BROWSER_BUSY.'),
    prewarmPerBrowser: z.coerce.number().int().min(0).default(1).describe('Contexts kept ready per browser so a lease is a hand-over.'),
    leaseDeadlineMs: positiveInt.default(60000).describe('Hard deadline of one open or preview once it has a browser: past it the page is closed (even one that spins in a script), its slot freed, and the call answers UPSTREAM_TIMEOUT.'),
  })
  .strict()
  .superRefine((b, ctx) => {
    if (b.source === 'static' && b.static.endpoints.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['static', 'endpoints'], message: 'at least one endpoint is required when browsers.source is "static"' });
    }
    if (b.source === 'static' && !b.static.tokenFile) {
      ctx.addIssue({ code: 'custom', path: ['static', 'tokenFile'], message: 'required when browsers.source is "static"' });
    }
  });

const telemetrySchema = z
  .object({
    otlpEndpoint: z.url().optional().describe('OTLP/HTTP endpoint traces are exported to (none: traces are not exported).'),
    metricsPath: z.string().startsWith('/').default('/metrics').describe('HTTP path of the Prometheus metrics.'),
  })
  .strict();

/** The server's configuration schema. Every field has a description: the configuration reference is generated from it. */
export const serverConfigSchema = z
  .object({
    transport: z.enum(['http', 'stdio']).default('http').describe('"http" serves Streamable HTTP at /mcp; "stdio" speaks MCP on stdin/stdout (for desktop clients).'),
    http: httpSchema.prefault({}).describe('The Streamable HTTP transport.'),
    auth: authSchema.prefault({}).describe('Bearer-token authentication of the HTTP transport.'),
    rateLimit: rateLimitSchema.prefault({}).describe('Per-client rate limiting of /mcp (without auth, clients behind one proxy share its IP address and so one budget).'),
    composer: composerSchema.prefault({}).describe('The Composer and its storage API.'),
    browsers: browsersSchema.prefault({}).describe('The browser pool used by open and preview.'),
    tasks: tasksSchema.prefault({}).describe('Tasks (the MCP 2026-07-28 tasks extension, HTTP only): composer_open_composition and composer_preview_composition run as tasks for clients that declare it.'),
    telemetry: telemetrySchema.prefault({}).describe('OpenTelemetry traces and Prometheus metrics.'),
    shutdownGraceSeconds: z.coerce.number().min(0).default(25).describe('After the drain (SIGTERM + shutdownDrainSeconds), how long the server may still serve (in-flight calls, and over HTTP calls that still reach it) before it cancels what runs and exits; over HTTP with a drain it exits sooner once nothing has arrived for 5 s (a keep-alive timeout).'),
    shutdownDrainSeconds: z.coerce
      .number()
      .min(0)
      .default(0)
      .describe('HTTP only: after SIGTERM, how long the server serves as usual while /readyz already fails and every answer closes its connection, so load balancers stop routing here (a few seconds in Kubernetes; the pod needs terminationGracePeriodSeconds > drain + grace). The listener stays open after it: calls that still arrive are served until the grace period ends.'),
    logLevel: z.enum(['error', 'warn', 'info', 'debug']).default('info').describe('Minimum log level.'),
  })
  .strict()
  .superRefine((config, ctx) => {
    const body = bodyLimitBytes(config.http.bodyLimit);
    const room = config.composer.limits.maxDocumentBytes + 16 * 1024;
    if (body < room) {
      ctx.addIssue({ code: 'custom', path: ['http', 'bodyLimit'], message: `${config.http.bodyLimit} cannot carry a save of a composition of composer.limits.maxDocumentBytes (${config.composer.limits.maxDocumentBytes} bytes) plus its JSON-RPC envelope; set it to at least ${Math.ceil(room / 1024)}kb (about twice maxDocumentBytes is safer), or lower maxDocumentBytes` });
    }
  })
  .describe('Configuration of the composer-mcp server.');

/** The bytes of a body limit like "512kb" or "4mb" (the units express.json uses: 1kb = 1024 bytes). */
export function bodyLimitBytes(limit: string): number {
  const match = /^(\d+)(b|kb|mb)$/i.exec(limit.trim());
  if (!match) return Number.NaN;
  const unit = match[2]!.toLowerCase();
  return Number(match[1]) * (unit === 'mb' ? 1024 * 1024 : unit === 'kb' ? 1024 : 1);
}

/** Variables that share the prefix but belong to the build tooling (the Makefile exports them), not to the server. */
export const NON_CONFIG_ENV = ['COMPOSER_MCP_TOOLS', 'COMPOSER_MCP_CACHE'];

/** The environment the server's configuration is read from: `env` without the build tooling's variables. */
export function serverConfigEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(env)) if (!NON_CONFIG_ENV.includes(k)) out[k] = v;
  return out;
}

/** The validated server configuration. */
export type ServerConfig = z.output<typeof serverConfigSchema>;

/** Reads a secret file, trimming the trailing newline Kubernetes Secret mounts and editors leave. */
export function readSecretFile(path: string, setting: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`Cannot read ${setting} file "${path}": ${(error as Error).message}. Fix the path or unset ${setting}.`, { cause: error });
  }
  const value = text.trim();
  if (!value) throw new Error(`The ${setting} file "${path}" is empty. Put the secret in it or unset ${setting}.`);
  return value;
}

/**
 * Resolves `*File` settings into their values (a value given directly wins) and registers every secret with the
 * redactor so it never appears in a log line. Returns a new config; throws with the setting named when a file is unreadable.
 */
export function resolveSecrets(config: ServerConfig, redactor: SecretRedactor = secretRedactor): ServerConfig {
  const composer = { ...config.composer };
  if (!composer.accessToken && composer.accessTokenFile) composer.accessToken = readSecretFile(composer.accessTokenFile, 'composer.accessTokenFile');
  if (!composer.projectKey && composer.projectKeyFile) composer.projectKey = readSecretFile(composer.projectKeyFile, 'composer.projectKeyFile');
  redactor.add(composer.accessToken);
  redactor.add(composer.projectKey);
  return { ...config, composer };
}

/** The Composer settings that are still missing for storage work (names as configuration keys), empty when complete. */
export function missingComposerCredentials(config: ServerConfig): string[] {
  const missing: string[] = [];
  if (!config.composer.accessToken) missing.push('composer.accessToken (or composer.accessTokenFile; env COMPOSER_MCP_COMPOSER__ACCESS_TOKEN)');
  if (!config.composer.projectKey) missing.push('composer.projectKey (or composer.projectKeyFile; env COMPOSER_MCP_COMPOSER__PROJECT_KEY)');
  if (!config.composer.connectorUid) missing.push('composer.connectorUid (env COMPOSER_MCP_COMPOSER__CONNECTOR_UID)');
  return missing;
}
