// Prints what `make run` starts: the MCP endpoint, ready-to-paste client configurations, and which Composer settings
// are missing. Takes the same flags as main.ts and reads the same configuration, so what it prints is what runs.
//   node server/src/run-banner.ts [--flags as for main.ts]
import { resolve } from 'node:path';
import { ConfigError, loadConfig } from '#common/config.ts';
import { missingComposerCredentials, resolveSecrets, SERVER_ENV_PREFIX, serverConfigEnv, serverConfigSchema, type ServerConfig } from '#server/config.ts';
import { LEGACY_REVISIONS, MODERN_REVISION } from '#server/mcp/server-info.ts';
import { taskStoreKind } from '#server/mcp/tasks/build-task-store.ts';

/** The text `make run` prints before starting the server. Pure: no secret values, only placeholders. */
export function runBanner(config: ServerConfig, paths: { node: string; main: string }): string {
  const host = config.http.host.includes(':') ? `[${config.http.host}]` : config.http.host;
  const url = `http://${host}:${config.http.port}/mcp`;
  const missing = missingComposerCredentials(config);
  const stdioEnv: Record<string, string> = {
    COMPOSER_MCP_BROWSERS__SOURCE: config.browsers.source,
    ...(config.browsers.source === 'local' ? { COMPOSER_MCP_BROWSERS__LOCAL__COUNT: String(config.browsers.local.count) } : {}),
    COMPOSER_MCP_COMPOSER__COMPOSER_URL: config.composer.composerUrl,
    COMPOSER_MCP_COMPOSER__API_URL: config.composer.apiUrl,
    COMPOSER_MCP_COMPOSER__ACCESS_TOKEN: '<your Composer access token>',
    COMPOSER_MCP_COMPOSER__PROJECT_KEY: '<your Project-Key>',
    COMPOSER_MCP_COMPOSER__CONNECTOR_UID: config.composer.connectorUid ?? '<your connector uid>',
  };
  const desktop = { mcpServers: { 'composer-mcp': { command: paths.node, args: [paths.main, '--transport=stdio'], env: stdioEnv } } };
  const envFlags = Object.entries(stdioEnv)
    .map(([k, v]) => `-e ${k}='${v}'`)
    .join(' ');
  const lines = [
    '',
    '  composer-mcp',
    `  MCP endpoint (Streamable HTTP): ${url}`,
    `  Protocol: MCP ${MODERN_REVISION} (stateless, server/discover) and ${LEGACY_REVISIONS.join(', ')} (initialize handshake),`,
    '  from one server over HTTP and over stdio: today\'s clients and older ones alike.',
    `  Tasks (${MODERN_REVISION} tasks extension): open and preview, for clients that declare it; task state in ${taskStoreKind(config) === 'kubernetes' ? 'Kubernetes ConfigMaps' : 'memory (this process)'}.`,
    `  Discovery: http://${host}:${config.http.port}/.well-known/mcp/server-card.json`,
    `  Health: http://${host}:${config.http.port}/readyz   Metrics: http://${host}:${config.http.port}${config.telemetry.metricsPath}`,
    `  Browsers: ${config.browsers.source === 'local' ? `local pool of ${config.browsers.local.count} chromium-headless-shell` : config.browsers.source}`,
    '',
    `  Claude Code, over HTTP (this server, while it runs; it negotiates ${MODERN_REVISION} or the handshake):`,
    `    claude mcp add --transport http composer-mcp ${url}`,
    '',
    '  Claude Code, over stdio (Claude starts its own server):',
    `    claude mcp add composer-mcp ${envFlags} -- ${paths.node} ${paths.main} --transport=stdio`,
    '',
    '  Claude Desktop (claude_desktop_config.json), over stdio (its first message picks the revision):',
    ...JSON.stringify(desktop, null, 2)
      .split('\n')
      .map((l) => `    ${l}`),
    '',
  ];
  if (missing.length > 0) {
    lines.push(
      '  Composer credentials are not configured, so save, get, open and preview answer NOT_CONFIGURED. Missing:',
      ...missing.map((m) => `    - ${m}`),
      '  The widget catalog, guidance, build and validate work offline without them.',
      '',
    );
  } else {
    lines.push('  Composer credentials: configured (values not shown).', '');
  }
  return lines.join('\n');
}

if (import.meta.main) {
  try {
    const config = resolveSecrets(loadConfig(serverConfigSchema, { envPrefix: SERVER_ENV_PREFIX, env: serverConfigEnv(), argv: process.argv.slice(2) }));
    process.stdout.write(runBanner(config, { node: process.execPath, main: resolve(import.meta.dirname, 'main.ts') }));
  } catch (error) {
    process.stderr.write(`composer-mcp: ${error instanceof ConfigError || error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  }
}
