import type { Writable } from 'node:stream';
import { trace } from '@opentelemetry/api';
import winston from 'winston';
import { currentLogContext } from './log-context.ts';
import { secretRedactor, type SecretRedactor } from './redaction.ts';

/** The logger every component uses: winston, with the component name, context fields and redaction applied. */
export type Logger = winston.Logger;

/** How a logger is built. */
export interface LoggerOptions {
  /** Component name written as `component` on every line (e.g. "server", "operator", "gateway"). */
  component: string;
  /** Minimum level; default from LOG_LEVEL or "info". */
  level?: string;
  /** "json" (one JSON object per line), "pretty" (readable), or "auto" (pretty on a TTY, else JSON). Default "auto". */
  format?: 'json' | 'pretty' | 'auto';
  /** Where lines go; default stderr (stdout is reserved for the MCP stdio transport). */
  stream?: Writable;
  /** Redactor to apply; default the process-wide one. */
  redactor?: SecretRedactor;
}

const redactFormat = winston.format((info, rawOpts: unknown) => {
  const opts = rawOpts as { redactor: SecretRedactor };
  const context = currentLogContext();
  const span = trace.getActiveSpan()?.spanContext();
  const traceFields = span && span.traceId !== '00000000000000000000000000000000' ? { traceId: span.traceId, spanId: span.spanId } : {};
  const merged: Record<string, unknown> = { ...traceFields, ...context, ...info };
  const redacted = opts.redactor.redact(merged) as Record<string, unknown>;
  for (const key of Object.keys(redacted)) (info as Record<string, unknown>)[key] = redacted[key];
  if (typeof info.message === 'string') info.message = opts.redactor.redactString(info.message);
  return info;
});

/**
 * Creates a logger. Every line carries `component`, the AsyncLocalStorage context fields, the active trace and span
 * ids, and no secrets (keys that name secrets and every registered secret value are replaced by [REDACTED]).
 */
export function createLogger(options: LoggerOptions): Logger {
  const stream = options.stream ?? process.stderr;
  const mode = options.format ?? (process.env['LOG_FORMAT'] as LoggerOptions['format']) ?? 'auto';
  const pretty = mode === 'pretty' || (mode === 'auto' && (stream as { isTTY?: boolean }).isTTY === true);
  const redactor = options.redactor ?? secretRedactor;
  const base = [winston.format.errors({ stack: true }), redactFormat({ redactor }), winston.format.timestamp()];
  const format = pretty
    ? winston.format.combine(...base, winston.format.colorize(), winston.format.printf((info) => {
        const { level, message, timestamp, component, ...rest } = info as Record<string, unknown>;
        const fields = Object.keys(rest).length ? ` ${JSON.stringify(rest)}` : '';
        return `${String(timestamp)} ${String(level)} [${String(component)}] ${String(message)}${fields}`;
      }))
    : winston.format.combine(...base, winston.format.json());
  return winston.createLogger({
    level: options.level ?? process.env['LOG_LEVEL'] ?? 'info',
    defaultMeta: { component: options.component },
    format,
    transports: [new winston.transports.Stream({ stream })],
  });
}
