import { readUrl } from '../storage/composer-urls.ts';
import { isCanonicalPath } from './canonical-path.ts';

/**
 * What a read-only lease (open, preview) lets a page ask of the storage API: the app's sign-in check, the read of
 * the composition being viewed, and the extra reads configuration names. Everything else is refused. Pure.
 */

/** Methods a configured read-only call may use: reads only. */
export const READ_ONLY_METHODS = ['GET', 'HEAD'] as const;
export type ReadOnlyMethod = (typeof READ_ONLY_METHODS)[number];

/** An extra call configuration allows: a method and a path pattern relative to the API URL. */
export interface ApiCallRule {
  method: ReadOnlyMethod;
  /** As configured, e.g. `/storage/v1.0/assets/**`. */
  pattern: string;
  regex: RegExp;
}

/** The sign-in check of composer.md, relative to the API URL. */
export const SIGN_IN_PATH = '/auth/v1.0/user/me';
/** The read of a composition of composer.md, relative to the API URL. */
export const READ_PATH = '/storage/v1.0/content';

/** Query parameters that carry credentials (composer.md saw the read with them); never sent upstream from a page. */
export const CREDENTIAL_QUERY_PARAMS = ['access_token', 'project_key'];

function patternRegex(pattern: string): RegExp {
  const body = pattern
    .split(/(\*\*|\*)/)
    .map((part) => (part === '**' ? '.*' : part === '*' ? '[^/]*' : part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`);
}

/**
 * Parses `"GET /path/pattern"` (`*` = one path segment's characters, `**` = anything, including `/`). Throws an
 * Error saying what is wrong for another method, a path that does not start with `/`, or a query or fragment.
 */
export function parseApiCallRule(text: string): ApiCallRule {
  const match = /^\s*([A-Za-z]+)\s+(\S+)\s*$/.exec(text);
  if (!match) throw new Error(`"${text}" is not "METHOD /path", e.g. "GET /storage/v1.0/assets/**"`);
  const method = match[1]!.toUpperCase();
  const pattern = match[2]!;
  if (!(READ_ONLY_METHODS as readonly string[]).includes(method)) throw new Error(`"${text}": open and preview are read-only, so only ${READ_ONLY_METHODS.join(' and ')} calls can be allowed (got ${method})`);
  if (!pattern.startsWith('/')) throw new Error(`"${text}": the path must start with "/" (it is relative to the API URL)`);
  if (/[?#]/.test(pattern)) throw new Error(`"${text}": give a path without a query or fragment (queries are passed on as the page sent them, minus credentials)`);
  return { method: method as ReadOnlyMethod, pattern, regex: patternRegex(pattern) };
}

/** Why a call was allowed, and where the server sends it with the real credentials. */
export type ApiCallDecision =
  | { allowed: true; kind: 'sign-in' | 'read' | 'configured'; upstreamUrl: string }
  | { allowed: false; reason: 'not-api' | 'method' | 'path' | 'other-composition' };

/** `path` with trailing slashes removed (but `/` stays `/`). */
function trimSlashes(path: string): string {
  const trimmed = path.replace(/\/+$/, '');
  return trimmed === '' ? '/' : trimmed;
}

function safeDecode(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

/**
 * True when `url` carries exactly one `uid` parameter and it is `uid` — decoded as a form (`+` = space), or as the
 * app may have written it unencoded (a base64 uid's `+` kept), like composer-urls.ts's isReadOf.
 */
function isUidOf(url: URL, uid: string): boolean {
  const raw = [...url.search.slice(1).matchAll(/(?:^|&)uid=([^&]*)/g)].map((m) => m[1]!);
  if (raw.length !== 1 || url.searchParams.getAll('uid').length !== 1) return false;
  return url.searchParams.get('uid') === uid || raw[0] === uid || safeDecode(raw[0]!) === uid;
}

/** `url` without the credential query parameters. */
export function withoutCredentialParams(url: URL): string {
  const copy = new URL(url);
  for (const name of CREDENTIAL_QUERY_PARAMS) copy.searchParams.delete(name);
  copy.hash = '';
  return copy.toString();
}

/**
 * Whether a read-only lease for composition `uid` may make `method url` against the API at `apiUrl`, and if so
 * the URL the server calls in its place: the sign-in check and the read are rebuilt from configuration (the page's
 * query is dropped), a configured call keeps the page's query minus credential parameters and only matches a
 * canonical path (canonical-path.ts: no `..;`, encoded `/`, `\`, `.` or `;`, no empty segment). A read is allowed
 * only with exactly one `uid` parameter equal to the lease's.
 */
export function decideApiCall(input: { method: string; url: string; apiUrl: string; uid: string; rules: readonly ApiCallRule[] }): ApiCallDecision {
  let url: URL;
  let api: URL;
  try {
    url = new URL(input.url);
    api = new URL(input.apiUrl);
  } catch {
    return { allowed: false, reason: 'not-api' };
  }
  const base = api.pathname.replace(/\/+$/, '');
  if (url.origin !== api.origin || !(url.pathname === base || url.pathname.startsWith(`${base}/`))) return { allowed: false, reason: 'not-api' };
  const path = trimSlashes(url.pathname.slice(base.length));
  const method = input.method.toUpperCase();
  if (method === 'GET' && path === SIGN_IN_PATH) return { allowed: true, kind: 'sign-in', upstreamUrl: `${input.apiUrl.replace(/\/+$/, '')}${SIGN_IN_PATH}` };
  if (method === 'GET' && path === READ_PATH) {
    return isUidOf(url, input.uid) ? { allowed: true, kind: 'read', upstreamUrl: readUrl(input.apiUrl, input.uid) } : { allowed: false, reason: 'other-composition' };
  }
  // A configured call goes upstream with the page's own path: only a path every server reads alike may go.
  const rule = isCanonicalPath(url.pathname.slice(base.length)) ? input.rules.find((r) => r.method === method && r.regex.test(path)) : undefined;
  if (rule) return { allowed: true, kind: 'configured', upstreamUrl: withoutCredentialParams(url) };
  return { allowed: false, reason: (READ_ONLY_METHODS as readonly string[]).includes(method) ? 'path' : 'method' };
}
