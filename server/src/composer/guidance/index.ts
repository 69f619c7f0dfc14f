/** Guidance: topic, subject and grade → a lesson structure and the widgets that fit. */
export * from './completions.ts';
export * from './grades.ts';
export * from './plan-lesson.ts';
export * from './subjects.ts';
