import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';

/**
 * A new opaque composition uid shaped like the platform's (base64 of a gzip stream, so it starts `H4sI`).
 * It uses the standard base64 alphabet (`+`, `/`, `=`), so clients that forget to encode it in URLs break here too.
 */
export function newCompositionUid(): string {
  return gzipSync(Buffer.from(randomUUID())).toString('base64');
}
