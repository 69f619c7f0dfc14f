/**
 * Reading and rewriting the routing fields of CDP messages (`id`, `method`, `sessionId`) without parsing large
 * bodies. Chromium writes answers as `{"id":N,...,"sessionId":"S"}` and events as `{"method":"M",...,"sessionId":"S"}`
 * with `sessionId` last; a top-level `sessionId` is the only way the text can end in `"sessionId":"S"}` (a nested
 * one is followed by at least one more `}`). When the text does not have that shape, callers parse it. Pure.
 */

/** Frames shorter than this are simply parsed. */
export const FAST_PATH_MIN_CHARS = 32 * 1024;

const ANSWER_HEAD = /^\{"id":(\d{1,15}),/;
const EVENT_HEAD = /^\{"method":"([A-Za-z0-9_.]{1,128})",/;
const SESSION_TAIL = /,"sessionId":"([0-9A-Za-z_-]{1,128})"\}$/;

/** The routing fields of a message read from its head and tail. */
export interface FrameRouting {
  kind: 'answer' | 'event';
  /** The answer's id. */
  id?: number;
  /** The event's method. */
  method?: string;
  sessionId?: string;
  /** Index where the body after the head starts. */
  bodyStart: number;
  /** Index where the `,"sessionId":...}` tail (or the closing `}`) starts. */
  bodyEnd: number;
}

/** Reads the routing fields of a large frame; undefined when the frame does not have the expected shape. */
export function peekRouting(text: string): FrameRouting | undefined {
  if (!text.endsWith('}')) return undefined;
  const headText = text.slice(0, 160);
  const tailText = text.slice(-200);
  const tail = SESSION_TAIL.exec(tailText);
  const bodyEnd = tail ? text.length - tail[0].length : text.length - 1;
  const answer = ANSWER_HEAD.exec(headText);
  if (answer) {
    return { kind: 'answer', id: Number(answer[1]), ...(tail ? { sessionId: tail[1]! } : {}), bodyStart: answer[0].length, bodyEnd };
  }
  const event = EVENT_HEAD.exec(headText);
  if (event) {
    return { kind: 'event', method: event[1]!, ...(tail ? { sessionId: tail[1]! } : {}), bodyStart: 1, bodyEnd };
  }
  return undefined;
}

/**
 * Rebuilds a frame read with {@link peekRouting}: the answer's id replaced by `id`, and the `sessionId` kept
 * (`sessionId` given) or dropped (undefined).
 */
export function rewriteFrame(text: string, routing: FrameRouting, id: number | undefined, sessionId: string | undefined): string {
  const head = routing.kind === 'answer' ? `{"id":${String(id)},` : '{';
  const body = text.slice(routing.bodyStart, routing.bodyEnd);
  const tail = sessionId === undefined ? '}' : `,"sessionId":${JSON.stringify(sessionId)}}`;
  return head + body + tail;
}
