import type { V1EnvVar, V1LabelSelector, V1ResourceRequirements, V1Toleration, V1Affinity } from '@kubernetes/client-node';
import {
  BROWSERPOOL_MAX_NAME_LENGTH, DEFAULT_BROWSER_IMAGE, DEFAULT_SANDBOX_SECCOMP_PROFILE, MAX_ALLOWED_ORIGINS, type BrowserPoolSpec,
} from '#kube/api/v1alpha1/browserpool.ts';
import { refusedEnv, refusedFlag, switchName } from './browser-hardening.ts';


/** A BrowserPool spec with every default filled in; what the pure functions work on. */
export interface ResolvedPoolSpec {
  replicas: number;
  autoscaling?: { minReplicas: number; maxReplicas: number; minIdle: number; targetSessionsPerBrowser: number; scaleDownStabilizationWindowSeconds: number };
  maxSessionsPerBrowser: number;
  browser: { image: string; args: string[]; resources?: V1ResourceRequirements; env: V1EnvVar[]; sandbox: boolean; sandboxSeccompProfile: string };
  gateway: { port: number };
  recycle: { maxAgeSeconds: number; drainTimeoutSeconds: number; unhealthyAfterSeconds: number; maxLeases: number; maxMemoryBytes?: number };
  scheduling: {
    nodeSelector?: Record<string, string>;
    tolerations?: V1Toleration[];
    affinity?: V1Affinity;
    priorityClassName?: string;
  };
  access: { podSelector?: V1LabelSelector };
  egress: { origins: AllowedOrigin[] };
}

/** One origin the browsers may reach: its text, host and TCP port. */
export interface AllowedOrigin {
  origin: string;
  host: string;
  port: number;
}

/** Reads `scheme://host[:port]` (http or https, no path, no user info); undefined when it is not one. Pure. */
export function parseAllowedOrigin(text: string): AllowedOrigin | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.username || url.password || url.search || url.hash) return undefined;
  if (url.pathname !== '/' && url.pathname !== '') return undefined;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (!host || host === '0.0.0.0' || host === '::') return undefined;
  const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
  return { origin: url.origin, host, port };
}

/** Result of validating a spec: the resolved spec, or every problem found (each naming the field and the fix). */
export type SpecValidation = { ok: true; spec: ResolvedPoolSpec } | { ok: false; problems: string[] };

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const LABEL_NAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;
/** A Localhost seccomp profile path below the kubelet's seccomp directory: relative, plain characters, no segment starting with a dot (so no `..`). */
const SECCOMP_PROFILE_PATH = /^[A-Za-z0-9_-][A-Za-z0-9._-]*(\/[A-Za-z0-9_-][A-Za-z0-9._-]*)*$/;
const IMAGE_REF = /^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)*(:[\w][\w.-]{0,127})?(@sha256:[a-f0-9]{64})?$/;
/** Longest pool name (the CRD's limit): it is a label value and a prefix of pod and Secret names. */
export const MAX_POOL_NAME_LENGTH = BROWSERPOOL_MAX_NAME_LENGTH;
/** Environment variables of the browser container that the operator sets itself (and every GATEWAY_* one). */
const RESERVED_BROWSER_ENV = new Set(['HOME', 'POD_IP', 'CHROMIUM_PATH', 'TMPDIR']);

const QUANTITY = /^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/;
const MULTIPLIER: Record<string, number> = {
  '': 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

/** Parses a Kubernetes quantity ("500m", "1Gi", "2") to a number, or undefined when it is not one. */
export function parseQuantity(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  const m = QUANTITY.exec(value.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  if (!Number.isFinite(n)) return undefined;
  return n * (MULTIPLIER[m[2] ?? ''] ?? 1);
}

function isLabelKey(key: string): boolean {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) return false;
  return name.length <= 63 && LABEL_NAME_PART.test(name);
}

function isLabelValue(value: unknown): boolean {
  return typeof value === 'string' && value.length <= 63 && LABEL_VALUE.test(value);
}

function listOf<T>(path: string, value: unknown, problems: string[]): T[] {
  if (value === undefined || value === null) return [];
  if (Array.isArray(value)) return value as T[];
  problems.push(`${path}: must be a list`);
  return [];
}

function isInt(v: unknown, min: number, max = Number.MAX_SAFE_INTEGER): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
}

