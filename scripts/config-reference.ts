/**
 * Generates docs/configuration.md from the configuration schemas themselves (server, operator, gateway:
 * zod, read through `z.toJSONSchema`) and from the BrowserPool CRD's OpenAPI descriptions, so the reference
 * cannot drift from the code. Run `node scripts/config-reference.ts` (or `make config-docs`);
 * test/unit/chart/config-reference.test.ts fails when docs/configuration.md is stale.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { gatewaySettingsSchema } from '#browser/gateway-main.ts';
import { operatorConfigSchema } from '#operator/config.ts';
import { SERVER_ENV_PREFIX, serverConfigSchema } from '#server/config.ts';

const REPO = path.resolve(import.meta.dirname, '..');
/** Where the reference is written. */
export const CONFIG_REFERENCE_PATH = path.join(REPO, 'docs', 'configuration.md');
const CRD_PATH = path.join(REPO, 'crds', 'browser.composer-mcp.io_browserpools.yaml');

/** One setting of a component. */
export interface SettingRow {
  path: string;
  env: string;
  flag: string;
  type: string;
  defaultValue: string;
  description: string;
}

interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  default?: unknown;
  description?: string;
  minimum?: number;
  maximum?: number;
  format?: string;
  additionalProperties?: JsonSchema | boolean;
}

