import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { parse as parseYaml } from 'yaml';
import { DEFAULT_CLIENT_SELECTOR } from '#operator/controllers/browserpool/desired-network-policy.ts';
import { anchorsOfMarkdown, checkDocument, referencesOf, type ProductNames } from './doc-references.ts';
import { REPO } from './exported-metrics.ts';
import { documents, readProductNames } from './product-names.ts';

const read = (relative: string): string => readFileSync(path.join(REPO, relative), 'utf8');

/** `names` with some metrics, settings or values taken away: what the docs would meet after a removal in the code. */
function without(names: ProductNames, removed: { metrics?: string[]; settings?: string[]; values?: string[]; alerts?: string[] }): ProductNames {
  const drop = (set: ReadonlySet<string>, gone: string[] = []) => new Set([...set].filter((x) => !gone.includes(x)));
  return { ...names, metrics: drop(names.metrics, removed.metrics), settings: drop(names.settings, removed.settings), values: drop(names.values, removed.values), alerts: drop(names.alerts, removed.alerts) };
}

/**
 * Every decision area, key question, deliverable, success criterion, risk and background challenge of the brief
 * (`seed-production-deployment-architecture.md`), as the first cell of a row of the checklist at the top of
 * docs/architecture.md.
 */
const BRIEF_ITEMS = [
  '**Objective**',
  'Background: browser automation requires specific server environment setup',
  'Background: no production configuration management system',
  'Background: missing monitoring, logging, and alerting infrastructure',
  'Background: security vulnerabilities (hardcoded secrets)',
  'Background: no deployment automation or CI/CD pipeline',
  'Background: single point of failure with no redundancy',
  'Decision area 1: deployment model options',
  'Decision area 2: infrastructure components, core services',
  'Decision area 2: supporting infrastructure',
  'Decision area 3: security architecture, network security',
  'Decision area 3: security architecture, application security',
  'Key decision 1: browser automation deployment',
  'Key decision 2: scaling and load management',
  'Key decision 3: configuration management',
  'Infrastructure requirement: compute',
  'Infrastructure requirement: monitoring and observability',
  'Infrastructure requirement: logging and alerting',
  'Security consideration: infrastructure security',
  'Security consideration: application security',
  'Security consideration: data security',
  'Operational procedure: deployment process',
  'Operational procedure: monitoring and maintenance',
  ...['cloud provider', 'containerization', 'serverless', 'database', 'compliance', 'audit', 'authentication', 'network', 'SLA', 'support', 'backup', 'scaling'].map((q) => `Key question: ${q}`),
  ...['infrastructure diagram', 'component specifications', 'security architecture', 'deployment strategy'].map((d) => `Deliverable 1: ${d}`),
  'Deliverable 2: implementation plan', 'Deliverable 2: timeline',
  ...['deployment procedures', 'monitoring setup', 'incident response', 'maintenance tasks'].map((d) => `Deliverable 3: ${d}`),
  ...['production architecture designed and documented', 'infrastructure requirements specified', 'security architecture defined', 'deployment strategy planned', 'monitoring and alerting strategy outlined', 'operational procedures documented'].map((c) => `Success criterion: ${c}`),
  ...['single point of failure', 'resource constraints', 'security vulnerabilities', 'deployment complexity', 'operational overhead'].map((r) => `Risk: ${r}`),
];

describe('docs/architecture.md answers every item of the brief', () => {
  it('has a checklist row for each, pointing at the sections that answer it', () => {
    const rows = read('docs/architecture.md').split('\n').filter((l) => l.startsWith('| ')).map((l) => l.split(' | ').map((c) => c.replace(/^\| |\s*\|$/g, '')));
    const problems = BRIEF_ITEMS.flatMap((item) => {
      const row = rows.find((r) => r[0]!.startsWith(item));
      if (!row) return [`no checklist row for "${item}"`];
      return /\]\([^)]+\)|this document/.test(row[1] ?? '') ? [] : [`the row for "${item}" links to no section`];
    });
    expect(problems).to.deep.equal([]);
  });
});