function checkResources(path: string, r: V1ResourceRequirements | undefined, problems: string[]): void {
  if (!r) return;
  const parsed: Record<'limits' | 'requests', Record<string, number>> = { limits: {}, requests: {} };
  for (const kind of ['limits', 'requests'] as const) {
    for (const [name, q] of Object.entries(r[kind] ?? {})) {
      const n = parseQuantity(q as string | number);
      if (n === undefined || n < 0) problems.push(`${path}.${kind}.${name}: "${String(q)}" is not a quantity; use e.g. "500m", "1", "512Mi", "2Gi"`);
      else parsed[kind][name] = n;
    }
  }
  for (const [name, req] of Object.entries(parsed.requests)) {
    const lim = parsed.limits[name];
    if (lim !== undefined && req > lim) {
      problems.push(`${path}.requests.${name} (${String(r.requests?.[name])}) is greater than ${path}.limits.${name} (${String(r.limits?.[name])}); lower the request or raise the limit`);
    }
  }
}

function checkSelector(path: string, s: V1LabelSelector | undefined, problems: string[]): void {
  if (!s) return;
  for (const [k, v] of Object.entries(s.matchLabels ?? {})) {
    if (!isLabelKey(k)) problems.push(`${path}.matchLabels: "${k}" is not a valid label key`);
    if (!isLabelValue(v)) problems.push(`${path}.matchLabels.${k}: "${String(v)}" is not a valid label value (≤ 63 of [A-Za-z0-9-_.], alphanumeric at both ends)`);
  }
  listOf<NonNullable<V1LabelSelector['matchExpressions']>[number]>(`${path}.matchExpressions`, s.matchExpressions, problems).forEach((e, i) => {
    const p = `${path}.matchExpressions[${i}]`;
    if (!isLabelKey(e.key)) problems.push(`${p}.key: "${e.key}" is not a valid label key`);
    const values = listOf<string>(`${p}.values`, e.values, problems);
    if (e.operator === 'In' || e.operator === 'NotIn') {
      if (values.length === 0) problems.push(`${p}: operator ${e.operator} needs at least one value`);
    } else if (e.operator === 'Exists' || e.operator === 'DoesNotExist') {
      if (values.length > 0) problems.push(`${p}: operator ${e.operator} takes no values; remove "values"`);
    } else {
      problems.push(`${p}.operator: "${e.operator}" is not one of In, NotIn, Exists, DoesNotExist`);
    }
    values.forEach((v) => {
      if (!isLabelValue(v)) problems.push(`${p}.values: "${v}" is not a valid label value`);
    });
  });
}

/**
 * Checks what the CRD's OpenAPI schema and CEL rules cannot (pool name length, quantities, requests ≤ limits,
 * image references, env names, selectors, reserved flags) and fills every default. Pure; never throws.
 */
