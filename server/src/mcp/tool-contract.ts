import type { StandardSchemaWithJSON } from '@modelcontextprotocol/server';
import type { z } from 'zod';
import { markParsedInput } from '#server/tools/parse-input.ts';
import type { ToolDefinition } from '#server/tools/tool-definition.ts';

/** A problem with one argument, as zod reports it. */
export interface InputIssue {
  path: ReadonlyArray<PropertyKey>;
  message: string;
}

/**
 * What the SDK hands a tool callback: the arguments parsed by the tool's input schema, or the problems that kept them
 * from parsing. A parse failure is data, not a refusal, so the call still reaches the tool layer and is answered with
 * INVALID_INPUT (code, message, fix), audited and counted like every other call.
 */
export type ParsedToolInput = { valid: true; value: unknown } | { valid: false; issues: readonly InputIssue[] };

/** The JSON Schema dialect tools are published in. */
export const JSON_SCHEMA_DIALECT = 'draft-2020-12';

/** The schemas a tool is registered with on every per-request server: built once per tool and process. */
export interface ToolContract {
  /** Parses the arguments once (the handler gets the parsed value) and never refuses them (see ParsedToolInput). */
  input: StandardSchemaWithJSON<unknown, ParsedToolInput>;
  /** The output schema; structured content the tool layer already checked is not checked a second time. */
  output: StandardSchemaWithJSON | undefined;
  /** The published JSON Schemas (2020-12), converted once. */
  inputJsonSchema: Record<string, unknown>;
  outputJsonSchema: Record<string, unknown> | undefined;
}

/** Structured contents the tool layer has validated against their tool's output schema. */
const checkedOutputs = new WeakSet<object>();

/** Records that `structuredContent` passed its tool's output schema (so the SDK's own check of it is not a second parse). */
export function markCheckedOutput(structuredContent: unknown): void {
  if (typeof structuredContent === 'object' && structuredContent !== null) checkedOutputs.add(structuredContent);
}

/** The JSON Schema (2020-12) of a zod schema, as `tools/list` publishes it. */
export function jsonSchemaOf(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  return schema['~standard'].jsonSchema[io]({ target: JSON_SCHEMA_DIALECT });
}

function inputContract(schema: z.ZodType, json: Record<string, unknown>): StandardSchemaWithJSON<unknown, ParsedToolInput> {
  return {
    '~standard': {
      version: 1,
      vendor: 'composer-mcp',
      validate: async (value: unknown) => {
        const parsed = await schema.safeParseAsync(value ?? {});
        if (!parsed.success) return { value: { valid: false, issues: parsed.error.issues } };
        markParsedInput(schema, parsed.data);
        return { value: { valid: true, value: parsed.data } };
      },
      jsonSchema: { input: () => json, output: () => json },
    },
  };
}

function outputContract(schema: z.ZodType, json: Record<string, unknown>): StandardSchemaWithJSON {
  return {
    '~standard': {
      version: 1,
      vendor: 'composer-mcp',
      validate: async (value: unknown) => {
        if (typeof value === 'object' && value !== null && checkedOutputs.has(value)) return { value };
        const parsed = await schema.safeParseAsync(value);
        return parsed.success ? { value: parsed.data } : { issues: parsed.error.issues.map((i) => ({ message: i.message, path: i.path })) };
      },
      jsonSchema: { input: () => json, output: () => json },
    },
  };
}

const contracts = new WeakMap<object, ToolContract>();

/** The registration contract of a tool (memoised per ToolDefinition). */
export function toolContract<S>(tool: ToolDefinition<S>): ToolContract {
  let contract = contracts.get(tool);
  if (!contract) {
    const inputJsonSchema = jsonSchemaOf(tool.inputSchema, 'input');
    const outputJsonSchema = tool.outputSchema ? jsonSchemaOf(tool.outputSchema, 'output') : undefined;
    contract = {
      input: inputContract(tool.inputSchema, inputJsonSchema),
      output: tool.outputSchema && outputJsonSchema ? outputContract(tool.outputSchema, outputJsonSchema) : undefined,
      inputJsonSchema,
      outputJsonSchema,
    };
    contracts.set(tool, contract);
  }
  return contract;
}

/** Parses arguments the way the registered contract does (for callers outside the SDK, like tests and the task runner). */
export async function parseToolArguments<S>(tool: ToolDefinition<S>, args: unknown): Promise<ParsedToolInput> {
  const result = await toolContract(tool).input['~standard'].validate(args ?? {});
  if ('value' in result && result.value) return result.value;
  throw new Error(`the input contract of ${tool.name} refused its arguments`);
}
