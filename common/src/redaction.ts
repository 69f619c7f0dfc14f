import { encodedForms } from './secret-encodings.ts';

/** Key names whose values are secrets wherever they appear in a log record. */
const SECRET_KEY_PATTERN = /(token|secret|password|passwd|authorization|api[-_]?key|project[-_]?key|cookie|credential|private[-_]?key|bearer)/i;

/** What a redacted value is replaced with. */
export const REDACTED = '[REDACTED]';

/**
 * Holds the known secret values (from configuration) and removes them, and values under secret-looking keys,
 * from anything about to be logged. Each secret is registered with its encoded forms too (URL-encoded, base64 and
 * base64url at every alignment), so a secret a page or an upstream packed into a URL is still caught. Values
 * shorter than 6 characters are not registered (they would match noise).
 */
export class SecretRedactor {
  private readonly values = new Set<string>();

  /** Adds a secret value and its encoded forms; every later log line has them replaced, wherever they appear. */
  add(value: string | undefined | null): void {
    if (typeof value !== 'string' || value.length < 6 || this.values.has(value)) return;
    this.values.add(value);
    for (const form of encodedForms(value)) this.values.add(form);
    // A JWT's signature is what makes it a credential: caught on its own too (header and claims are not secret).
    const segments = value.split('.');
    if (segments.length === 3 && segments[2]!.length >= 16) this.add(segments[2]);
    // Longest first, so a form that contains another is replaced whole.
    const sorted = [...this.values].toSorted((a, b) => b.length - a.length);
    this.values.clear();
    for (const v of sorted) this.values.add(v);
  }

  /** True when `key` names a field whose value must never be logged. */
  isSecretKey(key: string): boolean {
    return SECRET_KEY_PATTERN.test(key);
  }

  /** Replaces every known secret value inside `text`. */
  redactString(text: string): string {
    let out = text;
    for (const v of this.values) if (out.includes(v)) out = out.split(v).join(REDACTED);
    return out.replace(/(Bearer\s+)[A-Za-z0-9._~+/=-]{8,}/g, `$1${REDACTED}`);
  }

  /** A deep copy of `value` with secret keys and known secret values redacted; cycles are cut. */
  redact(value: unknown, seen = new WeakSet<object>()): unknown {
    if (typeof value === 'string') return this.redactString(value);
    if (value === null || typeof value !== 'object') return value;
    if (seen.has(value)) return '[Circular]';
    seen.add(value);
    if (value instanceof Error) {
      return { name: value.name, message: this.redactString(value.message), stack: value.stack ? this.redactString(value.stack) : undefined };
    }
    if (Array.isArray(value)) return value.map((v) => this.redact(v, seen));
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = this.isSecretKey(k) && v !== undefined && v !== null && v !== '' ? REDACTED : this.redact(v, seen);
    }
    return out;
  }
}

/** The process-wide redactor the default loggers use. Configuration registers its secret values here at load. */
export const secretRedactor = new SecretRedactor();
