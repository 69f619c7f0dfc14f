import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { z } from 'zod';
import { CONFIG_REFERENCE_PATH, envName, flagName, renderConfigReference, settingRows } from '../../../scripts/config-reference.ts';

describe('configuration reference (scripts/config-reference.ts)', () => {
  it('docs/configuration.md is up to date with the config schemas and the CRD (run make config-docs)', () => {
    expect(readFileSync(CONFIG_REFERENCE_PATH, 'utf8') === renderConfigReference(), 'docs/configuration.md is stale: run make config-docs').to.equal(true);
  });

  it('names env vars and flags the way the shared loader reads them', () => {
    expect(envName('COMPOSER_MCP', ['browsers', 'maxSessionsPerBrowser'])).to.equal('COMPOSER_MCP_BROWSERS__MAX_SESSIONS_PER_BROWSER');
    expect(flagName(['browsers', 'maxSessionsPerBrowser'])).to.equal('--browsers.max-sessions-per-browser');
  });

  it('lists each leaf setting with type, default and description', () => {
    const schema = z.object({ http: z.object({ port: z.number().int().min(0).max(65535).default(8080).describe('Port.') }).prefault({}) });
    expect(settingRows(schema, 'X')).to.deep.equal([
      { path: 'http.port', env: 'X_HTTP__PORT', flag: '--http.port', type: 'integer (0..65535)', defaultValue: '8080', description: 'Port.' },
    ]);
  });
});
