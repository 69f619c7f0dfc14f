/** One render of a composition the stand-in app reported finishing (its beacon to the API origin). */
export interface RenderRecord {
  uid: string;
  view: 'editor' | 'embed';
  /** Which app rendered it (see StandinRender.app). */
  app: string;
  /** When the app had the lesson in the DOM and a frame had been produced (epoch ms, sub-millisecond, browser clock). */
  finishedAt: number;
  /** Widgets the app put on the page, and how many the document has (fewer: a partial render). */
  widgetsRendered: number;
  widgetsTotal: number;
  /** When the stand-in received the report (epoch ms). */
  receivedAt: number;
}

/** Parses a render report sent by the app; undefined when it is not one. */
export function parseRenderReport(text: string, receivedAt: number): RenderRecord | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const r = value as Partial<Record<keyof RenderRecord, unknown>> | null;
  if (r === null || typeof r !== 'object') return undefined;
  if (typeof r.uid !== 'string' || (r.view !== 'editor' && r.view !== 'embed') || typeof r.app !== 'string') return undefined;
  if (typeof r.finishedAt !== 'number' || typeof r.widgetsRendered !== 'number' || typeof r.widgetsTotal !== 'number') return undefined;
  return { uid: r.uid, view: r.view, app: r.app, finishedAt: r.finishedAt, widgetsRendered: r.widgetsRendered, widgetsTotal: r.widgetsTotal, receivedAt };
}

/** The renders reported so far, oldest first (bounded: the oldest are dropped past `max`). */
export class RenderLog {
  private readonly records: RenderRecord[] = [];
  private readonly waiters = new Set<() => void>();
  private readonly max: number;

  constructor(max = 10_000) {
    this.max = max;
  }

  add(record: RenderRecord): void {
    this.records.push(record);
    if (this.records.length > this.max) this.records.shift();
    for (const wake of this.waiters) wake();
  }

  list(): RenderRecord[] {
    return [...this.records];
  }

  /** Resolves the first render of `uid` reported after `since` (epoch ms), or undefined after `timeoutMs`. */
  async waitFor(uid: string, since: number, timeoutMs: number): Promise<RenderRecord | undefined> {
    const find = () => this.records.find((r) => r.uid === uid && r.receivedAt >= since);
    const deadline = Date.now() + timeoutMs;
    for (let found = find(); ; found = find()) {
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) return undefined;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, left);
        function done(): void {
          clearTimeout(timer);
          waiters.delete(done);
          resolve();
        }
        const waiters = this.waiters;
        waiters.add(done);
      });
    }
  }
}
