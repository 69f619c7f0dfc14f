import { EventEmitter } from 'node:events';
import type { Readable, Writable } from 'node:stream';

/**
 * Splits a byte stream into NUL-terminated frames (Chromium's `--remote-debugging-pipe` framing: one JSON message,
 * then a 0 byte). Only each new chunk is scanned, so a large message costs one pass over its bytes. A frame longer
 * than `maxFrameBytes` is not assembled: `onOversized` gets its first and last bytes (to route an error answer) and
 * its length, and the bytes in between are dropped as they arrive.
 */
export class NulFrameReader {
  private chunks: Buffer[] = [];
  private size = 0;
  private head: Buffer | undefined;
  private tail = Buffer.alloc(0);
  private readonly maxFrameBytes: number;
  private readonly onFrame: (frame: Buffer) => void;
  private readonly onOversized: (head: Buffer, tail: Buffer, length: number) => void;

  constructor(options: { maxFrameBytes: number; onFrame: (frame: Buffer) => void; onOversized: (head: Buffer, tail: Buffer, length: number) => void }) {
    this.maxFrameBytes = options.maxFrameBytes;
    this.onFrame = options.onFrame;
    this.onOversized = options.onOversized;
  }

  /** Feeds bytes read from the pipe. */
  push(chunk: Buffer): void {
    let start = 0;
    for (;;) {
      const nul = chunk.indexOf(0, start);
      const end = nul === -1 ? chunk.length : nul;
      this.append(chunk.subarray(start, end));
      if (nul === -1) return;
      this.finishFrame();
      start = nul + 1;
    }
  }

  private append(part: Buffer): void {
    if (part.length === 0) return;
    if (this.head !== undefined) {
      this.size += part.length;
      this.tail = Buffer.concat([this.tail, part]).subarray(-TAIL_BYTES);
      return;
    }
    this.size += part.length;
    this.chunks.push(part);
    if (this.size > this.maxFrameBytes) {
      const all = Buffer.concat(this.chunks);
      this.head = Buffer.from(all.subarray(0, HEAD_BYTES));
      this.tail = Buffer.from(all.subarray(-TAIL_BYTES));
      this.chunks = [];
    }
  }

  private finishFrame(): void {
    if (this.head !== undefined) {
      const head = this.head;
      const tail = this.tail;
      const length = this.size;
      this.reset();
      this.onOversized(head, tail, length);
      return;
    }
    if (this.size === 0) return;
    const frame = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.size);
    this.reset();
    this.onFrame(frame);
  }

  private reset(): void {
    this.chunks = [];
    this.size = 0;
    this.head = undefined;
    this.tail = Buffer.alloc(0);
  }
}

const HEAD_BYTES = 64;
const TAIL_BYTES = 256;

/** Events of a {@link PipeTransport}. */
export interface PipeTransportEvents {
  /** One message from Chromium (its JSON text). */
  message: [text: string];
  /** A message longer than the limit was dropped: its first and last bytes, and its length. */
  oversized: [head: string, tail: string, length: number];
  /** Writing is possible again after {@link PipeTransport.send} returned false. */
  drain: [];
  /** The pipe closed (Chromium exited or closed its end); `reason` says how. Emitted once. */
  close: [reason: string];
}

/**
 * Chromium's DevTools pipe: messages to fd 3 of the browser, messages from its fd 4, each a JSON text ended by a
 * NUL byte. `send` returns false when the pipe's buffer is over its high-water mark (wait for `drain`); a write
 * or read error, or either end closing, emits `close` once and later sends are dropped.
 */
export class PipeTransport extends EventEmitter<PipeTransportEvents> {
  private readonly out: Writable;
  private readonly reader: NulFrameReader;
  private closedReason: string | undefined;

  constructor(toBrowser: Writable, fromBrowser: Readable, options: { maxMessageBytes?: number } = {}) {
    super();
    this.out = toBrowser;
    this.reader = new NulFrameReader({
      maxFrameBytes: options.maxMessageBytes ?? 256 * 1024 * 1024,
      onFrame: (frame) => this.emit('message', frame.toString('utf8')),
      onOversized: (head, tail, length) => this.emit('oversized', head.toString('utf8'), tail.toString('utf8'), length),
    });
    fromBrowser.on('data', (chunk: Buffer) => this.reader.push(chunk));
    fromBrowser.on('end', () => this.closeWith('Chromium closed its end of the DevTools pipe'));
    fromBrowser.on('close', () => this.closeWith('Chromium closed its end of the DevTools pipe'));
    fromBrowser.on('error', (error) => this.closeWith(`reading the DevTools pipe failed: ${error.message}`));
    toBrowser.on('error', (error) => this.closeWith(`writing the DevTools pipe failed: ${error.message}`));
    toBrowser.on('close', () => this.closeWith('the DevTools pipe to Chromium closed'));
    toBrowser.on('drain', () => this.emit('drain'));
  }

  /** Why the pipe closed, or undefined while open. */
  get closed(): string | undefined {
    return this.closedReason;
  }

  /** True when the last send went over the high-water mark and `drain` has not been emitted yet. */
  get congested(): boolean {
    return this.out.writableNeedDrain;
  }

  /** Sends one message; returns false when the caller should wait for `drain` before sending more. */
  send(text: string): boolean {
    if (this.closedReason !== undefined) return false;
    return this.out.write(`${text}\0`);
  }

  /** Closes our end (Chromium exits when its pipe closes). */
  close(): void {
    this.out.end();
    this.closeWith('closed by the gateway');
  }

  private closeWith(reason: string): void {
    if (this.closedReason !== undefined) return;
    this.closedReason = reason;
    this.emit('close', reason);
  }
}
