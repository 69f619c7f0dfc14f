import type { CallToolResult } from '@modelcontextprotocol/server';
import type { SecretRedactor } from '#common/redaction.ts';

/**
 * Content fields that hold binary data as base64 (an image's or audio's `data`, an embedded resource's `blob`):
 * left as they are, since replacing text inside base64 would corrupt the file without removing anything (a secret
 * inside a PNG or a compressed PDF is not there as text). What a page renders is kept free of secrets upstream of
 * this: the browser never holds a real credential.
 */
const BINARY_FIELDS = new Set(['data', 'blob']);

function isBinaryContent(node: Record<string, unknown>): boolean {
  return node['type'] === 'image' || node['type'] === 'audio' || typeof node['blob'] === 'string';
}

function redactNode(value: unknown, redactor: SecretRedactor, seen: WeakSet<object>): unknown {
  if (typeof value === 'string') return redactor.redactString(value);
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return '[Circular]';
  seen.add(value);
  if (Array.isArray(value)) return value.map((v) => redactNode(v, redactor, seen));
  const node = value as Record<string, unknown>;
  const binary = isBinaryContent(node);
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(node)) out[key] = binary && BINARY_FIELDS.has(key) ? v : redactNode(v, redactor, seen);
  return out;
}

/**
 * A copy of a tool result with every known secret (and its URL-encoded and base64 forms, and `Bearer …` values)
 * replaced by `[REDACTED]` in every string of its text content, `structuredContent` and `_meta`. Values are
 * redacted, keys are not: a result's fields are named by its output schema, and a value replaced under a
 * secret-sounding key would break that schema. Binary payloads (image/audio `data`, resource `blob`) pass
 * unchanged. Pure.
 */
export function redactToolResult(result: CallToolResult, redactor: SecretRedactor): CallToolResult {
  return redactNode(result, redactor, new WeakSet()) as CallToolResult;
}
