import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';

/** Headers as `writeHead` takes them: an object, or a flat `[name, value, …]` / nested `[[name, value], …]` array. */
export type WriteHeadHeaders = OutgoingHttpHeaders | ReadonlyArray<string | number | readonly string[]> | ReadonlyArray<readonly [string, string | number | readonly string[]]>;

/**
 * The same headers with `Connection: close` in place of whatever Connection header they carried (any case). Pure.
 * A handler that passes `Connection: keep-alive` to `writeHead` (an event stream does) would otherwise win over a
 * `setHeader('Connection', 'close')` made before.
 */
export function withConnectionClose(headers: WriteHeadHeaders): WriteHeadHeaders {
  if (!Array.isArray(headers)) {
    const out: OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(headers as OutgoingHttpHeaders)) if (name.toLowerCase() !== 'connection') out[name] = value;
    out['connection'] = 'close';
    return out;
  }
  if (headers.length > 0 && Array.isArray(headers[0])) {
    const pairs = (headers as ReadonlyArray<readonly [string, string | number | readonly string[]]>).filter(([name]) => String(name).toLowerCase() !== 'connection');
    return [...pairs, ['connection', 'close']];
  }
  const flat: Array<string | number | readonly string[]> = [];
  for (let i = 0; i + 1 < headers.length; i += 2) {
    if (String(headers[i]).toLowerCase() !== 'connection') flat.push(headers[i] as string, headers[i + 1] as string);
  }
  flat.push('connection', 'close');
  return flat;
}

/**
 * Makes every answer of `res` whose headers are written while `closing()` holds carry `Connection: close`, whatever
 * the handler passes to `writeHead`, so Node ends the connection once the answer is sent and the client's next
 * request opens a new one. Answers whose headers went out before keep their connection; the next request on it is
 * answered this way.
 */
export function closeConnectionWhen(res: ServerResponse, closing: () => boolean): void {
  const writeHead = res.writeHead;
  res.writeHead = function (this: ServerResponse, ...args: unknown[]) {
    if (closing() && !this.headersSent) {
      this.setHeader('Connection', 'close');
      const last = args.length - 1;
      if (last >= 1 && typeof args[last] === 'object' && args[last] !== null) args[last] = withConnectionClose(args[last] as WriteHeadHeaders);
    }
    return (writeHead as (...a: unknown[]) => ServerResponse).apply(this, args);
  } as typeof res.writeHead;
}
