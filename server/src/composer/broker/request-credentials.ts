import { CREDENTIAL_QUERY_PARAMS } from './read-only-policy.ts';

/** The parts of a paused request the broker looks at (CDP's `Fetch.Request`, trimmed). */
export interface PausedRequestLike {
  url: string;
  method: string;
  /** Header names as the browser sent them (any case). */
  headers: Record<string, string>;
}

/** The value of header `name` (case-insensitive), or undefined. */
export function headerValue(headers: Record<string, string>, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === wanted) return value;
  return undefined;
}

/**
 * Every value in `request` that could be a credential the page was given: the bearer token of `Authorization`,
 * the `Project-Key` header, and the `access_token` and `project_key` query parameters. The broker looks each up
 * among its leases' look-alikes to find the lease whose page sent the request. Pure.
 */
export function credentialCandidates(request: PausedRequestLike): string[] {
  const found: string[] = [];
  const authorization = headerValue(request.headers, 'authorization');
  const bearer = authorization === undefined ? undefined : /^\s*Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1];
  if (bearer) found.push(bearer);
  const projectKey = headerValue(request.headers, 'project-key')?.trim();
  if (projectKey) found.push(projectKey);
  try {
    const params = new URL(request.url).searchParams;
    for (const name of CREDENTIAL_QUERY_PARAMS) for (const value of params.getAll(name)) if (value) found.push(value);
  } catch {
    // Not a URL: nothing to find.
  }
  return found;
}
