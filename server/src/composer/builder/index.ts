/** The builder: lesson outline → complete composition. */
export * from './build-composition.ts';
export * from './escape.ts';
export * from './ids.ts';
export * from './outline.ts';
export * from './section-widgets.ts';