export function validateSpec(poolName: string, raw: Partial<BrowserPoolSpec> | undefined): SpecValidation {
  const problems: string[] = [];
  const spec = (raw ?? {}) as Partial<BrowserPoolSpec>;
  if (poolName.length > MAX_POOL_NAME_LENGTH) {
    problems.push(`metadata.name: "${poolName}" has ${poolName.length} characters; a BrowserPool name may have at most ${MAX_POOL_NAME_LENGTH} (it becomes a label value and a pod name prefix)`);
  } else if (!poolName.split('.').every((part) => DNS_LABEL.test(part))) {
    problems.push(`metadata.name: "${poolName}" must be lower-case alphanumerics, "-" and "."`);
  }

  const replicas = spec.replicas ?? 2;
  if (!isInt(replicas, 0, 1000)) problems.push(`spec.replicas: ${String(replicas)} must be a whole number from 0 to 1000`);

  let autoscaling: ResolvedPoolSpec['autoscaling'];
  if (spec.autoscaling) {
    const a = spec.autoscaling;
    const minReplicas = a.minReplicas ?? 1;
    const maxReplicas = a.maxReplicas;
    const target = a.targetSessionsPerBrowser ?? 3;
    if (!isInt(minReplicas, 0, 1000)) problems.push(`spec.autoscaling.minReplicas: ${String(minReplicas)} must be a whole number from 0 to 1000`);
    if (!isInt(maxReplicas, 1, 1000)) problems.push(`spec.autoscaling.maxReplicas: ${String(maxReplicas)} must be a whole number from 1 to 1000`);
    else if (isInt(minReplicas, 0) && minReplicas > maxReplicas) {
      problems.push(`spec.autoscaling: minReplicas (${minReplicas}) is greater than maxReplicas (${maxReplicas}); make minReplicas ≤ maxReplicas`);
    }
    if (!isInt(target, 1, 64)) problems.push(`spec.autoscaling.targetSessionsPerBrowser: ${String(target)} must be a whole number from 1 to 64`);
    const minIdle = a.minIdle ?? 1;
    if (!isInt(minIdle, 0, 1000)) problems.push(`spec.autoscaling.minIdle: ${String(minIdle)} must be a whole number from 0 to 1000`);
    else if (isInt(maxReplicas, 1) && minIdle > maxReplicas) {
      problems.push(`spec.autoscaling: minIdle (${minIdle}) is greater than maxReplicas (${maxReplicas}); make minIdle ≤ maxReplicas`);
    }
    const window = a.scaleDownStabilizationWindowSeconds ?? 60;
    if (!isInt(window, 0, 3600)) {
      problems.push(`spec.autoscaling.scaleDownStabilizationWindowSeconds: ${String(window)} must be a whole number of seconds from 0 (scale down at once) to 3600`);
    }
    autoscaling = { minReplicas, maxReplicas, minIdle, targetSessionsPerBrowser: target, scaleDownStabilizationWindowSeconds: window };
  }

  const maxSessionsPerBrowser = spec.maxSessionsPerBrowser ?? 4;
  if (!isInt(maxSessionsPerBrowser, 1, 64)) problems.push(`spec.maxSessionsPerBrowser: ${String(maxSessionsPerBrowser)} must be a whole number from 1 to 64`);
  else if (autoscaling && isInt(autoscaling.targetSessionsPerBrowser, 1) && autoscaling.targetSessionsPerBrowser > maxSessionsPerBrowser) {
    problems.push(`spec.autoscaling.targetSessionsPerBrowser (${autoscaling.targetSessionsPerBrowser}) is greater than spec.maxSessionsPerBrowser (${maxSessionsPerBrowser}); lower the target or raise the maximum`);
  }

  const browserImage = spec.browser?.image ?? DEFAULT_BROWSER_IMAGE;
  if (typeof browserImage !== 'string' || !IMAGE_REF.test(browserImage)) problems.push(`spec.browser.image: "${browserImage}" is not an image reference like registry/name:tag`);
  const args = listOf<string>('spec.browser.args', spec.browser?.args, problems).filter((a) => typeof a === 'string');
  args.forEach((arg, i) => {
    const refused = refusedFlag(arg);
    if (refused) problems.push(`spec.browser.args[${i}]: --${switchName(arg)} is refused: ${refused.why}; remove it`);
  });
  const env = listOf<V1EnvVar>('spec.browser.env', spec.browser?.env, problems).filter((e) => typeof e?.name === 'string');
  env.forEach((e, i) => {
    if (!ENV_NAME.test(e.name)) problems.push(`spec.browser.env[${i}].name: "${e.name}" is not a valid environment variable name`);
    else if (RESERVED_BROWSER_ENV.has(e.name) || e.name.startsWith('GATEWAY_')) problems.push(`spec.browser.env[${i}].name: ${e.name} is set by the operator; remove it`);
    else if (refusedEnv(e.name)) problems.push(`spec.browser.env[${i}].name: ${e.name} is refused: ${refusedEnv(e.name)}; remove it`);
    if (e.valueFrom !== undefined) {
      problems.push(`spec.browser.env[${i}].valueFrom is refused: a browser runs untrusted pages and may not read Secrets, ConfigMaps or pod fields; give a literal value`);
    }
  });
  checkResources('spec.browser.resources', spec.browser?.resources, problems);
  const sandbox = spec.browser?.sandbox ?? false;
  if (typeof sandbox !== 'boolean') problems.push(`spec.browser.sandbox: ${JSON.stringify(sandbox)} must be true or false`);
  const sandboxSeccompProfile = spec.browser?.sandboxSeccompProfile ?? DEFAULT_SANDBOX_SECCOMP_PROFILE;
  if (typeof sandboxSeccompProfile !== 'string' || sandboxSeccompProfile.length > 255 || !SECCOMP_PROFILE_PATH.test(sandboxSeccompProfile)) {
    problems.push(`spec.browser.sandboxSeccompProfile: ${JSON.stringify(sandboxSeccompProfile)} is not a path below the kubelet's seccomp directory like ${DEFAULT_SANDBOX_SECCOMP_PROFILE} (relative, no "..")`);
  }

  const port = spec.gateway?.port ?? 9222;
  if (!isInt(port, 1, 65535)) problems.push(`spec.gateway.port: ${String(port)} must be a port number from 1 to 65535`);

  const maxAgeSeconds = spec.recycle?.maxAgeSeconds ?? 3600;
  const drainTimeoutSeconds = spec.recycle?.drainTimeoutSeconds ?? 300;
  const unhealthyAfterSeconds = spec.recycle?.unhealthyAfterSeconds ?? 60;
  if (!isInt(maxAgeSeconds, 10)) problems.push(`spec.recycle.maxAgeSeconds: ${String(maxAgeSeconds)} must be a whole number of at least 10`);
  if (!isInt(drainTimeoutSeconds, 0)) problems.push(`spec.recycle.drainTimeoutSeconds: ${String(drainTimeoutSeconds)} must be a whole number of at least 0`);
  if (!isInt(unhealthyAfterSeconds, 1)) problems.push(`spec.recycle.unhealthyAfterSeconds: ${String(unhealthyAfterSeconds)} must be a whole number of at least 1`);
  const maxLeases = spec.recycle?.maxLeases ?? 0;
  if (!isInt(maxLeases, 0, 1_000_000)) problems.push(`spec.recycle.maxLeases: ${String(maxLeases)} must be a whole number from 0 (no limit) to 1000000`);
  let maxMemoryBytes: number | undefined;
  if (spec.recycle?.maxMemory !== undefined) {
    maxMemoryBytes = parseQuantity(spec.recycle.maxMemory);
    if (maxMemoryBytes === undefined || !(maxMemoryBytes > 0)) {
      problems.push(`spec.recycle.maxMemory: "${String(spec.recycle.maxMemory)}" is not a positive quantity; use e.g. "1536Mi" or "2Gi"`);
    }
  }

  const scheduling = spec.scheduling ?? {};
  for (const [k, v] of Object.entries(scheduling.nodeSelector ?? {})) {
    if (!isLabelKey(k)) problems.push(`spec.scheduling.nodeSelector: "${k}" is not a valid label key`);
    if (!isLabelValue(v)) problems.push(`spec.scheduling.nodeSelector.${k}: "${String(v)}" is not a valid label value`);
  }
  if (scheduling.priorityClassName !== undefined && !DNS_SUBDOMAIN.test(scheduling.priorityClassName)) {
    problems.push(`spec.scheduling.priorityClassName: "${scheduling.priorityClassName}" is not a valid object name`);
  }
  listOf<V1Toleration>('spec.scheduling.tolerations', scheduling.tolerations, problems).forEach((t, i) => {
    if (t.operator === 'Exists' && t.value) problems.push(`spec.scheduling.tolerations[${i}]: operator Exists takes no value; remove "value"`);
    if (t.key !== undefined && t.key !== '' && !isLabelKey(t.key)) problems.push(`spec.scheduling.tolerations[${i}].key: "${t.key}" is not a valid key`);
  });
  checkSelector('spec.access.podSelector', spec.access?.podSelector, problems);
  const origins: AllowedOrigin[] = [];
  const originTexts = listOf<string>('spec.egress.allowedOrigins', spec.egress?.allowedOrigins, problems);
  if (originTexts.length > MAX_ALLOWED_ORIGINS) problems.push(`spec.egress.allowedOrigins: ${originTexts.length} entries; at most ${MAX_ALLOWED_ORIGINS}`);
  originTexts.forEach((text, i) => {
    const origin = typeof text === 'string' && !text.includes('*') ? parseAllowedOrigin(text) : undefined;
    if (origin === undefined) problems.push(`spec.egress.allowedOrigins[${i}]: "${String(text)}" is not an origin like https://composer.example.com or https://api.example.com:8443`);
    else if (origins.some((o) => o.origin === origin.origin)) problems.push(`spec.egress.allowedOrigins[${i}]: "${text}" is listed twice`);
    else origins.push(origin);
  });

  if (problems.length > 0) return { ok: false, problems };
  const resolved: ResolvedPoolSpec = {
    replicas,
    maxSessionsPerBrowser,
    browser: {
      image: browserImage, args: [...args], env: [...env], sandbox: sandbox === true, sandboxSeccompProfile,
      ...(spec.browser?.resources ? { resources: spec.browser.resources } : {}),
    },
    gateway: { port },
    recycle: { maxAgeSeconds, drainTimeoutSeconds, unhealthyAfterSeconds, maxLeases, ...(maxMemoryBytes !== undefined ? { maxMemoryBytes } : {}) },
    scheduling: { ...scheduling },
    access: spec.access?.podSelector ? { podSelector: spec.access.podSelector } : {},
    egress: { origins },
  };
  if (autoscaling) resolved.autoscaling = autoscaling;
  return { ok: true, spec: resolved };
}
