import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { parse as parseYaml } from 'yaml';
import { chartValuesSchema, renderValuesSchema, VALUES_SCHEMA_PATH } from '../../../scripts/chart-values-schema.ts';

const chartDir = path.dirname(VALUES_SCHEMA_PATH);
const load = (file: string): Record<string, unknown> => parseYaml(readFileSync(path.join(chartDir, file), 'utf8')) as Record<string, unknown>;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Helm's merge of a values file over values.yaml: maps merge, everything else replaces. */
function merge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = isObject(v) && isObject(out[k]) ? merge(out[k], v) : v;
  return out;
}

describe('chart values schema (scripts/chart-values-schema.ts)', () => {
  it('values.schema.json is up to date (run make chart-docs after changing the schema)', () => {
    expect(readFileSync(VALUES_SCHEMA_PATH, 'utf8') === renderValuesSchema(), 'values.schema.json is stale: run make chart-docs').to.equal(true);
  });

  it('accepts values.yaml and values.yaml + ci/maximal-values.yaml', () => {
    const defaults = load('values.yaml');
    expect(chartValuesSchema.safeParse(defaults).error?.issues ?? []).to.deep.equal([]);
    expect(chartValuesSchema.safeParse(merge(defaults, load('ci/maximal-values.yaml'))).error?.issues ?? []).to.deep.equal([]);
  });

  it('rejects a misspelt key, a wrong type and an out-of-range value, naming each', () => {
    const defaults = load('values.yaml');
    const bad = merge(defaults, {
      server: { replcias: 3, port: 'http' },
      browserPool: { maxSessionsPerBrowser: 65 },
    });
    const issues = chartValuesSchema.safeParse(bad).error?.issues.map((i) => `${i.path.join('.')}: ${i.code}`) ?? [];
    expect(issues).to.include.members(['server: unrecognized_keys', 'server.port: invalid_type', 'browserPool.maxSessionsPerBrowser: too_big']);
  });

  it('forbids additional properties on every object the chart defines', () => {
    const schema = JSON.parse(renderValuesSchema()) as Record<string, unknown>;
    const loose: string[] = [];
    const visit = (node: unknown, at: string): void => {
      if (!isObject(node)) return;
      if (node['type'] === 'object' && node['properties'] && node['additionalProperties'] !== false) loose.push(at || '(root)');
      for (const [k, v] of Object.entries(node)) {
        if (Array.isArray(v)) v.forEach((x, i) => visit(x, `${at}/${k}/${i}`));
        else visit(v, `${at}/${k}`);
      }
    };
    visit(schema, '');
    expect(loose).to.deep.equal([]);
  });
});
