/**
 * Which API answers the broker serves a page through the view sanitiser, and how it labels what it serves. The read
 * of the composition always; any other answer, error answers included, that says it is JSON or looks like it (the
 * sign-in check's user, a configured read's listing, an error's message): HTML in JSON is hostile whichever call
 * brings it. What the broker serves after
 * sanitising is its own serialisation, so it says so: UTF-8 JSON, never sniffed, whatever type and charset the
 * upstream claimed (an upstream that calls it text/html or UTF-7 would have the page read other text than the
 * sanitiser checked). Pure.
 */

/** Headers of a sanitised answer, replacing the upstream's type. */
export const SANITISED_JSON_HEADERS: ReadonlyArray<{ name: string; value: string }> = [
  { name: 'Content-Type', value: 'application/json; charset=utf-8' },
  { name: 'X-Content-Type-Options', value: 'nosniff' },
];

/** How an answer of `kind` is to be served: sanitised as JSON (`required`: a failure means 502), or as it is. */
export function answerTreatment(kind: 'sign-in' | 'read' | 'configured', headers: ReadonlyArray<readonly [string, string]>, body: Buffer): 'sanitise-required' | 'sanitise-if-json' | 'as-is' {
  if (kind === 'read') return 'sanitise-required';
  const type = headers.find(([name]) => name.toLowerCase() === 'content-type')?.[1] ?? '';
  if (/json/i.test(type)) return 'sanitise-required';
  const start = body.subarray(0, 64).toString('utf8').replace(/^\ufeff/, '').trimStart();
  return start.startsWith('{') || start.startsWith('[') ? 'sanitise-if-json' : 'as-is';
}

/** `headers` without the ones a sanitised answer replaces, then {@link SANITISED_JSON_HEADERS}. */
export function sanitisedHeaders(headers: ReadonlyArray<{ name: string; value: string }>): Array<{ name: string; value: string }> {
  const replaced = new Set(SANITISED_JSON_HEADERS.map((h) => h.name.toLowerCase()));
  return [...headers.filter((h) => !replaced.has(h.name.toLowerCase())), ...SANITISED_JSON_HEADERS];
}
