import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { secretRedactor } from './redaction.ts';

/** One invalid setting: where it is, what was expected, and where the bad value came from. */
export interface ConfigIssue {
  /** Dotted path of the setting, e.g. `http.port`. */
  path: string;
  /** What was wrong and what is expected. */
  message: string;
  /** Where the value came from: `default`, `file <path>`, `env NAME`, `flag --name`. */
  source: string;
}

/** Thrown when configuration is invalid. Its message lists every invalid field with what was expected. */
export class ConfigError extends Error {
  readonly issues: ConfigIssue[];
  constructor(issues: ConfigIssue[]) {
    super(['Invalid configuration:', ...issues.map((i) => `  - ${i.path || '(root)'}: ${i.message} (from ${i.source})`)].join('\n'));
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

/** Where configuration comes from. Precedence: defaults < file < env < flags. */
export interface ConfigSources {
  /** Prefix of environment variables, e.g. `COMPOSER_MCP` (`COMPOSER_MCP_HTTP__PORT` → `http.port`). */
  envPrefix: string;
  env?: NodeJS.ProcessEnv;
  /** Command-line arguments (without node and script), e.g. `['--http.port=8080', '--transport', 'stdio']`. */
  argv?: string[];
  /** Path of a YAML or JSON file; also taken from `--config` or `<PREFIX>_CONFIG`. */
  file?: string;
  defaults?: Record<string, unknown>;
}

type Tree = Record<string, unknown>;
type Origins = Map<string, string>;

/** `max_sessions` → `maxSessions`, `max-sessions` → `maxSessions`. */
export function toCamelCase(segment: string): string {
  return segment.toLowerCase().replace(/[-_]+([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

/** Maps an environment variable name to a setting path, or undefined when it does not carry the prefix. */
export function envNameToPath(name: string, prefix: string): string[] | undefined {
  const head = `${prefix}_`;
  if (!name.startsWith(head) || name === `${prefix}_CONFIG`) return undefined;
  const rest = name.slice(head.length);
  if (!rest) return undefined;
  return rest.split('__').map(toCamelCase);
}

/** Parses `--a.b-c=v`, `--a.b-c v`, `--flag`, `--no-flag` into [path, raw value] pairs; returns the config file flag apart. */
export function parseFlags(argv: string[]): { values: Array<[string[], string | boolean, string]>; configFile?: string; positional: string[] } {
  const values: Array<[string[], string | boolean, string]> = [];
  const positional: string[] = [];
  let configFile: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) { positional.push(arg); continue; }
    const eq = arg.indexOf('=');
    let key = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    let value: string | boolean;
    if (eq !== -1) value = arg.slice(eq + 1);
    else if (i + 1 < argv.length && !argv[i + 1]!.startsWith('--')) value = argv[++i]!;
    else if (key.startsWith('no-')) { key = key.slice(3); value = false; }
    else value = true;
    if (key === 'config') { configFile = String(value); continue; }
    values.push([key.split('.').map(toCamelCase), value, `flag --${key}`]);
  }
  return { values, configFile, positional };
}

function isPlainObject(value: unknown): value is Tree {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Deep-merges `over` onto `base` (arrays and scalars replace), recording the origin of every leaf. */
function mergeInto(base: Tree, over: Tree, origin: string, origins: Origins, prefix: string[] = []): Tree {
  for (const [key, value] of Object.entries(over)) {
    const path = [...prefix, key];
    if (isPlainObject(value) && isPlainObject(base[key])) mergeInto(base[key] as Tree, value, origin, origins, path);
    else {
      base[key] = isPlainObject(value) ? structuredClone(value) : value;
      recordOrigins(base[key], path, origin, origins);
    }
  }
  return base;
}

function recordOrigins(value: unknown, path: string[], origin: string, origins: Origins): void {
  origins.set(path.join('.'), origin);
  if (isPlainObject(value)) for (const [k, v] of Object.entries(value)) recordOrigins(v, [...path, k], origin, origins);
}

function setPath(tree: Tree, path: string[], value: unknown): void {
  let node = tree;
  for (const key of path.slice(0, -1)) {
    if (!isPlainObject(node[key])) node[key] = {};
    node = node[key] as Tree;
  }
  node[path[path.length - 1]!] = value;
}

/** The zod schema found at `path` inside `schema` (through optional, default, nullable, pipes), if any. */
export function schemaAt(schema: z.ZodType, path: string[]): z.ZodType | undefined {
  let node: z.ZodType | undefined = unwrap(schema);
  for (const key of path) {
    if (!node) return undefined;
    if (node instanceof z.ZodObject) node = unwrap((node.shape as Record<string, z.ZodType>)[key]);
    else if (node instanceof z.ZodRecord) node = unwrap(node.valueType as z.ZodType);
    else return undefined;
  }
  return node;
}

function unwrap(schema: z.ZodType | undefined): z.ZodType | undefined {
  let node = schema;
  for (let i = 0; i < 20 && node; i++) {
    if (node instanceof z.ZodOptional || node instanceof z.ZodNullable || node instanceof z.ZodDefault || node instanceof z.ZodPrefault || node instanceof z.ZodReadonly) {
      node = node.unwrap() as z.ZodType;
    } else if (node instanceof z.ZodPipe) node = node.in as z.ZodType;
    else break;
  }
  return node;
}

/**
 * Turns a string from env or a flag into the type the schema expects at that place: numbers, booleans, arrays
 * (comma-separated or JSON) and objects (JSON). Anything it cannot convert is left as is for zod to report.
 */
export function coerceRaw(schema: z.ZodType | undefined, raw: string | boolean): unknown {
  if (typeof raw === 'boolean') return raw;
  const target = unwrap(schema);
  const text = raw.trim();
  if (target instanceof z.ZodNumber) return text !== '' && Number.isFinite(Number(text)) ? Number(text) : raw;
  if (target instanceof z.ZodBoolean) {
    if (/^(true|1|yes|on)$/i.test(text)) return true;
    if (/^(false|0|no|off)$/i.test(text)) return false;
    return raw;
  }
  if (target instanceof z.ZodArray) {
    if (text.startsWith('[')) { try { return JSON.parse(text); } catch { return raw; } }
    const items = text === '' ? [] : text.split(',').map((s) => s.trim());
    const element = unwrap(target.element as z.ZodType);
    return items.map((item) => coerceRaw(element, item));
  }
  if (target instanceof z.ZodObject || target instanceof z.ZodRecord) {
    try { return JSON.parse(text); } catch { return raw; }
  }
  return raw;
}

function readConfigFile(path: string): Tree {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError([{ path: '', message: `cannot read config file ${path}: ${(error as Error).message}; check the path given to --config`, source: `file ${path}` }]);
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (error) {
    throw new ConfigError([{ path: '', message: `config file is not valid YAML or JSON: ${(error as Error).message}`, source: `file ${path}` }]);
  }
  if (parsed === null || parsed === undefined) return {};
  if (!isPlainObject(parsed)) throw new ConfigError([{ path: '', message: 'config file must hold a mapping of settings at the top', source: `file ${path}` }]);
  return parsed;
}

function describeReceived(value: unknown): string {
  if (value === undefined) return 'nothing';
  const json = JSON.stringify(value);
  return json && json.length > 60 ? `${json.slice(0, 57)}...` : String(json);
}

/**
 * Loads configuration from defaults, a file, environment variables and flags (in rising precedence), validates it
 * with `schema`, and returns the parsed value. Throws one ConfigError listing every invalid setting.
 * Values under secret-looking keys are registered with the log redactor so they never appear in logs.
 */
export function loadConfig<S extends z.ZodType>(schema: S, sources: ConfigSources): z.output<S> {
  const env = sources.env ?? process.env;
  const flags = parseFlags(sources.argv ?? []);
  const origins: Origins = new Map();
  const merged: Tree = {};
  mergeInto(merged, sources.defaults ?? {}, 'default', origins);
  const file = flags.configFile ?? env[`${sources.envPrefix}_CONFIG`] ?? sources.file;
  if (file) mergeInto(merged, readConfigFile(file), `file ${file}`, origins);

  const layer = (entries: Array<[string[], string | boolean, string]>): void => {
    const tree: Tree = {};
    const layerOrigins: Origins = new Map();
    for (const [path, raw, origin] of entries) {
      setPath(tree, path, coerceRaw(schemaAt(schema, path), raw));
      layerOrigins.set(path.join('.'), origin);
    }
    const scratch: Origins = new Map();
    mergeInto(merged, tree, '', scratch);
    for (const [path] of scratch) {
      const exact = layerOrigins.get(path) ?? [...layerOrigins.entries()].find(([p]) => path.startsWith(`${p}.`) || p.startsWith(`${path}.`))?.[1];
      if (exact) origins.set(path, exact);
    }
  };
  const envEntries: Array<[string[], string | boolean, string]> = [];
  for (const [name, value] of Object.entries(env).toSorted(([a], [b]) => a.localeCompare(b))) {
    const path = envNameToPath(name, sources.envPrefix);
    if (path && value !== undefined) envEntries.push([path, value, `env ${name}`]);
  }
  layer(envEntries);
  layer(flags.values);

  const result = schema.safeParse(merged);
  if (!result.success) {
    const issues = result.error.issues.map((issue): ConfigIssue => {
      const path = issue.path.map(String).join('.');
      const keys = issue.code === 'unrecognized_keys' ? issue.keys.map((k) => (path ? `${path}.${k}` : k)) : [];
      const source = keys.length ? (origins.get(keys[0]!) ?? 'unknown') : (origins.get(path) ?? 'default');
      let message = issue.message;
      if (issue.code === 'unrecognized_keys') message = `unknown setting(s) ${keys.join(', ')}; remove them or check the spelling`;
      else if (issue.code === 'invalid_type') message = `${issue.message}; got ${describeReceived(getPath(merged, issue.path.map(String)))}`;
      return { path, message, source };
    });
    throw new ConfigError(issues);
  }
  registerSecrets(result.data, secretRedactor.isSecretKey.bind(secretRedactor));
  return result.data;
}

function getPath(tree: unknown, path: string[]): unknown {
  let node = tree;
  for (const key of path) node = isPlainObject(node) ? node[key] : undefined;
  return node;
}

/** Registers every string under a secret-looking key with the log redactor. */
function registerSecrets(value: unknown, isSecretKey: (key: string) => boolean, underSecret = false): void {
  if (typeof value === 'string') { if (underSecret) secretRedactor.add(value); return; }
  if (Array.isArray(value)) { value.forEach((v) => registerSecrets(v, isSecretKey, underSecret)); return; }
  if (isPlainObject(value)) {
    for (const [k, v] of Object.entries(value)) {
      const secretKey = isSecretKey(k) && !/file$|path$|url$|mode$|header$/i.test(k);
      registerSecrets(v, isSecretKey, underSecret || secretKey);
    }
  }
}
