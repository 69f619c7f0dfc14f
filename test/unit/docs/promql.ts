/**
 * PromQL read with Prometheus' own grammar (@prometheus-io/lezer-promql, the parser of the Prometheus UI), to check
 * dashboard and alert queries against the metrics the code exports: which metric each selector names, which labels
 * it matches on, and which labels it groups by.
 */
import { parser } from '@prometheus-io/lezer-promql';
import type { MetricFamily } from './exported-metrics.ts';

/** Labels Prometheus adds to every scraped series (target labels from the ServiceMonitor and Kubernetes discovery). */
export const TARGET_LABELS = new Set(['namespace', 'pod', 'container', 'service', 'endpoint', 'job', 'instance']);

/** What one query reads. */
export interface QueryReferences {
  /** Syntax errors (the text around each), empty when the query parses. */
  errors: string[];
  /** Each vector selector: its metric name and the label names its matchers use. */
  selectors: Array<{ metric: string; labels: string[] }>;
  /** Label names in `by (...)` / `on (...)` / `without (...)` clauses. */
  groupingLabels: string[];
}

/** Grafana's macros and variables replaced by values PromQL accepts (`$__rate_interval` → `5m`). Pure. */
export function expandGrafanaVariables(expr: string): string {
  return expr.replaceAll(/\$__(rate_interval|interval|range)\b/g, '5m').replaceAll(/\[\$\{?\w+\}?\]/g, '[5m]');
}

/** Parses `expr` and lists what it reads. Pure. */
export function readQuery(expr: string): QueryReferences {
  const text = expandGrafanaVariables(expr);
  const refs: QueryReferences = { errors: [], selectors: [], groupingLabels: [] };
  const cursor = parser.parse(text).cursor();
  do {
    const node = cursor.node;
    if (node.type.isError) refs.errors.push(`at ${node.from}: …${text.slice(Math.max(0, node.from - 20), node.to + 20)}…`);
    if (node.name === 'VectorSelector') {
      const id = node.getChild('Identifier');
      const matchers = node.getChild('LabelMatchers');
      const labels: string[] = [];
      if (matchers) {
        const inner = matchers.cursor();
        do {
          if (inner.name === 'LabelName') labels.push(text.slice(inner.from, inner.to));
        } while (inner.next() && inner.from < matchers.to);
      }
      if (id) refs.selectors.push({ metric: text.slice(id.from, id.to), labels });
    }
    if (node.name === 'GroupingLabels') {
      for (let child = node.firstChild; child; child = child.nextSibling) {
        if (child.name === 'LabelName') refs.groupingLabels.push(text.slice(child.from, child.to));
      }
    }
  } while (cursor.next());
  return refs;
}

/** The family a selector's metric name belongs to (`x_bucket`, `x_sum`, `x_count` of a histogram `x`), if exported. */
export function familyOf(metric: string, families: ReadonlyMap<string, MetricFamily>): MetricFamily | undefined {
  const exact = families.get(metric);
  if (exact) return exact;
  const base = /^(.*)_(bucket|sum|count)$/.exec(metric)?.[1];
  const family = base ? families.get(base) : undefined;
  return family && (family.type === 'histogram' || family.type === 'summary') ? family : undefined;
}

/**
 * Problems of one query against the exported families: a syntax error, a metric nobody exports, a label matched or
 * grouped by that none of its metrics carries. Metrics starting with one of `external` prefixes (e.g. kube-state-metrics'
 * `kube_`) are not ours and are skipped. Pure.
 */
export function queryProblems(expr: string, families: ReadonlyMap<string, MetricFamily>, external: readonly string[] = []): string[] {
  const refs = readQuery(expr);
  const problems = refs.errors.map((e) => `does not parse as PromQL ${e}`);
  const ours = refs.selectors.filter((s) => !external.some((prefix) => s.metric.startsWith(prefix)));
  const known = new Set<string>(TARGET_LABELS);
  for (const selector of ours) {
    const family = familyOf(selector.metric, families);
    if (!family) {
      problems.push(`reads ${selector.metric}, which no component exports`);
      continue;
    }
    for (const label of family.labels) known.add(label);
    if (family.type === 'histogram') known.add('le');
    for (const label of selector.labels) {
      if (!TARGET_LABELS.has(label) && !family.labels.has(label) && label !== 'le') problems.push(`matches ${selector.metric} on label "${label}", which it does not carry (it has: ${[...family.labels].join(', ') || 'none'})`);
    }
  }
  if (ours.length === refs.selectors.length) {
    for (const label of refs.groupingLabels) if (!known.has(label)) problems.push(`groups by label "${label}", which none of its metrics carries`);
  }
  return problems;
}
