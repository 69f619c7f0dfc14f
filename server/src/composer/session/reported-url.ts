/**
 * How URLs and text that a page produced are reported to the caller and the logs. A page is hostile: it can put
 * anything in a URL it requests or a message it logs, including secrets it encoded. So URLs are reported as origin
 * and path only (never the query or fragment), long opaque runs (base64, hex, JWT-like) are replaced by their
 * length, and everything is truncated. Pure.
 */

/** Longest reported URL, in characters. */
export const MAX_REPORTED_URL = 160;
/** Longest reported message, in characters. */
export const MAX_REPORTED_TEXT = 300;
/** Runs of URL-safe, base64 or percent-encoded characters at least this long are elided. */
const OPAQUE_RUN = /[A-Za-z0-9+/=_\-.%~]{40,}/g;

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** `text` with every long opaque run replaced by `[N chars]`. */
export function elideOpaqueRuns(text: string): string {
  return text.replace(OPAQUE_RUN, (run) => `[${run.length} chars]`);
}

/**
 * `url` as it may be reported: `origin/path` with long opaque path segments elided and the whole truncated;
 * non-http(s) URLs as their scheme only (`data:`, `blob:`, `javascript:` …); unparseable text as `(invalid URL)`.
 */
export function reportedUrl(url: string, max = MAX_REPORTED_URL): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return '(invalid URL)';
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:' && parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') return `${parsed.protocol}…`;
  const path = parsed.pathname
    .split('/')
    .map((segment) => (segment.length >= 40 ? `[${segment.length} chars]` : elideOpaqueRuns(segment)))
    .join('/');
  return truncate(`${parsed.origin}${path}`, max);
}

/** `url` split for reports: its origin and its reported path (see reportedUrl); an unparseable URL has origin ''. */
export function reportedOriginAndPath(url: string): { origin: string; path: string } {
  const reported = reportedUrl(url);
  let origin = '';
  try {
    origin = new URL(url).origin;
  } catch {
    return { origin, path: reported };
  }
  return reported.startsWith(origin) ? { origin, path: reported.slice(origin.length) || '/' } : { origin, path: reported };
}

/** Only the origin of `url` (`https://host:port`), or its scheme when it has none; for log lines. */
export function reportedOrigin(url: string): string {
  try {
    const parsed = new URL(url);
    return parsed.origin !== 'null' ? parsed.origin : `${parsed.protocol}…`;
  } catch {
    return '(invalid URL)';
  }
}

/**
 * Characters of page text that are never reported: C0 and C1 controls other than whitespace (terminal escapes such
 * as ESC `[2J`, BEL) and Unicode format characters (zero-width and direction marks, bidi embeddings, overrides and
 * isolates: text that reads other than it is). Whitespace controls are collapsed to spaces separately.
 */
const INVISIBLE = /(?![\t\n\v\f\r])[\p{Cc}\p{Cf}]/gu;

/** `text` without the characters a report never carries ({@link INVISIBLE}). Linear; never throws. */
export function withoutInvisible(text: string): string {
  return text.replace(INVISIBLE, '');
}

/**
 * A short string a page or a stored document chose (a widget's type or id), as it may be reported: control and
 * format characters removed as in page text, whitespace (line breaks included) collapsed to single spaces, trimmed.
 * Callers bound its length first.
 */
export function reportedToken(text: string): string {
  return withoutInvisible(text).replace(/\s+/g, ' ').trim();
}

/** How much of a page message is looked at: the report keeps `max` characters, and opaque runs shrink at most to about a tenth. */
const READ_FACTOR = 16;

/** The first `limit` characters of `text` without the word they cut into: the rest is elided as `[N chars]`. */
function cutAtWord(text: string, limit: number): string {
  const head = text.slice(0, limit);
  const kept = head.length - (/\S*$/.exec(head)?.[0].length ?? 0);
  return `${head.slice(0, kept)}[${text.length - kept} chars]`;
}

/**
 * A message a page produced (console text, an uncaught error), as it may be reported: every URL in it reduced to
 * origin and path, long opaque runs elided, control and bidi characters removed, whitespace collapsed, truncated.
 * Only the first `max × 16` characters are read (a page can log hundreds of megabytes, and the regular expressions
 * below overflow V8's stack on a run of a few million); when the message is longer, the rest from the word that
 * point cuts into is elided as `[N chars]`, so no cut-off piece of a URL or opaque run is ever reported. Linear;
 * never throws.
 */
export function reportedText(text: string, max = MAX_REPORTED_TEXT): string {
  const limit = max * READ_FACTOR;
  // Invisible characters go first: removed later, they would join runs split to stay under the elision length.
  const head = withoutInvisible(text.length > limit ? cutAtWord(text, limit) : text);
  const url = /\b(?:https?|wss?):\/\/[^\s"'<>`]+/gi;
  let out = '';
  let last = 0;
  for (const match of head.matchAll(url)) {
    out += elideOpaqueRuns(head.slice(last, match.index)) + reportedUrl(match[0]);
    last = match.index + match[0].length;
  }
  out += elideOpaqueRuns(head.slice(last));
  return truncate(out.replace(/\s+/g, ' ').trim(), max);
}