describe('docs name only what exists (metrics, settings, values, BrowserPool fields, alerts, make targets, files, ADRs, links)', () => {
  let names: ProductNames;
  before(async () => {
    names = await readProductNames();
  });

  it('every Markdown document of the repository', () => {
    const problems = documents().flatMap((doc) => checkDocument(doc, read(doc), names));
    expect(problems).to.deep.equal([]);
  });

  it('the architecture and operations docs name metrics, settings, values and alerts (so the check has something to hold)', () => {
    const kinds = (doc: string) => new Set(referencesOf(read(doc), names).map((r) => r.kind));
    expect([...kinds('docs/operations.md')]).to.include.members(['metric', 'value', 'crd', 'alert', 'make', 'link']);
    expect([...kinds('docs/architecture.md')]).to.include.members(['metric', 'setting', 'value', 'crd', 'adr', 'link', 'path']);
  });

  it('fails when a metric or a setting the docs name is removed from the code', () => {
    const doc = 'docs/operations.md';
    const text = read(doc);
    expect(text).to.include('composer_mcp_router_queue_depth');
    expect(text).to.include('server.browsers.queueLimit');
    const problems = checkDocument(doc, text, without(names, { metrics: ['composer_mcp_router_queue_depth'], values: ['server.browsers.queueLimit'], alerts: ['ComposerMcpNoReadyBrowsers'] }));
    expect(problems.some((p) => p.includes('names metric composer_mcp_router_queue_depth, which no component exports'))).to.equal(true);
    expect(problems.some((p) => p.includes('names chart value server.browsers.queueLimit'))).to.equal(true);
    expect(problems.some((p) => p.includes('names alert ComposerMcpNoReadyBrowsers'))).to.equal(true);
    const arch = read('docs/architecture.md');
    expect(arch).to.match(/`browsers\.queueLimit`/);
    expect(checkDocument('docs/architecture.md', arch, without(names, { settings: ['browsers.queueLimit'] })).some((p) => p.includes('names setting browsers.queueLimit'))).to.equal(true);
  });

  it('reports each kind of wrong name with the file and line', () => {
    const doc = [
      '# T',
      'See `composer_mcp_router_queue_dept`, `browsers.queueLimt`, `server.browsers.queueLimt`, `spec.recycle.maxAge`,',
      '`COMPOSER_MCP_BROWSERS__QUEUE_LIMT`, ComposerMcpNoBrowsers, `make capacty`, `bench/nothing.ts`, ADR 99,',
      '[a link](missing.md), [an anchor](operations.md#no-such-heading), `browserNetworkPolicy.egressPorts`.',
    ].join('\n');
    expect(checkDocument('docs/x.md', doc, names)).to.deep.equal([
      'docs/x.md:2 names metric composer_mcp_router_queue_dept, which no component exports',
      'docs/x.md:2 names setting browsers.queueLimt, which no component\'s config schema has',
      'docs/x.md:2 names chart value server.browsers.queueLimt, which values.yaml does not have',
      'docs/x.md:2 names BrowserPool field spec.recycle.maxAge, which the CRD does not have',
      'docs/x.md:3 names env variable COMPOSER_MCP_BROWSERS__QUEUE_LIMT, which no component reads',
      'docs/x.md:3 names make capacty, which the Makefile has no target for',
      'docs/x.md:3 names bench/nothing.ts, which does not exist',
      'docs/x.md:4 names browserNetworkPolicy.egressPorts, which is no setting, chart value or BrowserPool field (its root "browserNetworkPolicy" is unknown)',
      'docs/x.md:3 names alert ComposerMcpNoBrowsers, which charts/composer-mcp/files/alerts.yaml does not define',
      'docs/x.md:3 names ADR 99, which docs/adr/ does not have',
      'docs/x.md:4 links to missing.md, which does not exist (docs/missing.md)',
      'docs/x.md:4 links to operations.md#no-such-heading, but docs/operations.md has no heading or anchor "no-such-heading"',
    ]);
  });

  it('holds an ADR to its links and ADR numbers, not to the names of its time', () => {
    const adr = 'Moved from `operator/src/runtime/` and `CHROMIUM_OLD_PORT`; reads `composer_mcp_gone_total`; see [x](missing.md) and ADR 99.';
    expect(checkDocument('docs/adr/0099-x.md', adr, names)).to.deep.equal([
      'docs/adr/0099-x.md:1 names ADR 99, which docs/adr/ does not have',
      'docs/adr/0099-x.md:1 links to missing.md, which does not exist (docs/adr/missing.md)',
    ]);
    expect(checkDocument('docs/x.md', adr, names)).to.have.length(5);
  });

  it('every alert has a runbook entry in docs/operations.md, and its runbook_url points at it', () => {
    const rules = parseYaml(read('charts/composer-mcp/files/alerts.yaml').replaceAll(/\{\{[^}]*\}\}/g, 'X')) as Array<{ alert: string; annotations: { runbook_url: string } }>;
    const ops = read('docs/operations.md');
    const anchors = anchorsOfMarkdown(ops);
    const problems: string[] = [];
    for (const rule of rules) {
      const id = `alert-${rule.alert.toLowerCase()}`;
      if (!anchors.has(id)) problems.push(`${rule.alert}: no <a id="${id}"> in docs/operations.md`);
      if (!new RegExp(`^### Alert: ${rule.alert}$`, 'm').test(ops)) problems.push(`${rule.alert}: no "### Alert: ${rule.alert}" heading in docs/operations.md`);
      if (rule.annotations.runbook_url !== `X#${id}`) problems.push(`${rule.alert}: runbook_url ${rule.annotations.runbook_url} does not end in #${id}`);
    }
    expect(problems).to.deep.equal([]);
    expect(rules.length).to.be.greaterThan(4);
  });

  it('the CRD describes the access.podSelector default the operator really uses', () => {
    type Node = { description?: string; properties?: Record<string, Node> };
    const crd = parseYaml(read('crds/browser.composer-mcp.io_browserpools.yaml')) as { spec: { versions: Array<{ schema: { openAPIV3Schema: Node } }> } };
    const spec = crd.spec.versions[0]!.schema.openAPIV3Schema.properties!['spec']!;
    const description = spec.properties!['access']!.properties!['podSelector']!.description ?? '';
    const labels = Object.entries(DEFAULT_CLIENT_SELECTOR.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
    expect(description).to.include('Unset means');
    for (const label of labels) expect(description, 'the default selector named in the CRD').to.include(label);
    expect(description).to.not.match(/app\.kubernetes\.io\/component=server/);
  });
});
