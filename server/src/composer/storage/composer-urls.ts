/** Joins a base URL and a path without doubling or dropping the slash. */
function join(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}${path}`;
}

/** The editor URL of a composition: `{composer}/#/composer/{uid}` (uid URL-encoded; it is opaque). */
export function editorUrl(composerUrl: string, uid: string): string {
  return join(composerUrl, `/#/composer/${encodeURIComponent(uid)}`);
}

/** The embedded (learner) view URL of a composition: `{composer}/#/embed/composer/{uid}`. */
export function embedUrl(composerUrl: string, uid: string): string {
  return join(composerUrl, `/#/embed/composer/${encodeURIComponent(uid)}`);
}

/** The upload route: `{api}/storage/v1.0/upload/connector/uid/{connectorUid}`. */
export function uploadUrl(apiUrl: string, connectorUid: string): string {
  return join(apiUrl, `/storage/v1.0/upload/connector/uid/${encodeURIComponent(connectorUid)}`);
}

/** The read route: `{api}/storage/v1.0/content?uid={uid}`. */
export function readUrl(apiUrl: string, uid: string): string {
  return join(apiUrl, `/storage/v1.0/content?${new URLSearchParams({ uid }).toString()}`);
}

function safeDecode(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

/** True when `url` is a read of the composition `uid` on the API at `apiUrl` (used to spot the page's own read). */
export function isReadOf(url: string, apiUrl: string, uid: string): boolean {
  try {
    const u = new URL(url);
    const api = new URL(apiUrl);
    if (u.origin !== api.origin || !u.pathname.replace(/\/+$/, '').endsWith('/storage/v1.0/content')) return false;
    if (u.searchParams.get('uid') === uid) return true;
    // An app that puts the uid in the query unencoded turns its '+' into a space for URLSearchParams: compare raw too.
    const raw = /[?&]uid=([^&]*)/.exec(u.search)?.[1];
    return raw !== undefined && (raw === uid || safeDecode(raw) === uid);
  } catch {
    return false;
  }
}

/** True when `url` is the app's sign-in check `{api}/auth/v1.0/user/me`. */
export function isUserMe(url: string, apiUrl: string): boolean {
  try {
    const u = new URL(url);
    return u.origin === new URL(apiUrl).origin && u.pathname.replace(/\/+$/, '').endsWith('/auth/v1.0/user/me');
  } catch {
    return false;
  }
}
