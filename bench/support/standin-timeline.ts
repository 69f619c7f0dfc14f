/**
 * Where a call's time went as the Composer stand-in saw it, for any client (ours or the peer, whose insides we do not
 * log): when its sign-in check and its read reached the API, and when the app reported the lesson rendered (its
 * beacon's own clock), relative to the call's start; and whether the call ended before the lesson was rendered (its
 * picture then is not the lesson). Pure: fed the stand-in's records and the calls' windows (epoch ms).
 */
import { summarize, type BenchTable } from './stats.ts';

/** One timed call: its side, its view and its window (epoch ms, performance.timeOrigin + performance.now()). */
export interface CallWindow {
  side: 'ours' | 'peer';
  view: 'editor' | 'embed';
  uid: string;
  start: number;
  end: number;
}

/** What the stand-in recorded that the timeline reads. */
export interface StandinRecords {
  apiRequests: ReadonlyArray<{ method: string; path: string; query: string; at: number }>;
  renders: ReadonlyArray<{ uid: string; view: 'editor' | 'embed'; finishedAt: number }>;
}

/** The moments of one call, ms since its start (undefined: not seen within the call). */
export interface CallMoments {
  signIn: number | undefined;
  read: number | undefined;
  rendered: number | undefined;
  end: number;
}

/** The moments of `call` among `records` (the first of each kind within its window). */
export function momentsOf(call: CallWindow, records: StandinRecords): CallMoments {
  const within = (at: number) => at >= call.start && at <= call.end;
  const first = (values: number[]) => (values.length === 0 ? undefined : Math.min(...values) - call.start);
  const api = records.apiRequests.filter((r) => r.method === 'GET' && within(r.at));
  return {
    signIn: first(api.filter((r) => r.path === '/auth/v1.0/user/me').map((r) => r.at)),
    read: first(api.filter((r) => r.path === '/storage/v1.0/content' && new URLSearchParams(r.query).get('uid') === call.uid).map((r) => r.at)),
    rendered: first(records.renders.filter((r) => r.uid === call.uid && r.view === call.view && within(r.finishedAt)).map((r) => r.finishedAt)),
    end: call.end - call.start,
  };
}

/** The table of one scenario's calls of one view: p50 and p95 of each moment per side, and calls ended before the render. */
export function timelineTable(title: string, calls: readonly CallWindow[], records: StandinRecords): BenchTable {
  const rows: Array<Array<string | number>> = [];
  for (const side of ['ours', 'peer'] as const) {
    const moments = calls.filter((c) => c.side === side).map((c) => momentsOf(c, records));
    const row = (name: string, values: Array<number | undefined>) => {
      const seen = values.filter((v): v is number => v !== undefined);
      const s = seen.length > 0 ? summarize(seen) : undefined;
      rows.push([`${side}: ${name}`, `${seen.length}/${values.length}`, s?.p50 ?? '-', s?.p95 ?? '-']);
    };
    row(side === 'ours' ? 'sign-in check at the API (the server\'s prefetch)' : 'sign-in check at the API', moments.map((m) => m.signIn));
    row(side === 'ours' ? 'read at the API (the server\'s prefetch)' : 'read at the API', moments.map((m) => m.read));
    row('lesson rendered (the app\'s report) before the end', moments.map((m) => m.rendered));
    row('end of the call (picture in hand)', moments.map((m) => m.end));
  }
  return { title, columns: ['moment since the call began', 'seen', 'p50 ms', 'p95 ms'], rows };
}
