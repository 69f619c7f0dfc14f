import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { SignJWT } from 'jose';
import type { CallToolResult } from '@modelcontextprotocol/server';
import { chromium, type Browser } from 'playwright-core';
import { startLocalBrowser } from '#browser/local-browser.ts';
import { createLogger } from '#common/logger.ts';
import { LocalEndpointSource } from '#server/browsers/local-source.ts';
import { BrowserRouter, type RouterOptions } from '#server/browsers/router.ts';
import { ComposerError } from '#server/composer/composer-error.ts';
import { HttpStorageClient } from '#server/composer/storage-client.ts';
import { DEFAULT_VALIDATION_LIMITS } from '#server/composer/validator/limits.ts';
import type { ComposerServices, ComposerSettings } from '#server/tools/services.ts';
import { toolErrorOf, toolErrorResult, type ToolDefinition, type ToolErrorBody } from '#server/tools/tool-definition.ts';
import { toolErrorFrom } from '#server/tools/tool-errors.ts';
import { startComposerStandin, type ComposerStandin, type ComposerStandinOptions } from '#support/composer-standin/standin.ts';

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

/** A stand-in started with `jwtSecret` (and any other stand-in options), a token it accepts, and settings that use it. */
export interface StandinWithSettings {
  standin: ComposerStandin;
  /** A standinToken signed with the stand-in's secret. */
  token: string;
  /** standinSettings with that token, unless other credentials were given. */
  settings: ComposerSettings;
}

/** How to start the stand-in for a test. */
export interface StandinStartOptions extends Omit<ComposerStandinOptions, 'jwtSecret'> {
  jwtSecret: string;
  /** Settings credentials other than the token and project key of standinSettings (e.g. canaries). */
  credentials?: { accessToken: string; projectKey: string };
}

/** Starts the stand-in and makes the settings a test's tools use against it. */
export async function startStandinWithSettings(options: StandinStartOptions): Promise<StandinWithSettings> {
  const { credentials, ...standinOptions } = options;
  const standin = await startComposerStandin(standinOptions);
  try {
    const token = await standinToken(options.jwtSecret);
    const settings = credentials ? { ...standinSettings(standin, credentials.accessToken), projectKey: credentials.projectKey } : standinSettings(standin, token);
    return { standin, token, settings };
  } catch (error) {
    await standin.stop();
    throw error;
  }
}

/**
 * A storage client for tests that must not wait on a silent stand-in: a request gives up after 3 s, and a retry
 * follows 10 to 50 ms after a failure.
 */
export function quickStorageClient(settings: ComposerSettings): HttpStorageClient {
  return new HttpStorageClient(settings, { timeoutMs: 3_000, minRetryDelayMs: 10, maxRetryDelayMs: 50 });
}

/** The stand-in with settings, and the tools' services over a {@link quickStorageClient} (no browsers). */
export async function startStandinForSaves(jwtSecret: string): Promise<StandinWithSettings & { services: ComposerServices }> {
  const started = await startStandinWithSettings({ jwtSecret });
  return { ...started, services: composerServices({ settings: started.settings, storage: quickStorageClient(started.settings) }) };
}

/** One local Chromium and a router over it, both started; `stop()` stops the router, then the browser. */
export interface OneLocalBrowser {
  source: LocalEndpointSource;
  router: BrowserRouter;
  stop(): Promise<void>;
}

/** Router options a test may set: all but the source and the logger (prewarmPerBrowser is 1 unless given). */
export type TestRouterOptions = Omit<RouterOptions, 'source' | 'logger'>;

/**
 * Starts one local Chromium whose gateway's egress proxy admits only `reachableOrigins`, and a router over it with
 * a quiet logger. What started is stopped again when a later step fails.
 */
export async function startOneLocalBrowser(reachableOrigins: string[], routerOptions: TestRouterOptions = {}): Promise<OneLocalBrowser> {
  const source = new LocalEndpointSource({ browsers: 1, allowedOrigins: reachableOrigins, logger: quietLogger() });
  const router = new BrowserRouter({ source, logger: quietLogger(), prewarmPerBrowser: 1, ...routerOptions });
  const stop = async () => {
    await router.stop();
    await source.stop();
  };
  try {
    await source.start();
    await router.start();
  } catch (error) {
    await stop();
    throw error;
  }
  return { source, router, stop };
}

