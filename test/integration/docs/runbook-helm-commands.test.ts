import { readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { CHART_DIR, helm } from '../chart/helm.ts';

const REPO = path.resolve(import.meta.dirname, '..', '..', '..');
const DOCS = ['docs/operations.md', 'README.md'];

/** Sample values for the runbook's placeholders. */
const PLACEHOLDERS: Array<[RegExp, string]> = [
  [/sha256:<tested>/g, `sha256:${'a'.repeat(64)}`],
  [/<new>|<tested>/g, '0.2.0'],
];

/**
 * Every `helm install` / `helm upgrade` of the chart in the docs' shell blocks, joined across `\` line ends, as the
 * `helm template` that renders the same release with the same flags. A values file that exists only on the operator's
 * machine (`-f current-values.yaml`, `-f backup/values.yaml`) or `--reuse-values` becomes `existingValues`, a file
 * standing for an installed release's values: what is checked is that every `--set` the runbook tells people to type
 * is a value the chart has, of the right type (values.schema.json), and renders.
 */
export function chartCommands(markdown: string, existingValues = 'existing-values.yaml'): Array<{ command: string; args: string[] }> {
  const out: Array<{ command: string; args: string[] }> = [];
  for (const block of markdown.matchAll(/```sh\n([\s\S]*?)```/g)) {
    const lines = block[1]!.replaceAll(/\\\n\s*/g, ' ').split('\n');
    for (const raw of lines) {
      const line = raw.replace(/\s+#.*$/, '').trim();
      const m = /^helm (install|upgrade) (\S+) charts\/composer-mcp (.*)$/.exec(line);
      if (!m) continue;
      let rest = m[3]!;
      for (const [pattern, value] of PLACEHOLDERS) rest = rest.replaceAll(pattern, value);
      const tokens = rest.split(/\s+/).filter(Boolean);
      const args: string[] = [];
      for (let i = 0; i < tokens.length; i++) {
        const t = tokens[i]!;
        if (t === '--reuse-values' || t === '-f') {
          if (t === '-f') i++;
          if (!args.includes(existingValues)) args.push('-f', existingValues);
          continue;
        }
        args.push(t);
      }
      out.push({ command: line, args: ['template', m[2]!, CHART_DIR, ...args] });
    }
  }
  return out;
}

/** The values of a release installed as the runbook's install step says (JWT auth, the Composer credentials Secret). */
const INSTALLED_VALUES = [
  'server:',
  '  composer: { credentials: { existingSecret: composer-credentials } }',
  '  auth: { mode: jwt, issuer: "https://auth.example.com/", audience: "https://mcp.example.com/mcp", jwksUrl: "https://auth.example.com/.well-known/jwks.json" }',
  '',
].join('\n');

describe('the helm commands of the runbook and README render the chart as written', function () {
  this.timeout(120_000);
  let existingValues: string;
  before(async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'runbook-helm-'));
    existingValues = path.join(dir, 'existing-values.yaml');
    await writeFile(existingValues, INSTALLED_VALUES);
  });

  it('finds the install, upgrade, canary, promotion and monitoring commands', () => {
    const all = DOCS.flatMap((d) => chartCommands(readFileSync(path.join(REPO, d), 'utf8')));
    expect(all.length).to.be.greaterThan(5);
    expect(all.some((c) => c.command.includes('composer-mcp-canary'))).to.equal(true);
    expect(all.some((c) => c.command.includes('monitoring.grafanaDashboard.enabled=true'))).to.equal(true);
  });

  for (const doc of DOCS) {
    it(`${doc}: every helm install/upgrade renders with its --set flags`, async () => {
      const failures: string[] = [];
      for (const c of chartCommands(readFileSync(path.join(REPO, doc), 'utf8'), existingValues)) {
        const r = await helm(c.args);
        if (r.code !== 0) failures.push(`${c.command}\n  → ${r.stderr.trim().split('\n').slice(0, 3).join(' | ')}`);
      }
      expect(failures).to.deep.equal([]);
    });
  }

  it('a misspelt value in such a command fails (the check can fail)', async () => {
    const [c] = chartCommands('```sh\nhelm upgrade composer-mcp charts/composer-mcp -n x --set monitoring.grafanaDashbord.enabled=true\n```\n');
    const r = await helm(c!.args);
    expect(r.code).to.not.equal(0);
    expect(r.stderr).to.match(/grafanaDashbord/);
  });
});
