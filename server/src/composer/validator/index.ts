/** The validator: every problem of a composition with its JSONPath, rule, message and fix. */
export * from './html-check.ts';
export * from './json-path.ts';
export * from './limits.ts';
export * from './problem.ts';
export * from './validate-composition.ts';
