/**
 * Whether a URL path means the same thing to every server that may read it. The broker matches a configured call
 * against the path as the browser's URL parser left it, then sends that path upstream; a server that decodes or
 * normalises further (Tomcat and Spring read `..;` as `..`, many proxies decode `%2F` and collapse `//`, a matrix
 * parameter `;x` is dropped, an overlong UTF-8 `%C0%AE` was read as `.`) would serve another path than the one
 * allowed — another composition's read, with the real credentials. Pure.
 */

/** Characters a path segment may hold as they are: RFC 3986 unreserved and sub-delimiters, without `;`, plus `:` and `@`. */
const PLAIN = /^[A-Za-z0-9\-._~!$&'()*+,=:@]$/;

/** Decoded characters that change how a server splits or walks a path, or end a string: never allowed encoded. */
const STRUCTURAL = /[/\\.;%\p{Cc}]/u;

/**
 * True when every segment of `path` (which starts with `/`) is non-empty, is not `.` or `..`, and holds only plain
 * characters and percent-escapes of valid UTF-8 that decode to something other than `/`, `\`, `.`, `;`, `%` or a
 * control character. `/a/b.png`, `/fotoss%C3%ADntese.png` are canonical; `/a/..;/b`, `/a/..%2Fb`, `/a//b`,
 * `/a/%252e`, `/a/%C0%AE` are not.
 */
export function isCanonicalPath(path: string): boolean {
  if (!path.startsWith('/')) return false;
  const segments = path.slice(1).split('/');
  for (const segment of segments) {
    if (segment === '' || segment === '.' || segment === '..') return false;
    let i = 0;
    while (i < segment.length) {
      if (segment[i] !== '%') {
        if (!PLAIN.test(segment[i]!)) return false;
        i += 1;
        continue;
      }
      // A run of escapes decodes together (one UTF-8 character may take several).
      let end = i;
      while (end < segment.length && segment[end] === '%') end += 3;
      let decoded: string;
      try {
        decoded = decodeURIComponent(segment.slice(i, end));
      } catch {
        return false;
      }
      if (STRUCTURAL.test(decoded)) return false;
      i = end;
    }
  }
  return true;
}
