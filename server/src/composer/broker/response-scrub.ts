/**
 * Scrubbing what the API answers before a page sees it: every form of a real credential (raw, URL-encoded,
 * base64 at every alignment; see common/src/secret-encodings.ts) is replaced by the same form of the lease's
 * look-alike, in headers and body, and headers that must not cross are dropped. Pure.
 */

/** Pairs of (form of a real secret, same form of its look-alike). */
export type ScrubPairs = ReadonlyArray<readonly [string, string]>;

/** Response headers never relayed to a page: cookies (a session of the server's), hop-by-hop and encoding headers (the body is relayed decoded). */
const DROPPED_HEADERS = new Set(['set-cookie', 'set-cookie2', 'content-encoding', 'content-length', 'transfer-encoding', 'connection', 'keep-alive', 'trailer', 'upgrade', 'proxy-authenticate', 'www-authenticate', 'authorization', 'project-key', 'alt-svc']);

/** `text` with every real form replaced by its look-alike form. */
export function scrubText(text: string, pairs: ScrubPairs): string {
  let out = text;
  for (const [real, fake] of pairs) if (out.includes(real)) out = out.split(real).join(fake);
  return out;
}

/** `body` with every real form replaced (byte sequences, so a binary body is scrubbed without decoding it). */
export function scrubBytes(body: Buffer, pairs: ScrubPairs): Buffer {
  let out = body;
  for (const [real, fake] of pairs) {
    const needle = Buffer.from(real, 'utf8');
    if (out.indexOf(needle) < 0) continue;
    const replacement = Buffer.from(fake, 'utf8');
    const parts: Buffer[] = [];
    let from = 0;
    for (let at = out.indexOf(needle, from); at >= 0; at = out.indexOf(needle, from)) {
      parts.push(out.subarray(from, at), replacement);
      from = at + needle.length;
    }
    parts.push(out.subarray(from));
    out = Buffer.concat(parts);
  }
  return out;
}

/** The headers of an upstream answer as relayed to the page: dangerous ones dropped, values scrubbed. */
export function relayedHeaders(headers: Iterable<[string, string]>, pairs: ScrubPairs): Array<{ name: string; value: string }> {
  const out: Array<{ name: string; value: string }> = [];
  for (const [name, value] of headers) {
    if (DROPPED_HEADERS.has(name.toLowerCase())) continue;
    out.push({ name, value: scrubText(value, pairs) });
  }
  return out;
}
