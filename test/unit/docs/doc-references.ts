/**
 * What a Markdown document names that must exist in the code or the chart: metrics, settings (server/operator
 * settings, env variables, chart values, BrowserPool fields), alerts, `make` targets, repository paths, ADRs and
 * relative links with their anchors. Pure functions of the text; `checkDocument` compares them with the product's
 * names (test/unit/docs/product-names.ts).
 */

/** One name a document uses, with the line it is on. */
export interface Reference {
  kind: 'metric' | 'setting' | 'env' | 'value' | 'crd' | 'config' | 'alert' | 'make' | 'path' | 'adr' | 'link';
  name: string;
  line: number;
}

/** The names of the product a document is checked against. */
export interface ProductNames {
  /** Prometheus metric names (families; `_bucket`/`_sum`/`_count` of histograms are accepted too). */
  metrics: ReadonlySet<string>;
  /** Setting paths of every component (`browsers.queueLimit`), leaves and their parents. */
  settings: ReadonlySet<string>;
  /** First segments of setting paths (what makes a dotted name a setting). */
  settingRoots: ReadonlySet<string>;
  /** Env variables the components read. */
  env: ReadonlySet<string>;
  /** Env prefixes of the components (a name with one of these is an env reference). */
  envPrefixes: readonly string[];
  /** Chart value paths (`server.browsers.queueLimit`), leaves and parents. */
  values: ReadonlySet<string>;
  valueRoots: ReadonlySet<string>;
  /** BrowserPool paths under `spec.` and `status.`; `x.*` marks a map whose keys are free (resources.limits). */
  crd: ReadonlySet<string>;
  alerts: ReadonlySet<string>;
  makeTargets: ReadonlySet<string>;
  /** ADR numbers (1, 2, …). */
  adrs: ReadonlySet<number>;
  /** Whether a repository-relative path exists (globs allowed). */
  pathExists(relative: string): boolean;
  /** Anchors of a repository file (GitHub heading slugs and `<a id>`), undefined when it is not Markdown. */
  anchorsOf(relative: string): ReadonlySet<string> | undefined;
}

/** Top-level folders of the repository: a token starting with one of them is a path. */
export const REPO_DIRS = ['server', 'operator', 'kube', 'browser', 'common', 'charts', 'crds', 'docs', 'bench', 'scripts', 'test', '.ci'];

/** GitHub's anchor of a heading text. Pure. */
export function headingSlug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replaceAll(/<[^>]+>/g, '')
    .replaceAll(/[^\p{L}\p{N}\s_-]/gu, '')
    .replaceAll(' ', '-');
}

/** Anchors of a Markdown text: heading slugs (with GitHub's -1, -2 for repeats) and explicit `<a id="…">`. Pure. */
export function anchorsOfMarkdown(text: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let fenced = false;
  for (const line of text.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    if (fenced) continue;
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (heading) {
      const slug = headingSlug(heading[1]!);
      const n = seen.get(slug) ?? 0;
      anchors.add(n === 0 ? slug : `${slug}-${n}`);
      seen.set(slug, n + 1);
    }
    for (const m of line.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) anchors.add(m[1]!);
  }
  return anchors;
}

