/** The composition model: one schema per widget type, the document schema and their defaults. */
export * from './common.ts';
export * from './widgets.ts';
export * from './document.ts';
export * from './head-1.ts';
export * from './text-1.ts';
export * from './quiz-1.ts';
export * from './flashcards-1.ts';
export * from './list-1.ts';
export * from './image-1.ts';
export * from './video-1.ts';
export * from './gallery-1.ts';
export * from './hotspots-1.ts';
