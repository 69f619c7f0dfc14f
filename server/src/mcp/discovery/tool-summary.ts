import type { ToolDefinition } from '#server/tools/tool-definition.ts';

/** What discovery documents say about one tool (the full schemas stay with tools/list). */
export interface ToolSummary {
  name: string;
  title: string;
  readOnly: boolean;
  destructive: boolean;
  /** Runs as a task (2026-07-28 tasks extension) for clients that declare it: `optional` or `required`. */
  task?: 'optional' | 'required';
}

/** The tool list of the code, in tools/list order, as discovery documents carry it. */
export function toolSummaries<S>(tools: readonly ToolDefinition<S>[], taskTools: Readonly<Record<string, 'optional' | 'required'>>): ToolSummary[] {
  return tools.map((tool) => ({
    name: tool.name,
    title: tool.title,
    readOnly: tool.annotations.readOnlyHint,
    destructive: tool.annotations.destructiveHint,
    ...(taskTools[tool.name] ? { task: taskTools[tool.name] } : {}),
  }));
}
