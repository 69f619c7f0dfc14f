/** Summary statistics of a set of samples (milliseconds unless said otherwise). */
export interface Summary {
  n: number;
  min: number;
  mean: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** The `p`-th percentile (0..100) by nearest rank of `samples`; NaN for none. Pure. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = samples.toSorted((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

/** The median of `samples`. */
export function median(samples: readonly number[]): number {
  return percentile(samples, 50);
}

/** n, min, mean, p50, p95, p99, max of `samples`. Pure. */
export function summarize(samples: readonly number[]): Summary {
  const n = samples.length;
  return {
    n,
    min: n === 0 ? Number.NaN : Math.min(...samples),
    mean: n === 0 ? Number.NaN : samples.reduce((a, b) => a + b, 0) / n,
    p50: percentile(samples, 50),
    p95: percentile(samples, 95),
    p99: percentile(samples, 99),
    max: n === 0 ? Number.NaN : Math.max(...samples),
  };
}

/** `a / b`, NaN when `b` is 0. */
export function ratio(a: number, b: number): number {
  return b === 0 ? Number.NaN : a / b;
}

/**
 * The median of the per-round ratios `a[i] / b[i]` (calls of the same round, made one after the other, share the
 * machine's load) with their interquartile range, as `0.95x (0.88-1.02)`. Pure.
 */
export function pairedRatio(a: readonly number[], b: readonly number[]): string {
  const ratios = a.slice(0, b.length).map((x, i) => x / b[i]!);
  if (ratios.length === 0) return '-';
  return `${fmt(percentile(ratios, 50))}x (${fmt(percentile(ratios, 25))}-${fmt(percentile(ratios, 75))})`;
}

/** A number for a table: integers as they are, else up to 2 decimals below 10, 1 below 100, none above. */
export function fmt(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value)) return String(value);
  const abs = Math.abs(value);
  return value.toFixed(abs < 10 ? 2 : abs < 100 ? 1 : 0);
}

/** One table of a benchmark report. */
export interface BenchTable {
  title: string;
  columns: string[];
  rows: Array<Array<string | number>>;
}

/** A target a benchmark checks (printed as met or missed). */
export interface TargetCheck {
  name: string;
  /** What was measured, formatted. */
  measured: string;
  /** The target, formatted (e.g. "≤ 5 ms"). */
  target: string;
  met: boolean;
}

/** What a bench module's `run()` returns: tables, targets and notes (e.g. how busy the cores were). */
export interface BenchReport {
  tables: BenchTable[];
  targets?: TargetCheck[];
  notes?: string[];
}

/** Renders `table` as aligned plain text (numbers right-aligned). Pure. */
export function renderTable(table: BenchTable): string {
  const cells = table.rows.map((row) => row.map((c) => (typeof c === 'number' ? fmt(c) : c)));
  const widths = table.columns.map((col, i) => Math.max(col.length, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (values: string[], numeric: boolean[]) =>
    values.map((v, i) => (numeric[i] ? v.padStart(widths[i]!) : v.padEnd(widths[i]!))).join('  ').trimEnd();
  const numericCols = table.columns.map((_, i) => table.rows.length > 0 && table.rows.every((r) => typeof r[i] === 'number'));
  return [
    `## ${table.title}`,
    line(table.columns, numericCols),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...cells.map((r) => line(r, numericCols)),
  ].join('\n');
}

/** Renders the target checks as a table. */
export function renderTargets(targets: readonly TargetCheck[]): string {
  return renderTable({
    title: 'Targets',
    columns: ['target', 'measured', 'wanted', 'result'],
    rows: targets.map((t) => [t.name, t.measured, t.target, t.met ? 'met' : 'MISSED']),
  });
}
