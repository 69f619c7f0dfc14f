/**
 * The server's per-call "Visit phases" debug log lines (server/src/composer/session/visit-phases.ts), collected from
 * its stderr and summarised: the median moment of each named mark (ms since the call's browser work began) and the
 * median of each summed duration, per view. Used by the benchmarks with BENCH_PHASES=1 (the server then logs at debug).
 */
import { summarize, type BenchTable } from './stats.ts';

/** One call's phases as logged. */
export interface LoggedPhases {
  view: string;
  at: Record<string, number>;
  spent: Record<string, number>;
  count: Record<string, number>;
}

/** Collects the phase lines of a server's log; `take()` returns those seen since the last take. */
export class PhaseLog {
  private pending: LoggedPhases[] = [];

  /** Feed one stderr line (others are ignored). */
  readonly onLine = (line: string): void => {
    if (!line.includes('"Visit phases"')) return;
    try {
      const parsed = JSON.parse(line) as Partial<LoggedPhases>;
      if (typeof parsed.view === 'string' && parsed.at && parsed.spent) this.pending.push({ view: parsed.view, at: parsed.at, spent: parsed.spent, count: parsed.count ?? {} });
    } catch {
      // not a JSON line
    }
  };

  take(): LoggedPhases[] {
    const out = this.pending;
    this.pending = [];
    return out;
  }
}

/** The table of one set of calls: each mark's and each duration's p50 / p95 over the calls that have it. */
export function phaseTable(title: string, calls: readonly LoggedPhases[], extra: Record<string, number[]> = {}): BenchTable {
  const marks = new Map<string, number[]>();
  const spans = new Map<string, number[]>();
  const counts = new Map<string, number[]>();
  for (const call of calls) {
    for (const [name, ms] of Object.entries(call.at)) marks.set(name, [...(marks.get(name) ?? []), ms]);
    for (const [name, ms] of Object.entries(call.spent)) spans.set(name, [...(spans.get(name) ?? []), ms]);
    for (const [name, n] of Object.entries(call.count)) counts.set(name, [...(counts.get(name) ?? []), n]);
  }
  const byP50 = (a: [string, number[]], b: [string, number[]]) => summarize(a[1]).p50 - summarize(b[1]).p50;
  const rows: Array<Array<string | number>> = [];
  for (const [name, values] of [...marks].toSorted(byP50)) rows.push([`at ${name}`, values.length, summarize(values).p50, summarize(values).p95, '']);
  for (const [name, values] of [...spans].toSorted(byP50)) rows.push([`spent ${name}`, values.length, summarize(values).p50, summarize(values).p95, summarize(counts.get(name) ?? [0]).p50]);
  for (const [name, values] of Object.entries(extra)) rows.push([name, values.length, summarize(values).p50, summarize(values).p95, '']);
  return { title, columns: ['phase', 'n', 'p50 ms', 'p95 ms', 'count p50'], rows };
}
