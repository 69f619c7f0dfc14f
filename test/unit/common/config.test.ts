import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { z } from 'zod';
import { ConfigError, loadConfig, envNameToPath, parseFlags } from '#common/config.ts';
import { secretRedactor } from '#common/redaction.ts';

const schema = z.strictObject({
  http: z.strictObject({ host: z.string().default('127.0.0.1'), port: z.number().int().min(1).max(65535).default(8080), allowedHosts: z.array(z.string()).default([]) }).prefault({}),
  browsers: z.strictObject({ maxSessionsPerBrowser: z.number().int().positive().default(4), prewarm: z.boolean().default(true) }).prefault({}),
  composer: z.strictObject({ accessToken: z.string().optional(), apiUrl: z.url().default('https://api.example.test') }).prefault({}),
  transport: z.enum(['http', 'stdio']).default('http'),
});

describe('config', () => {
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'cfg-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('gives the defaults when nothing is set', () => {
    const config = loadConfig(schema, { envPrefix: 'APP', env: {}, argv: [] });
    expect(config).to.deep.equal({ http: { host: '127.0.0.1', port: 8080, allowedHosts: [] }, browsers: { maxSessionsPerBrowser: 4, prewarm: true }, composer: { apiUrl: 'https://api.example.test' }, transport: 'http' });
  });

  it('layers defaults < file < env < flags', () => {
    const file = join(dir, 'c.yaml');
    writeFileSync(file, 'http:\n  port: 9000\n  host: 0.0.0.0\nbrowsers:\n  maxSessionsPerBrowser: 2\n');
    const config = loadConfig(schema, {
      envPrefix: 'APP',
      env: { APP_CONFIG: file, APP_HTTP__PORT: '9100', APP_BROWSERS__MAX_SESSIONS_PER_BROWSER: '6' },
      argv: ['--http.port=9200', '--transport', 'stdio', '--no-browsers.prewarm'],
      defaults: { http: { host: 'localhost' } },
    });
    expect(config.http).to.deep.equal({ host: '0.0.0.0', port: 9200, allowedHosts: [] });
    expect(config.browsers).to.deep.equal({ maxSessionsPerBrowser: 6, prewarm: false });
    expect(config.transport).to.equal('stdio');
  });

  it('takes the file from --config and lists from comma-separated env values', () => {
    const file = join(dir, 'c.json');
    writeFileSync(file, JSON.stringify({ transport: 'stdio' }));
    const config = loadConfig(schema, { envPrefix: 'APP', env: { APP_HTTP__ALLOWED_HOSTS: 'a.svc, b.svc' }, argv: [`--config=${file}`] });
    expect(config.transport).to.equal('stdio');
    expect(config.http.allowedHosts).to.deep.equal(['a.svc', 'b.svc']);
  });

  it('reports every invalid field at once, with the expectation and the source', () => {
    let error: unknown;
    try {
      loadConfig(schema, { envPrefix: 'APP', env: { APP_HTTP__PORT: 'eighty', APP_TRANSPORT: 'carrier-pigeon' }, argv: ['--browsers.max-sessions-per-browser=0', '--htp.port=1'] });
    } catch (e) { error = e; }
    expect(error).to.be.instanceOf(ConfigError);
    const issues = (error as ConfigError).issues;
    const byPath = Object.fromEntries(issues.map((i) => [i.path, i]));
    expect(byPath['http.port']!.source).to.equal('env APP_HTTP__PORT');
    expect(byPath['http.port']!.message).to.match(/expected number.*got "eighty"/);
    expect(byPath['transport']!.message).to.match(/http.*stdio/);
    expect(byPath['browsers.maxSessionsPerBrowser']!.source).to.equal('flag --browsers.max-sessions-per-browser');
    expect(issues.some((i) => /unknown setting\(s\) htp/.test(i.message) && i.source === 'flag --htp.port')).to.equal(true);
    expect((error as Error).message).to.include('Invalid configuration:').and.to.include('http.port');
  });

  it('explains an unreadable or malformed file', () => {
    expect(() => loadConfig(schema, { envPrefix: 'APP', env: {}, argv: ['--config', join(dir, 'missing.yaml')] })).to.throw(ConfigError, /cannot read config file/);
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'http: [unclosed');
    expect(() => loadConfig(schema, { envPrefix: 'APP', env: {}, argv: ['--config', bad] })).to.throw(ConfigError, /not valid YAML/);
  });

  it('registers secret values with the log redactor', () => {
    loadConfig(schema, { envPrefix: 'APP', env: { APP_COMPOSER__ACCESS_TOKEN: 'tok-config-canary-123' }, argv: [] });
    expect(secretRedactor.redactString('x tok-config-canary-123 y')).to.equal('x [REDACTED] y');
  });

  it('maps env names and flags to paths', () => {
    expect(envNameToPath('APP_BROWSERS__MAX_SESSIONS', 'APP')).to.deep.equal(['browsers', 'maxSessions']);
    expect(envNameToPath('APPX_FOO', 'APP')).to.equal(undefined);
    expect(envNameToPath('APP_CONFIG', 'APP')).to.equal(undefined);
    expect(parseFlags(['--a.b-c=1', 'pos', '--flag']).values).to.deep.equal([[['a', 'bC'], '1', 'flag --a.b-c'], [['flag'], true, 'flag --flag']]);
  });
});
