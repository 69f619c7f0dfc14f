import type { z } from 'zod';
import type { CallToolResult } from '@modelcontextprotocol/server';
import { fieldDescription } from '#server/composer/validator/field-docs.ts';
import { mapZodIssues } from '#server/composer/validator/zod-issues.ts';
import { ToolError } from './tool-definition.ts';

/** Values the transport already parsed, by the schema that parsed them (so a handler's own parse is not a second one). */
const parsedBy = new WeakMap<object, z.ZodType>();

/** Records that `value` is the output of parsing with `schema` (the transport calls this after its single parse). */
export function markParsedInput(schema: z.ZodType, value: unknown): void {
  if (typeof value === 'object' && value !== null) parsedBy.set(value, schema);
}

/**
 * Parses tool input with its schema and throws an INVALID_INPUT ToolError listing every problem with its path and fix.
 * Input the transport already parsed with this same schema is returned as it is (no second parse); anything else
 * (a handler called directly, e.g. by a test) is parsed here.
 */
export function parseToolInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  if (typeof input === 'object' && input !== null && parsedBy.get(input) === schema) return input as z.output<S>;
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
