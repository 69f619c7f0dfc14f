import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { ConfigError, loadConfig } from '#common/config.ts';
import { SecretRedactor } from '#common/redaction.ts';
import { missingComposerCredentials, resolveSecrets, SERVER_ENV_PREFIX, serverConfigEnv, serverConfigSchema } from '#server/config.ts';
import { runBanner } from '#server/run-banner.ts';

function load(env: Record<string, string> = {}, argv: string[] = []) {
  return loadConfig(serverConfigSchema, { envPrefix: SERVER_ENV_PREFIX, env, argv });
}

/** Every leaf field of an object schema, with whether it has a description. */
function undocumented(schema: z.ZodType, path = ''): string[] {
  let node: z.ZodType = schema;
  for (let i = 0; i < 10; i++) {
    if (node instanceof z.ZodDefault || node instanceof z.ZodPrefault || node instanceof z.ZodOptional) node = node.unwrap() as z.ZodType;
    else if (node instanceof z.ZodPipe) node = node.out as z.ZodType;
    else break;
  }
  const missing: string[] = [];
  if (node instanceof z.ZodObject) {
    for (const [key, child] of Object.entries(node.shape as Record<string, z.ZodType>)) {
      if (!child.description && !(child instanceof z.ZodPipe && (child.description || (child.out as z.ZodType).description))) missing.push(`${path}${key}`);
      missing.push(...undocumented(child, `${path}${key}.`));
    }
  }
  return missing;
}

