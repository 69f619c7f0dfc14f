import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { parse as parseYaml } from 'yaml';
import { instrumentNamesInSource, parseExposition, productExposition, prometheusName, REPO, type MetricFamily } from './exported-metrics.ts';
import { queryProblems, readQuery } from './promql.ts';

const CHART = path.join(REPO, 'charts', 'composer-mcp');
const DASHBOARD_PATH = path.join(CHART, 'files', 'dashboards', 'composer-mcp.json');

interface Panel {
  id: number;
  type: string;
  title: string;
  targets?: Array<{ expr: string; refId: string }>;
  panels?: Panel[];
}
interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: Array<{ name: string; type: string; query?: string | { query: string } }> };
}

const dashboard = (): Dashboard => JSON.parse(readFileSync(DASHBOARD_PATH, 'utf8')) as Dashboard;
const allPanels = (panels: readonly Panel[]): Panel[] => panels.flatMap((p) => [p, ...allPanels(p.panels ?? [])]);

/** The metric name of a `label_values(metric, label)` variable query. */
function labelValuesMetric(query: string): { metric: string; label: string } | undefined {
  const m = /^label_values\(\s*([a-zA-Z_:][\w:]*)\s*,\s*(\w+)\s*\)$/.exec(query.trim());
  return m ? { metric: m[1]!, label: m[2]! } : undefined;
}

/**
 * The panels issue 14 asks of the dashboard, each with a metric its queries must read (so a panel cannot pass by
 * title alone): tool calls and errors by tool, open/preview latency, browsers ready/draining/desired, sessions and
 * queue depth, reconcile rate and errors, recycles by reason.
 */
const REQUIRED_PANELS: Array<{ what: string; title: RegExp; reads: string }> = [
  { what: 'tool calls by tool', title: /^Tool calls by tool$/, reads: 'composer_mcp_tool_calls_total' },
  { what: 'tool errors by tool', title: /^Tool errors by tool/, reads: 'composer_mcp_tool_calls_total' },
  { what: 'open/preview latency', title: /^Open and preview latency/, reads: 'composer_mcp_tool_duration_seconds_bucket' },
  { what: 'browsers (known, healthy, not taking leases)', title: /^Browsers/, reads: 'composer_mcp_router_pool_healthy' },
  { what: 'sessions and queue depth', title: /^Sessions and queue depth$/, reads: 'composer_mcp_router_queue_depth' },
  { what: 'reconcile rate and errors', title: /^Reconciles by result$/, reads: 'composer_mcp_operator_reconciles_total' },
  { what: 'browsers desired, ready and draining', title: /^BrowserPool: desired and browsers by state$/, reads: 'composer_mcp_operator_pool_browsers' },
  { what: 'recycles by reason', title: /^Recycles by reason$/, reads: 'composer_mcp_operator_browser_drains_total' },
];

describe('Grafana dashboard (charts/composer-mcp/files/dashboards/composer-mcp.json)', () => {
  let families: Map<string, MetricFamily>;
  before(async () => {
    families = parseExposition(await productExposition());
  });

  it('reads only metrics and labels the code exports, in queries Prometheus parses', () => {
    const problems: string[] = [];
    for (const panel of allPanels(dashboard().panels)) {
      for (const target of panel.targets ?? []) {
        for (const p of queryProblems(target.expr, families)) problems.push(`panel "${panel.title}" query ${target.refId}: ${p}`);
      }
    }
    expect(problems).to.deep.equal([]);
  });

  it('has a query on every panel but rows, and unique panel ids', () => {
    const panels = allPanels(dashboard().panels);
    expect(panels.filter((p) => p.type !== 'row' && (p.targets ?? []).length === 0).map((p) => p.title)).to.deep.equal([]);
    const ids = panels.map((p) => p.id);
    expect(new Set(ids).size, 'panel ids must be unique').to.equal(ids.length);
  });

  it('has the panels the operators need, each reading its metric', () => {
    const panels = allPanels(dashboard().panels);
    const missing = REQUIRED_PANELS.filter((r) => {
      const panel = panels.find((p) => p.type !== 'row' && r.title.test(p.title));
      return !panel || !(panel.targets ?? []).some((t) => readQuery(t.expr).selectors.some((s) => s.metric === r.reads));
    });
    expect(missing.map((m) => `${m.what} (a panel titled ${m.title} reading ${m.reads})`)).to.deep.equal([]);
  });

  it('lists namespaces from a metric the server exports, and takes its data source from a variable', () => {
    const d = dashboard();
    const ns = d.templating.list.find((v) => v.name === 'namespace');
    const query = typeof ns?.query === 'string' ? ns.query : ns?.query?.query ?? '';
    const lv = labelValuesMetric(query);
    expect(lv, `namespace variable query ${query}`).to.not.equal(undefined);
    expect(families.has(lv!.metric), `${lv!.metric} is exported`).to.equal(true);
    expect(d.templating.list.some((v) => v.name === 'datasource' && v.type === 'datasource')).to.equal(true);
    expect(JSON.stringify(d.panels)).to.not.match(/"uid":\s*"(?!\$\{datasource\})[^"]*"/, 'every panel uses the ${datasource} variable');
  });

  it('the alert rules read only exported metrics and labels too (kube-state-metrics aside)', () => {
    const rules = parseYaml(readFileSync(path.join(CHART, 'files', 'alerts.yaml'), 'utf8').replaceAll(/\{\{[^}]*\}\}/g, '1')) as Array<{ alert: string; expr: string }>;
    const problems = rules.flatMap((r) => queryProblems(r.expr, families, ['kube_']).map((p) => `${r.alert}: ${p}`));
    expect(problems).to.deep.equal([]);
  });

  it('a query naming a metric or label nobody exports is reported (the check can fail)', () => {
    expect(queryProblems('sum(rate(composer_mcp_tool_callz_total[5m]))', families)).to.deep.equal(['reads composer_mcp_tool_callz_total, which no component exports']);
    expect(queryProblems('sum by (browser) (composer_mcp_router_pool_busy)', families)).to.deep.equal(['groups by label "browser", which none of its metrics carries']);
    expect(queryProblems('composer_mcp_tool_calls_total{tol="x"}', families)[0]).to.match(/label "tol"/);
    expect(queryProblems('sum(rate(composer_mcp_tool_calls_total[5m]', families)[0]).to.match(/does not parse/);
  });

  it('the exported families cover every instrument the product sources create', () => {
    const { otel, gateway } = instrumentNamesInSource();
    const missing = [
      ...otel.filter((name) => ![...families.values()].some((f) => f.name === prometheusName(name, f.type))),
      ...gateway.filter((name) => !families.has(name)),
    ];
    expect(missing, 'instruments created in the sources but not recorded by test/unit/docs/exported-metrics.ts: wire them there').to.deep.equal([]);
    expect(otel.length).to.be.greaterThan(10);
  });
});
