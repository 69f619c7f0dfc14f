/**
 * Lesson HTML, parsed as browsers parse it (parse5, the WHATWG algorithm) and held to one allowlist: the
 * sanitiser the validator uses to refuse documents and the view uses to serve them. See docs/adr/0010.
 */
export * from './html-policy.ts';
export * from './parse-fragment.ts';
export * from './sanitize-composition.ts';
export * from './sanitize-html.ts';
export * from './url-policy.ts';