describe('server configuration', () => {
  it('starts offline on 127.0.0.1:8080 with no browsers and no auth by default', () => {
    const config = load();
    expect(config.http).to.deep.include({ host: '127.0.0.1', port: 8080, bodyLimit: '4mb' });
    expect(config.transport).to.equal('http');
    expect(config.auth.mode).to.equal('none');
    expect(config.browsers.source).to.equal('none');
    expect(config.composer.apiEnv).to.equal('prd');
  });

  it('describes every field (the config reference is generated from the schema)', () => {
    expect(undocumented(serverConfigSchema)).to.deep.equal([]);
  });

  it('reads nested settings from COMPOSER_MCP_ env names and lists from comma-separated values', () => {
    const config = load({
      COMPOSER_MCP_COMPOSER__ACCESS_TOKEN: 'tok-123456',
      COMPOSER_MCP_HTTP__ALLOWED_HOSTS: 'composer-mcp.tools.svc, composer-mcp',
      COMPOSER_MCP_BROWSERS__MAX_SESSIONS_PER_BROWSER: '6',
    });
    expect(config.composer.accessToken).to.equal('tok-123456');
    expect(config.http.allowedHosts).to.deep.equal(['composer-mcp.tools.svc', 'composer-mcp']);
    expect(config.browsers.maxSessionsPerBrowser).to.equal(6);
  });

  it('lets flags win over env, e.g. --transport=stdio', () => {
    expect(load({ COMPOSER_MCP_TRANSPORT: 'http' }, ['--transport=stdio']).transport).to.equal('stdio');
  });

  it('names every invalid field at once: jwt without issuer, audience or key; bad port; unknown key', () => {
    let error: unknown;
    try {
      load({ COMPOSER_MCP_AUTH__MODE: 'jwt', COMPOSER_MCP_HTTP__PORT: 'eighty', COMPOSER_MCP_HTTP__PROT: '1' });
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(ConfigError);
    const message = (error as ConfigError).message;
    for (const part of ['auth.issuer', 'auth.audience', 'auth.hs256SecretFile', 'http.port', 'http.prot']) expect(message).to.include(part);
  });

  it('requires endpoints and a token file for the static browser source', () => {
    expect(() => load({ COMPOSER_MCP_BROWSERS__SOURCE: 'static' })).to.throw(ConfigError, /browsers\.static\.endpoints[\s\S]*browsers\.static\.tokenFile/);
  });

  it('ignores the build tooling variables that share the prefix', () => {
    const env = serverConfigEnv({ COMPOSER_MCP_TOOLS: '/x', COMPOSER_MCP_CACHE: '/y', COMPOSER_MCP_HTTP__PORT: '9' });
    expect(load(env as Record<string, string>).http.port).to.equal(9);
  });

  describe('secrets', () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'server-config-'));
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it('reads token and project key files (trimming the newline) and registers them with the redactor', () => {
      writeFileSync(join(dir, 'token'), 'file-token-abcdef\n');
      writeFileSync(join(dir, 'key'), 'file-project-key-123\n');
      const redactor = new SecretRedactor();
      const config = resolveSecrets(load({ COMPOSER_MCP_COMPOSER__ACCESS_TOKEN_FILE: join(dir, 'token'), COMPOSER_MCP_COMPOSER__PROJECT_KEY_FILE: join(dir, 'key') }), redactor);
      expect(config.composer.accessToken).to.equal('file-token-abcdef');
      expect(config.composer.projectKey).to.equal('file-project-key-123');
      expect(redactor.redactString('x file-token-abcdef y file-project-key-123')).to.equal('x [REDACTED] y [REDACTED]');
    });

    it('fails with the setting and the path when a secret file is missing or empty', () => {
      expect(() => resolveSecrets(load({ COMPOSER_MCP_COMPOSER__ACCESS_TOKEN_FILE: join(dir, 'nope') }))).to.throw(/composer\.accessTokenFile.*nope/);
      writeFileSync(join(dir, 'empty'), '\n');
      expect(() => resolveSecrets(load({ COMPOSER_MCP_COMPOSER__ACCESS_TOKEN_FILE: join(dir, 'empty') }))).to.throw(/empty/);
    });

    it('lists the missing Composer credentials with their env names', () => {
      const missing = missingComposerCredentials(load({ COMPOSER_MCP_COMPOSER__ACCESS_TOKEN: 'tok-123456' }));
      expect(missing.join('\n')).to.include('COMPOSER_MCP_COMPOSER__PROJECT_KEY').and.include('COMPOSER_MCP_COMPOSER__CONNECTOR_UID');
      expect(missing.join('\n')).to.not.include('ACCESS_TOKEN');
    });
  });

  describe('the make run banner', () => {
    it('prints the endpoint, Claude configs with absolute paths, and the missing settings, never a secret', () => {
      const offline = runBanner(load({}, ['--browsers.source=local']), { node: '/opt/node/bin/node', main: '/repo/server/src/main.ts' });
      expect(offline).to.include('http://127.0.0.1:8080/mcp');
      expect(offline).to.include('claude mcp add --transport http composer-mcp http://127.0.0.1:8080/mcp');
      expect(offline).to.include('"command": "/opt/node/bin/node"');
      expect(offline).to.include('/repo/server/src/main.ts');
      expect(offline).to.include('--transport=stdio');
      expect(offline).to.match(/catalog, guidance, build and validate work offline/);
      expect(offline).to.match(/Protocol: MCP 2026-07-28 \(stateless, server\/discover\) and 2025-11-25, 2025-06-18, 2025-03-26/);
      expect(offline).to.include('/.well-known/mcp/server-card.json');
      const online = runBanner(load({ COMPOSER_MCP_COMPOSER__ACCESS_TOKEN: 'secret-token-xyz', COMPOSER_MCP_COMPOSER__PROJECT_KEY: 'secret-key-xyz', COMPOSER_MCP_COMPOSER__CONNECTOR_UID: 'c1' }), {
        node: '/n',
        main: '/m',
      });
      expect(online).to.not.include('secret-token-xyz');
      expect(online).to.not.include('secret-key-xyz');
      expect(online).to.include('configured (values not shown)');
    });
  });
});

describe('server configuration: what pages may ask of the API, capture bounds, lease deadline', () => {
  it('defaults to no extra API calls, bounded captures and a 60 s lease deadline', () => {
    const config = load();
    expect(config.composer.pageAccess.readOnlyApiCalls).to.deep.equal([]);
    expect(config.composer.capture).to.include({ maxPdfPages: 50, maxScreenshotHeightPx: 16384 });
    expect(config.browsers.leaseDeadlineMs).to.equal(60000);
  });

  it('takes extra read-only calls as a list and refuses a write with the entry and the reason', () => {
    const config = load({ COMPOSER_MCP_COMPOSER__PAGE_ACCESS__READ_ONLY_API_CALLS: 'GET /storage/v1.0/assets/**, HEAD /x' });
    expect(config.composer.pageAccess.readOnlyApiCalls).to.deep.equal(['GET /storage/v1.0/assets/**', 'HEAD /x']);
    let error: unknown;
    try {
      load({ COMPOSER_MCP_COMPOSER__PAGE_ACCESS__READ_ONLY_API_CALLS: 'GET /ok,POST /storage/v1.0/upload/**' });
    } catch (caught) {
      error = caught;
    }
    expect(error).to.be.instanceOf(ConfigError);
    expect((error as Error).message).to.contain('composer.pageAccess.readOnlyApiCalls.1').and.contain('read-only');
  });
});