/** Code of a document: inline code spans and fenced blocks, each with its line number. Pure. */
export function codeOf(text: string): Array<{ code: string; line: number; fenced: boolean }> {
  const out: Array<{ code: string; line: number; fenced: boolean }> = [];
  const lines = text.split('\n');
  let fence: { start: number; body: string[] } | undefined;
  lines.forEach((line, i) => {
    if (/^\s*(```|~~~)/.test(line)) {
      if (fence) {
        out.push({ code: fence.body.join('\n'), line: fence.start, fenced: true });
        fence = undefined;
      } else {
        fence = { start: i + 1, body: [] };
      }
      return;
    }
    if (fence) {
      fence.body.push(line);
      return;
    }
    for (const m of line.matchAll(/(`+)([^`]+?)\1/g)) out.push({ code: m[2]!, line: i + 1, fenced: false });
  });
  return out;
}

/** Prose of a document (fenced blocks removed), line by line. Pure. */
function proseLines(text: string): Array<{ text: string; line: number }> {
  const out: Array<{ text: string; line: number }> = [];
  let fenced = false;
  text.split('\n').forEach((line, i) => {
    if (/^\s*(```|~~~)/.test(line)) {
      fenced = !fenced;
      return;
    }
    if (!fenced) out.push({ text: line, line: i + 1 });
  });
  return out;
}

const METRIC = /\b(?:composer_mcp|cdp_gateway)(?:[_.][a-z0-9]+)+\b/g;
const DOTTED = /^([a-z][A-Za-z0-9]*(?:\.[a-zA-Z][A-Za-z0-9]*)+)(\.\*)?(?:=\S*)?$/;
/** An MCP method name (`server/discover`, `tools/list`): one word after the slash, no extension. Not a path. */
const MCP_METHOD = /^[a-z]+\/[a-z][A-Za-z]*$/;
const FILE_EXTENSION = /\.(ts|js|md|ya?ml|json|tpl|sh|txt|tgz)$/;
const PATH_TOKEN = new RegExp(`^(?:\\.\\./)*(?:${REPO_DIRS.map((d) => d.replace('.', '\\.')).join('|')})/[\\w./*@+-]*$`);

/** Every reference in a document, given the product's roots and prefixes (to tell a setting from any dotted word). Pure. */
export function referencesOf(text: string, names: Pick<ProductNames, 'settingRoots' | 'valueRoots' | 'envPrefixes'>): Reference[] {
  const refs: Reference[] = [];
  for (const { code, line, fenced } of codeOf(text)) {
    for (const m of code.matchAll(METRIC)) refs.push({ kind: 'metric', name: m[0].replaceAll('.', '_'), line });
    for (const m of code.matchAll(/(?:^|[\s;&|(])make\s+([a-z][\w-]*)/g)) refs.push({ kind: 'make', name: m[1]!, line });
    for (const m of code.matchAll(/\b([A-Z][A-Z0-9]*(?:_{1,2}[A-Z0-9]+)+)(_*\*|_*…)?/g)) {
      const [, name, wildcard] = m as unknown as [string, string, string | undefined];
      if (names.envPrefixes.some((p) => name.startsWith(`${p}_`))) refs.push({ kind: 'env', name: wildcard ? `${name}*` : name, line });
    }
    const tokens = fenced ? code.split(/[\s"'`(),;|<>]+/) : [code.trim(), ...code.split(/[\s"'`(),;|<>]+/)];
    for (const raw of new Set(tokens)) {
      const token = raw.replace(/[.:]+$/, '');
      const dotted = DOTTED.exec(token);
      if (dotted && !fenced && !FILE_EXTENSION.test(token)) {
        const [, path, wildcard] = dotted as unknown as [string, string, string | undefined];
        const root = path.split('.')[0]!;
        const name = wildcard ? `${path}.*` : path;
        if (root === 'spec' || root === 'status') refs.push({ kind: 'crd', name, line });
        else if (names.valueRoots.has(root)) refs.push({ kind: 'value', name, line });
        else if (names.settingRoots.has(root)) refs.push({ kind: 'setting', name, line });
        // A camelCase root or three segments and more reads as configuration even when no component has that root
        // (any more): a chart value or setting whose whole section was removed must not pass unnoticed.
        else if (/[a-z][A-Z]/.test(root) || path.split('.').length >= 3) refs.push({ kind: 'config', name, line });
      }
      if (PATH_TOKEN.test(token) && !/[<{]/.test(token) && !MCP_METHOD.test(token)) refs.push({ kind: 'path', name: token.replace(/^(\.\.\/)+/, '').replace(/#.*$/, ''), line });
    }
  }
  for (const { text: line, line: n } of proseLines(text)) {
    const withoutCode = line.replaceAll(/`[^`]*`/g, '');
    for (const m of line.matchAll(/\bComposerMcp[A-Z]\w+/g)) refs.push({ kind: 'alert', name: m[0], line: n });
    for (const m of withoutCode.matchAll(/\bADRs?\s+(\d{1,4})((?:\s*(?:,|and|or)\s*\d{1,4})*)/g)) {
      for (const num of `${m[1]}${m[2] ?? ''}`.match(/\d+/g) ?? []) refs.push({ kind: 'adr', name: String(Number(num)), line: n });
    }
    for (const m of line.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
      const target = m[1]!;
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // absolute URL (https:, mailto:)
      refs.push({ kind: 'link', name: target, line: n });
    }
  }
  return refs;
}

/** Joins a link target with the directory of the document it is in, as a repository-relative path. Pure. */
export function resolveLink(docPath: string, target: string): { file: string; anchor: string | undefined } {
  const [filePart, anchor] = target.split('#') as [string, string | undefined];
  if (filePart === '') return { file: docPath, anchor };
  const parts = docPath.split('/').slice(0, -1);
  for (const segment of filePart.split('/')) {
    if (segment === '..') parts.pop();
    else if (segment !== '.' && segment !== '') parts.push(segment);
  }
  return { file: parts.join('/'), anchor };
}

function hasPrefix(set: ReadonlySet<string>, prefix: string): boolean {
  for (const s of set) if (s.startsWith(prefix)) return true;
  return false;
}

/** `a.b.c` is in the set, or an ancestor of it is a map with free keys (`a.b.*`). Pure. */
function hasPath(set: ReadonlySet<string>, name: string): boolean {
  if (set.has(name)) return true;
  const parts = name.split('.');
  for (let i = parts.length - 1; i > 0; i--) if (set.has(`${parts.slice(0, i).join('.')}.*`)) return true;
  return false;
}

/** The metric, or the histogram/counter family it is a series of, is exported. Pure. */
function metricExists(name: string, metrics: ReadonlySet<string>): boolean {
  if (metrics.has(name)) return true;
  const base = /^(.*)_(bucket|sum|count)$/.exec(name)?.[1];
  return base !== undefined && metrics.has(base);
}

/** What is wrong with one reference (undefined when it exists). */
export function referenceProblem(ref: Reference, docPath: string, names: ProductNames): string | undefined {
  const at = `${docPath}:${ref.line}`;
  switch (ref.kind) {
    case 'metric':
      return metricExists(ref.name, names.metrics) ? undefined : `${at} names metric ${ref.name}, which no component exports`;
    case 'setting': {
      const ok = ref.name.endsWith('.*') ? hasPrefix(names.settings, ref.name.slice(0, -1)) : names.settings.has(ref.name);
      return ok ? undefined : `${at} names setting ${ref.name}, which no component's config schema has`;
    }
    case 'value': {
      const ok = ref.name.endsWith('.*') ? hasPrefix(names.values, ref.name.slice(0, -1)) : names.values.has(ref.name);
      return ok ? undefined : `${at} names chart value ${ref.name}, which values.yaml does not have`;
    }
    case 'crd': {
      const ok = ref.name.endsWith('.*') ? hasPrefix(names.crd, ref.name.slice(0, -1)) : hasPath(names.crd, ref.name);
      return ok ? undefined : `${at} names BrowserPool field ${ref.name}, which the CRD does not have`;
    }
    case 'config':
      return `${at} names ${ref.name}, which is no setting, chart value or BrowserPool field (its root "${ref.name.split('.')[0]}" is unknown)`;
    case 'env': {
      const ok = ref.name.endsWith('*') ? hasPrefix(names.env, ref.name.slice(0, -1)) : names.env.has(ref.name);
      return ok ? undefined : `${at} names env variable ${ref.name}, which no component reads`;
    }
    case 'alert':
      return names.alerts.has(ref.name) ? undefined : `${at} names alert ${ref.name}, which charts/composer-mcp/files/alerts.yaml does not define`;
    case 'make':
      return names.makeTargets.has(ref.name) ? undefined : `${at} names make ${ref.name}, which the Makefile has no target for`;
    case 'adr':
      return names.adrs.has(Number(ref.name)) ? undefined : `${at} names ADR ${ref.name}, which docs/adr/ does not have`;
    case 'path':
      return names.pathExists(ref.name) ? undefined : `${at} names ${ref.name}, which does not exist`;
    case 'link': {
      const { file, anchor } = resolveLink(docPath, ref.name);
      if (!names.pathExists(file)) return `${at} links to ${ref.name}, which does not exist (${file})`;
      if (anchor === undefined || anchor === '') return undefined;
      const anchors = names.anchorsOf(file);
      if (anchors && !anchors.has(anchor)) return `${at} links to ${ref.name}, but ${file} has no heading or anchor "${anchor}"`;
      return undefined;
    }
  }
}

/**
 * What an ADR is held to. An ADR is a record of a decision at a date: its context, its rejected options and what it
 * removed name files, fields, settings and fixtures that have since gone or never were the product's, so only its
 * links, ADR numbers, alerts and make targets are checked; the living documents are held to every kind.
 */
export const ADR_KINDS: ReadonlySet<Reference['kind']> = new Set(['link', 'adr', 'alert', 'make']);

/** Whether a document is an ADR (docs/adr/NNNN-*.md). */
export function isAdr(docPath: string): boolean {
  return /^docs\/adr\/\d{4}-[^/]+\.md$/.test(docPath);
}

/** Every problem of one document (ADRs: only the kinds of ADR_KINDS). */
export function checkDocument(docPath: string, text: string, names: ProductNames): string[] {
  return referencesOf(text, names)
    .filter((r) => !isAdr(docPath) || ADR_KINDS.has(r.kind))
    .map((r) => referenceProblem(r, docPath, names))
    .filter((p): p is string => p !== undefined);
}
