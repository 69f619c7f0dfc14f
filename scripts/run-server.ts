// What `make run` runs: starts the MCP server (server/src/main.ts, same flags), and prints the banner — endpoint
// and ready-to-paste client configurations — only once the server has bound its port, with the port it really
// bound. When the server cannot start (a port in use, a bad setting) no banner is printed and its error stands
// alone. Ctrl-C / SIGTERM stop the server gracefully; the exit code is the server's (0 after a clean stop).
// With RUN_BANNER_CREDENTIALS=show (make dev: the stand-in's fixed dev token, not a secret) the client configurations
// carry the configured token and project key instead of placeholders.
//   node scripts/run-server.ts [--flags as for main.ts]
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { ConfigError, loadConfig } from '#common/config.ts';
import { resolveSecrets, SERVER_ENV_PREFIX, serverConfigEnv, serverConfigSchema } from '#server/config.ts';
import { runBanner } from '#server/run-banner.ts';

/** The port a "Started MCP server" log line reports (JSON or pretty format), or undefined for another line. */
export function startedPort(line: string): number | undefined {
  if (!line.includes('Started MCP server')) return undefined;
  const port = /"port":\s*(\d+)/.exec(line)?.[1];
  return port === undefined ? undefined : Number(port);
}

/** The banner with the configured token and project key in place of its placeholders (only for make dev's fixed dev values). */
export function withCredentials(banner: string, credentials: { accessToken?: string | undefined; projectKey?: string | undefined }): string {
  let out = banner;
  if (credentials.accessToken) out = out.replaceAll('<your Composer access token>', credentials.accessToken);
  if (credentials.projectKey) out = out.replaceAll('<your Project-Key>', credentials.projectKey);
  return out;
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  const main = resolve(import.meta.dirname, '../server/src/main.ts');
  let config;
  try {
    config = resolveSecrets(loadConfig(serverConfigSchema, { envPrefix: SERVER_ENV_PREFIX, env: serverConfigEnv(), argv: args }));
  } catch (error) {
    process.stderr.write(`composer-mcp: ${error instanceof ConfigError || error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  }
  const env = { ...process.env, LOG_FORMAT: process.env['LOG_FORMAT'] ?? (process.stderr.isTTY ? 'pretty' : 'json') };
  // Its own process group: a terminal's Ctrl-C reaches only this process, which forwards it once (a second SIGINT
  // would make the server skip its graceful shutdown and exit 1).
  const child = spawn(process.execPath, [main, ...args], { stdio: ['ignore', 'inherit', 'pipe'], env, detached: true });
  process.on('exit', () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  });
  let stopping = false;
  let lastSignalAt = 0;
  const forward = (signal: NodeJS.Signals) => {
    // One Ctrl-C can arrive twice (from the terminal and from a make above us): forward it once.
    if (Date.now() - lastSignalAt < 500) return;
    lastSignalAt = Date.now();
    stopping = true;
    child.kill(signal);
  };
  process.on('SIGINT', () => forward('SIGINT'));
  process.on('SIGTERM', () => forward('SIGTERM'));
  let printed = false;
  createInterface({ input: child.stderr }).on('line', (line) => {
    process.stderr.write(`${line}\n`);
    const port = printed ? undefined : startedPort(line);
    if (port !== undefined) {
      printed = true;
      process.stdout.write(withCredentials(runBanner({ ...config, http: { ...config.http, port } }, { node: process.execPath, main }), process.env['RUN_BANNER_CREDENTIALS'] === 'show' ? config.composer : {}));
    }
  });
  child.on('exit', (code, signal) => {
    // Stopped by our own Ctrl-C/SIGTERM: a clean stop, whatever signal ended it.
    process.exit(code ?? (stopping || signal === 'SIGINT' || signal === 'SIGTERM' ? 0 : 1));
  });
}