const snake = (s: string): string => s.replaceAll(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
const kebab = (s: string): string => s.replaceAll(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();

/** The env variable of a setting path (`browsers.maxSessions` → `PREFIX_BROWSERS__MAX_SESSIONS`), as common/src/config.ts maps it. */
export function envName(prefix: string, parts: string[]): string {
  return `${prefix}_${parts.map(snake).join('__')}`;
}

/** The flag of a setting path (`browsers.maxSessions` → `--browsers.max-sessions`). */
export function flagName(parts: string[]): string {
  return `--${parts.map(kebab).join('.')}`;
}

function typeOf(s: JsonSchema): string {
  if (s.enum) return s.enum.map((v) => JSON.stringify(v)).join(' \\| ');
  if (s.anyOf) return s.anyOf.map(typeOf).filter((t) => t !== 'null').join(' \\| ');
  const t = Array.isArray(s.type) ? s.type.filter((x) => x !== 'null').join(' \\| ') : s.type ?? 'any';
  if (t === 'array') return `list of ${s.items ? typeOf(s.items) : 'any'}`;
  if (t === 'object' && s.additionalProperties && typeof s.additionalProperties === 'object') return `map of ${typeOf(s.additionalProperties)} (JSON in env)`;
  const max = s.maximum !== undefined && s.maximum < Number.MAX_SAFE_INTEGER ? s.maximum : undefined;
  const range = s.minimum !== undefined || max !== undefined ? ` (${s.minimum ?? ''}..${max ?? ''})` : '';
  return `${s.format ?? t}${range}`;
}

/** Every leaf setting of a zod config schema, in declaration order. */
export function settingRows(schema: z.ZodType, prefix: string): SettingRow[] {
  const json = z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any' }) as JsonSchema;
  const rows: SettingRow[] = [];
  const walk = (node: JsonSchema, parts: string[]): void => {
    for (const [key, child] of Object.entries(node.properties ?? {})) {
      const at = [...parts, key];
      if (child.properties && child.type === 'object') { walk(child, at); continue; }
      rows.push({
        path: at.join('.'), env: envName(prefix, at), flag: flagName(at), type: typeOf(child),
        defaultValue: child.default === undefined ? '' : JSON.stringify(child.default),
        description: child.description ?? '',
      });
    }
  };
  walk(json, []);
  return rows;
}

/** Every field of the BrowserPool spec with its OpenAPI type, default and description. */
export function crdRows(crdYaml: string): Array<{ path: string; type: string; defaultValue: string; description: string }> {
  const crd = parseYaml(crdYaml) as { spec: { versions: Array<{ name: string; schema: { openAPIV3Schema: JsonSchema } }> } };
  const spec = crd.spec.versions[0]!.schema.openAPIV3Schema.properties!['spec']!;
  const rows: Array<{ path: string; type: string; defaultValue: string; description: string }> = [];
  const walk = (node: JsonSchema, at: string, depth: number): void => {
    for (const [key, child] of Object.entries(node.properties ?? {})) {
      const p = `${at}.${key}`;
      rows.push({ path: p, type: typeOf(child), defaultValue: child.default === undefined ? '' : JSON.stringify(child.default), description: (child.description ?? '').split('\n')[0]! });
      // Kubernetes' own structures (resources, env, affinity, ...) are documented by `kubectl explain`; stop at depth 3.
      if (depth < 3 && child.properties) walk(child, p, depth + 1);
    }
  };
  walk(spec, 'spec', 1);
  return rows;
}

const cell = (s: string): string => s.replaceAll('|', '\\|').replaceAll('\n', ' ');

function settingsTable(rows: SettingRow[]): string[] {
  return [
    '| Setting | Env var | Flag | Type | Default | Description |',
    '|---------|---------|------|------|---------|-------------|',
    ...rows.map((r) => `| \`${r.path}\` | \`${r.env}\` | \`${r.flag}\` | ${r.type} | ${r.defaultValue ? `\`${cell(r.defaultValue)}\`` : ''} | ${cell(r.description) || '(no description in the schema)'} |`),
  ];
}

/** The whole reference document. */
export function renderConfigReference(crdYaml: string = readFileSync(CRD_PATH, 'utf8')): string {
  const sections: Array<{ title: string; intro: string; rows: SettingRow[] }> = [
    {
      title: 'Server (`server/src/config.ts`)', rows: settingRows(serverConfigSchema, SERVER_ENV_PREFIX),
      intro: `Env prefix \`${SERVER_ENV_PREFIX}\`; a YAML/JSON file with \`--config\` or \`${SERVER_ENV_PREFIX}_CONFIG\`. Lists are comma-separated in env and flags.`,
    },
    {
      title: 'Operator (`operator/src/config.ts`)', rows: settingRows(operatorConfigSchema, 'BROWSERPOOL_OPERATOR'),
      intro: 'Env prefix `BROWSERPOOL_OPERATOR`; also `POD_NAME`, `POD_NAMESPACE` (downward API) and `LOG_LEVEL`, `LOG_FORMAT` (logger).',
    },
    {
      title: 'Gateway, the browser pod\'s one process (`browser/src/gateway-main.ts`)', rows: settingRows(gatewaySettingsSchema, 'GATEWAY'),
      intro: 'Env prefix `GATEWAY`; set by the operator in each browser pod from the BrowserPool (`spec.egress.allowedOrigins`, `spec.maxSessionsPerBrowser`, `spec.browser.args`). It runs Chromium as its child; `CHROMIUM_PATH` names the binary.',
    },
  ];
  const crd = crdRows(crdYaml);
  return [
    '<!-- Generated by scripts/config-reference.ts (make config-docs) from the config schemas and the CRD. Do not edit by hand. -->',
    '# Configuration reference',
    '',
    'Every component loads its settings the same way (`common/src/config.ts`): defaults < config file < environment',
    '< flags. Env names: prefix, then the setting path with `__` between levels and `_` between words',
    '(`browsers.maxSessionsPerBrowser` → `COMPOSER_MCP_BROWSERS__MAX_SESSIONS_PER_BROWSER`); flags use dots and dashes',
    '(`--browsers.max-sessions-per-browser=4`). An invalid value stops the process with every bad setting named.',
    'Helm values map onto these settings: see [charts/composer-mcp/README.md](../charts/composer-mcp/README.md).',
    '',
    ...sections.flatMap((s) => [`## ${s.title}`, '', s.intro, '', ...settingsTable(s.rows), '']),
    '## BrowserPool (`crds/browser.composer-mcp.io_browserpools.yaml`)',
    '',
    'Fields of `spec` with their defaults; `kubectl explain browserpool.spec --recursive` shows the full schema.',
    '',
    '| Field | Type | Default | Description |',
    '|-------|------|---------|-------------|',
    ...crd.map((r) => `| \`${r.path}\` | ${r.type} | ${r.defaultValue ? `\`${cell(r.defaultValue)}\`` : ''} | ${cell(r.description)} |`),
    '',
  ].join('\n');
}

if (import.meta.main) {
  writeFileSync(CONFIG_REFERENCE_PATH, renderConfigReference());
  console.log(`Wrote ${path.relative(process.cwd(), CONFIG_REFERENCE_PATH)}`);
}
