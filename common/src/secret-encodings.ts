/**
 * The forms a secret takes when something encodes it on the way out: URL-encoded (a query string), base64 and
 * base64url (a page that packs it into a URL or a header). Base64 of a longer text holds the secret at one of three
 * bit alignments, so each alignment's run of characters that depend on the secret alone is a form of its own: it
 * appears inside the encoding of any text that contains the secret at that alignment. Pure.
 */

/** Characters of `base64(prefix + secret)` that depend only on the secret's bytes, for a prefix of `shift` bytes. */
function alignedCore(secret: Buffer, shift: 0 | 1 | 2): string {
  const encoded = Buffer.concat([Buffer.alloc(shift), secret]).toString('base64');
  const firstBit = shift * 8;
  const endBit = (shift + secret.length) * 8;
  // Character i covers bits [6i, 6i + 6): it depends on the secret alone when that span lies inside [firstBit, endBit).
  const first = Math.ceil(firstBit / 6);
  const end = Math.floor(endBit / 6);
  return encoded.slice(first, end);
}

/** The three aligned base64 cores of `secret` (standard alphabet). */
export function base64Cores(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8');
  return ([0, 1, 2] as const).map((shift) => alignedCore(bytes, shift));
}

/** Standard base64 characters to their base64url equivalents (padding is never part of a core). */
function toBase64Url(text: string): string {
  return text.replaceAll('+', '-').replaceAll('/', '_');
}

/**
 * The encoded forms of `secret` worth looking for besides the secret itself: its URL-encoding (when it differs)
 * and its aligned base64 and base64url cores, each at least `minLength` characters (shorter ones would match
 * noise). The secret itself is not included. Duplicates are removed; order is stable.
 */
export function encodedForms(secret: string, minLength = 8): string[] {
  const forms = new Set<string>();
  const uri = encodeURIComponent(secret);
  if (uri !== secret) forms.add(uri);
  for (const core of base64Cores(secret)) {
    forms.add(core);
    forms.add(toBase64Url(core));
  }
  forms.delete(secret);
  return [...forms].filter((f) => f.length >= minLength);
}

/**
 * Pairs of (form of `real`, same form of `replacement`) for rewriting text that may hold `real` in any form:
 * raw, URL-encoded, base64 and base64url at every alignment. `real` and `replacement` should have the same length
 * so aligned forms pair up; encoded forms that would match noise (shorter than `minLength`) are left out (the raw
 * pair is always first).
 */
export function formPairs(real: string, replacement: string, minLength = 8): Array<[string, string]> {
  const pairs: Array<[string, string]> = [[real, replacement]];
  const uriReal = encodeURIComponent(real);
  if (uriReal !== real) pairs.push([uriReal, encodeURIComponent(replacement)]);
  const realCores = base64Cores(real);
  const fakeCores = base64Cores(replacement);
  realCores.forEach((core, i) => {
    const fake = fakeCores[i] ?? '';
    if (core.length !== fake.length) return;
    pairs.push([core, fake]);
    if (toBase64Url(core) !== core) pairs.push([toBase64Url(core), toBase64Url(fake)]);
  });
  const seen = new Set<string>();
  return pairs.filter(([form], index) => {
    if (form.length === 0 || (index > 0 && form.length < minLength) || seen.has(form)) return false;
    seen.add(form);
    return true;
  });
}
