import type { TaskSupport } from './tool-tasks.ts';

/** The built-in tools that run as tasks for 2026-07-28 clients that declare the extension: the long browser work. */
export const TASK_TOOL_SUPPORT: Readonly<Record<string, TaskSupport>> = { composer_open_composition: 'optional', composer_preview_composition: 'optional' };
