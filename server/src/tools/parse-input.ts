import type { z } from 'zod';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { fieldDescription } from '#server/composer/validator/field-docs.ts';
import { mapZodIssues } from '#server/composer/validator/zod-issues.ts';
import { ToolError } from './tool-definition.ts';

/**
 * Parses tool input with its schema (handlers may be called directly, without the transport's own check) and throws
 * an INVALID_INPUT ToolError listing every problem with its path and fix.
 */
export function parseToolInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const parsed = schema.safeParse(input, { reportInput: true });
  if (parsed.success) return parsed.data;
  const problems = mapZodIssues(parsed.error.issues, [], (path) => fieldDescription(schema, path)).slice(0, 20);
  throw new ToolError(
    'INVALID_INPUT',
    `The arguments are invalid: ${problems.map((p) => `${p.path}: ${p.message}`).join(' ')}`,
    problems.map((p) => p.fix).filter((fix, i, all) => all.indexOf(fix) === i).join(' '),
    { details: { problems } },
  );
}

/** A successful result: a short text summary for the model and the structured content for programs. */
export function structuredResult(summary: string, structured: Record<string, unknown>): CallToolResult {
  return { content: [{ type: 'text', text: summary }], structuredContent: structured };
}
