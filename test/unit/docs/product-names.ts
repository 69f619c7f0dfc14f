/**
 * The names the product really has, read from the code and the chart: metrics (the exposition of the real instrument
 * classes), settings and env variables (the config schemas, as scripts/config-reference.ts reads them), chart values
 * (values.yaml), BrowserPool fields (the CRD), alerts (alerts.yaml), make targets (the Makefile), ADRs (docs/adr) and
 * files. The docs drift test checks every document against these.
 */
import { existsSync, globSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { gatewaySettingsSchema } from '#browser/gateway-main.ts';
import { operatorConfigSchema } from '#operator/config.ts';
import { SERVER_ENV_PREFIX, serverConfigSchema } from '#server/config.ts';
import { settingRows, type SettingRow } from '../../../scripts/config-reference.ts';
import { anchorsOfMarkdown, type ProductNames } from './doc-references.ts';
import { instrumentNamesInSource, parseExposition, productExposition, REPO } from './exported-metrics.ts';

const SKIP_DIRS = new Set(['node_modules', '.tools', '.git']);

/** Every file under `dir` (repository-relative), build and dependency folders skipped. */
export function repoFiles(dir = ''): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(path.join(REPO, dir))) {
    if (SKIP_DIRS.has(entry)) continue;
    const rel = dir ? `${dir}/${entry}` : entry;
    if (statSync(path.join(REPO, rel)).isDirectory()) out.push(...repoFiles(rel));
    else out.push(rel);
  }
  return out;
}

/** Every dotted path of a YAML/JSON tree: leaves and the maps above them. Pure. */
export function treePaths(tree: unknown, prefix = ''): string[] {
  if (tree === null || typeof tree !== 'object' || Array.isArray(tree)) return [];
  return Object.entries(tree as Record<string, unknown>).flatMap(([k, v]) => {
    const p = prefix ? `${prefix}.${k}` : k;
    return [p, ...treePaths(v, p)];
  });
}

interface OpenApiNode {
  properties?: Record<string, OpenApiNode>;
  items?: OpenApiNode;
  additionalProperties?: OpenApiNode | boolean;
}

/** Every field path of an OpenAPI schema node (array items walked through). Pure. */
export function schemaPaths(node: OpenApiNode | undefined, prefix: string): string[] {
  if (!node) return [];
  const own = Object.entries(node.properties ?? {}).flatMap(([k, child]) => {
    const p = `${prefix}.${k}`;
    return [p, ...schemaPaths(child, p)];
  });
  const free = node.additionalProperties ? [`${prefix}.*`] : [];
  return [...own, ...free, ...(node.items ? schemaPaths(node.items, prefix) : [])];
}

/** Setting paths with every parent (`a.b.c` → `a`, `a.b`, `a.b.c`). Pure. */
function withParents(paths: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (const p of paths) {
    const parts = p.split('.');
    for (let i = 1; i <= parts.length; i++) out.add(parts.slice(0, i).join('.'));
  }
  return out;
}

/** Env prefixes of the components, as scripts/config-reference.ts names them (each also reads `<PREFIX>_CONFIG`, common/src/config.ts). */
export const ENV_PREFIXES = [SERVER_ENV_PREFIX, 'BROWSERPOOL_OPERATOR', 'GATEWAY', 'CHROMIUM'];

/** The settings of every component: server, operator, gateway (which runs Chromium). */
export function componentSettings(): SettingRow[] {
  return [
    ...settingRows(serverConfigSchema, SERVER_ENV_PREFIX),
    ...settingRows(operatorConfigSchema, 'BROWSERPOOL_OPERATOR'),
    ...settingRows(gatewaySettingsSchema, 'GATEWAY'),
  ];
}

/** Where env names are read from: the product, its chart, build and support code (not tests, which may name any). */
const ENV_SOURCES = ['server', 'operator', 'browser', 'common', 'charts', 'scripts', 'bench', 'test/support', 'Makefile', '.ci'];

/** Reads every name of the product from this work tree. */
export async function readProductNames(): Promise<ProductNames> {
  const files = repoFiles();
  const families = parseExposition(await productExposition());
  const { otel } = instrumentNamesInSource();
  const metrics = new Set([...families.keys(), ...otel.map((n) => n.replaceAll('.', '_'))]);

  const settings = componentSettings();
  const settingPaths = withParents(settings.map((s) => s.path));
  // Env names: those the config loader derives, and every env-looking token the code, chart or Makefile spells out.
  const env = new Set([...settings.map((s) => s.env), ...ENV_PREFIXES.map((p) => `${p}_CONFIG`)]);
  const envToken = new RegExp(`\\b(?:${ENV_PREFIXES.join('|')})_[A-Z0-9_]+\\b`, 'g');
  const readsEnv = (f: string) => ENV_SOURCES.some((d) => f === d || f.startsWith(`${d}/`)) && /\.(ts|ya?ml|tpl|sh)$|^Makefile$|^Dockerfile/.test(path.basename(f));
  for (const f of files.filter(readsEnv)) {
    for (const m of readFileSync(path.join(REPO, f), 'utf8').matchAll(envToken)) env.add(m[0]);
  }

  const values = parseYaml(readFileSync(path.join(REPO, 'charts/composer-mcp/values.yaml'), 'utf8')) as Record<string, unknown>;
  const crd = parseYaml(readFileSync(path.join(REPO, 'crds/browser.composer-mcp.io_browserpools.yaml'), 'utf8')) as {
    spec: { versions: Array<{ schema: { openAPIV3Schema: OpenApiNode } }> };
  };
  const root = crd.spec.versions[0]!.schema.openAPIV3Schema.properties!;
  const alerts = parseYaml(readFileSync(path.join(REPO, 'charts/composer-mcp/files/alerts.yaml'), 'utf8').replaceAll(/\{\{[^}]*\}\}/g, '1')) as Array<{ alert: string }>;
  const makefile = readFileSync(path.join(REPO, 'Makefile'), 'utf8');
  const adrs = readdirSync(path.join(REPO, 'docs', 'adr')).map((f) => /^(\d{4})-.*\.md$/.exec(f)?.[1]).filter((n): n is string => n !== undefined).map(Number);

  const anchorCache = new Map<string, Set<string>>();
  return {
    metrics,
    settings: settingPaths,
    settingRoots: new Set(settings.map((s) => s.path.split('.')[0]!)),
    env,
    envPrefixes: ENV_PREFIXES,
    values: new Set(treePaths(values)),
    valueRoots: new Set(Object.keys(values)),
    crd: new Set(['spec', 'status', ...schemaPaths(root['spec'], 'spec'), ...schemaPaths(root['status'], 'status')]),
    alerts: new Set(alerts.map((a) => a.alert)),
    makeTargets: new Set([...makefile.matchAll(/^([a-zA-Z][\w-]*):/gm)].map((m) => m[1]!)),
    adrs: new Set(adrs),
    pathExists: (relative) => {
      const clean = relative.replace(/\/$/, '');
      if (clean.includes('*')) return globSync(clean, { cwd: REPO }).length > 0;
      return existsSync(path.join(REPO, clean));
    },
    anchorsOf: (relative) => {
      if (!relative.endsWith('.md')) return undefined;
      let anchors = anchorCache.get(relative);
      if (!anchors) {
        anchors = anchorsOfMarkdown(readFileSync(path.join(REPO, relative), 'utf8'));
        anchorCache.set(relative, anchors);
      }
      return anchors;
    },
  };
}

/** The Markdown documents the drift test checks: every .md of the repository (dependencies and tools aside). */
export function documents(): string[] {
  return repoFiles().filter((f) => f.endsWith('.md'));
}