/** One local browser gateway (its own token and directory) and a Playwright connection to it over CDP. */
export interface ConnectedLocalGateway {
  browser: Browser;
  /** Closes the connection, stops the gateway and its Chromium, removes the directory. */
  stop(): Promise<void>;
}

/**
 * Starts a local gateway with the flags local mode and every browser pod run (`name` names its directory and token)
 * that may reach only `allowedOrigins`, and connects Playwright to it: the page-level tests' browser.
 */
export async function connectToLocalGateway(name: string, allowedOrigins: string[] = []): Promise<ConnectedLocalGateway> {
  const dir = mkdtempSync(join(tmpdir(), `composer-mcp-${name}-`));
  const token = `${name}-token`;
  writeFileSync(join(dir, 'token'), `${token}\n`, { mode: 0o600 });
  let local: Awaited<ReturnType<typeof startLocalBrowser>> | undefined;
  let browser: Browser | undefined;
  const stop = async () => {
    await browser?.close().catch(() => undefined);
    await local?.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    local = await startLocalBrowser({ tokenFile: join(dir, 'token'), rootDir: dir, allowedOrigins, logger: quietLogger() });
    browser = await chromium.connectOverCDP(local.endpoint, { headers: { Authorization: `Bearer ${token}` } });
  } catch (error) {
    await stop();
    throw error;
  }
  return { browser, stop };
}

/** The stand-in, one local Chromium that may reach only the stand-in, and a router over it, all started. */
export interface StandinWithLocalBrowsers extends StandinWithSettings, OneLocalBrowser {
  /** Stops the router, then the browser, then the stand-in. */
  stop(): Promise<void>;
}

/** How to start a {@link StandinWithLocalBrowsers}. */
export interface StandinWithLocalBrowsersOptions extends StandinStartOptions {
  /**
   * Whether the router gives each lease the stand-in's two origins as its allowed origins (RouterOptions
   * allowedOrigins: the lease's page refuses requests elsewhere). Without it the router sets none.
   */
  leasesAllowOnlyStandinOrigins?: boolean;
  /** Router options besides the allowed origins. */
  router?: Omit<TestRouterOptions, 'allowedOrigins'>;
}

/**
 * Starts the stand-in, one local Chromium that may reach only the stand-in's app and API, and a router over it.
 * What started is stopped again when a later step fails.
 */
export async function startStandinWithLocalBrowsers(options: StandinWithLocalBrowsersOptions): Promise<StandinWithLocalBrowsers> {
  const { leasesAllowOnlyStandinOrigins = false, router: routerOptions = {}, ...standinOptions } = options;
  const started = await startStandinWithSettings(standinOptions);
  const origins = [started.standin.appUrl, started.standin.apiUrl];
  let browser: OneLocalBrowser;
  try {
    browser = await startOneLocalBrowser(origins, { ...routerOptions, ...(leasesAllowOnlyStandinOrigins ? { allowedOrigins: origins } : {}) });
  } catch (error) {
    await started.standin.stop();
    throw error;
  }
  const stop = async () => {
    await browser.stop();
    await started.standin.stop();
  };
  return { ...started, source: browser.source, router: browser.router, stop };
}

/** A small composition: one text-1 widget, `title` as its title and its text (so two titles are two contents). */
export function oneTextWidgetComposition(title: string): Record<string, unknown> {
  return {
    version: '1.1',
    metadata: { title, description: '', thumb: null, tags: [] },
    interface: { content_language: 'pt_br', index_option: 'buttons', font_family: 'Lato', show_summary: 'disabled', finish_btn: 'disabled' },
    structure: [{ id: 'b3f5a7c0-0000-11ef-8000-000000000001', type: 'text-1', content_title: null, background_color: '#FFFFFF', padding_top: 0, padding_bottom: 0, dam_assets: [], content: `<p>${title}</p>` }],
    assets: [],
  };
}

/** The ComposerError `promise` rejects with; fails the test when it resolves or rejects with anything else. */
export async function composerErrorFrom(promise: Promise<unknown>): Promise<ComposerError> {
  try {
    await promise;
  } catch (error) {
    expect(error).to.be.instanceOf(ComposerError);
    return error as ComposerError;
  }
  return expect.fail('expected a ComposerError');
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
